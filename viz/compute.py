"""Pure numpy computations shared by several pages: softmax, attention from Q/K/V, cosine similarity."""

from __future__ import annotations

import numpy as np

from viz.analysis import QKV


def softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax; rows that are entirely -inf come back as zeros."""
    scores = np.asarray(scores, dtype=np.float64)
    top = np.max(scores, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exp = np.exp(scores - top)
    total = exp.sum(axis=axis, keepdims=True)
    return np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)


def attention_scores(qkv: QKV) -> np.ndarray:
    """Scaled, masked scores q·k * scale + mask, shape (H, T, T)."""
    raw = np.einsum("htd,hsd->hts", qkv.queries.astype(np.float64), qkv.keys.astype(np.float64))
    return raw * qkv.scale + qkv.mask[None]


def attention_from_qkv(qkv: QKV) -> np.ndarray:
    """softmax(QKᵀ * scale + mask), shape (H, T, T): what the model's own attention weights must equal."""
    return softmax(attention_scores(qkv), axis=-1)


def cosine_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity of every row of a (N, D) with every row of b (M, D), shape (N, M)."""
    a = np.asarray(a, dtype=np.float64)
    b = a if b is None else np.asarray(b, dtype=np.float64)
    a_norm = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b_norm = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return a_norm @ b_norm.T
