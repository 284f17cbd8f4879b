"""Pure numpy statistics of attention weights: head summaries, aggregations, word merging, token alignment.

Shapes: L layers, H heads, T tokens, W words, C aligned columns. Attention rows (the last axis) sum to 1.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from viz.figures.common import visible

SUMMARY_COLUMNS = {
    "entropy": "entropy (bits)",
    "special": "on special tokens",
    "first": "on first token",
    "previous": "on previous token",
    "self": "on itself",
    "distance": "mean distance (tokens)",
}
GUESS_OPTIONS = 8  # predict-then-reveal offers at most this many words (the most attended ones, in sentence order)
_PIECE = re.compile(r"^(.*)\((\d+)/(\d+)\)$")  # "吃(2/3)": one character split over several byte tokens


def entropy_bits(weights: np.ndarray) -> np.ndarray:
    """Entropy in bits of each attention row, -Σ p log2 p with 0 log 0 = 0; shape (..., T) -> (...)."""
    p = np.asarray(weights)
    p = p if p.dtype in (np.float32, np.float64) else p.astype(np.float64)
    logs = np.log2(np.where(p > 0, p, 1))
    return -np.einsum("...t,...t->...", p, logs)


def head_summary(attentions: np.ndarray, special: np.ndarray) -> dict[str, np.ndarray]:
    """Per-head averages over query tokens; attentions (L, H, T, T), special (T,) bool -> each value (L, H).

    entropy: bits per row; special/first/previous/self: share of each row's weight on special tokens, on
    token 0, on the token just before the query (queries 1..T-1), on the query itself; distance: Σ_j p_ij |i-j|.
    """
    n_layers, n_heads, n_tokens, _ = attentions.shape
    positions = np.arange(n_tokens)
    distance = np.abs(positions[:, None] - positions[None, :]).astype(np.float32)  # (T, T)
    special = np.asarray(special, dtype=np.float32)
    out = {name: np.zeros((n_layers, n_heads)) for name in SUMMARY_COLUMNS}
    for layer in range(n_layers):  # one layer at a time keeps temporaries small at 512 tokens
        p = np.asarray(attentions[layer], dtype=np.float32)  # (H, T, T)
        out["entropy"][layer] = entropy_bits(p).mean(-1)
        out["special"][layer] = (p @ special).mean(-1)
        out["first"][layer] = p[..., 0].mean(-1)
        out["previous"][layer] = p[:, positions[1:], positions[:-1]].mean(-1) if n_tokens > 1 else np.nan
        out["self"][layer] = p[:, positions, positions].mean(-1)
        out["distance"][layer] = np.einsum("hij,ij->h", p, distance) / n_tokens
    return out


def head_summary_table(attentions: np.ndarray, special: np.ndarray, *, decimals: int = 3) -> pd.DataFrame:
    """head_summary as one row per (layer, head), columns named for people; L*H rows."""
    summary = head_summary(attentions, special)
    n_layers, n_heads = attentions.shape[:2]
    layers, heads = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
    table = {"layer": layers.ravel(), "head": heads.ravel()}
    table.update({label: np.round(summary[name].ravel(), decimals) for name, label in SUMMARY_COLUMNS.items()})
    return pd.DataFrame(table)


def mean_over_heads(layer_attention: np.ndarray) -> np.ndarray:
    """Average of all heads of one layer: (H, T, T) -> (T, T); rows still sum to 1."""
    return np.asarray(layer_attention, dtype=np.float64).mean(axis=0).astype(np.float32)


def rollout(attentions: np.ndarray, *, residual: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): (L, H, T, T) -> (L, T, T), entry l = flow from input to layer l.

    Each layer is the head mean mixed with the identity for the residual stream, (1-r)·A + r·I, rows
    renormalised; rollout[l] = Â_l · Â_(l-1) · … · Â_0, so every row sums to 1.
    """
    n_layers, _, n_tokens, _ = attentions.shape
    identity = np.eye(n_tokens, dtype=np.float32)
    flow = identity
    out = np.empty((n_layers, n_tokens, n_tokens), dtype=np.float32)
    for layer in range(n_layers):
        mixed = (1 - residual) * np.asarray(attentions[layer], dtype=np.float32).mean(axis=0) + residual * identity
        mixed /= mixed.sum(axis=-1, keepdims=True)
        flow = mixed @ flow
        out[layer] = flow
    return out


def word_groups(word_ids: Sequence[int | None]) -> tuple[tuple[int, ...], ...]:
    """Token positions of each word: consecutive tokens with the same word id; None (special) stands alone."""
    groups: list[list[int]] = []
    previous: int | None = None
    for position, word in enumerate(word_ids):
        if word is not None and groups and word == previous:
            groups[-1].append(position)
        else:
            groups.append([position])
        previous = word
    return tuple(tuple(group) for group in groups)


def word_labels(tokens: Sequence[str], groups: Sequence[Sequence[int]]) -> list[str]:
    """Display text of each word: its pieces joined, WordPiece ## and repeated byte-piece markers dropped."""
    labels = []
    for group in groups:
        text = ""
        for position in group:
            piece = tokens[position]
            if text and piece.startswith("##"):
                piece = piece[2:]
            match = _PIECE.match(piece)
            if match:  # show a character split over byte tokens once, not as "吃(1/3)吃(2/3)吃(3/3)"
                piece = match.group(1) if match.group(2) == "1" else ""
            text += piece
        labels.append(text or tokens[group[0]])
    return labels


def merge_words(weights: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Word-level attention: sum over the key pieces of a word, mean over its query pieces; (..., T, T) -> (..., W, W).

    Rows keep summing to 1: summing keys keeps each row's total, and a mean of rows that sum to 1 sums to 1.
    """
    n_tokens = weights.shape[-1]
    membership = np.zeros((n_tokens, len(groups)))  # (T, W) one-hot: token -> its word
    for word, group in enumerate(groups):
        membership[list(group), word] = 1.0
    keys_summed = np.asarray(weights, dtype=np.float64) @ membership  # (..., T, W)
    query_mean = membership / membership.sum(axis=0, keepdims=True)  # (T, W), columns sum to 1
    return np.einsum("tw,...tv->...wv", query_mean, keys_summed).astype(np.float32)


def token_attention_by_layer(attentions: np.ndarray, query: int, *, head: int | None = None) -> np.ndarray:
    """What one query token attends to in every layer: (L, H, T, T) -> (L, T); head None = mean over heads."""
    rows = np.asarray(attentions[:, :, query, :], dtype=np.float64)  # (L, H, T)
    return (rows.mean(axis=1) if head is None else rows[:, head]).astype(np.float32)


def downsample(weights: np.ndarray, size: int) -> np.ndarray:
    """Block-mean pooling of the last two axes to at most size × size: (..., T, T) -> (..., s, s)."""
    n_tokens = weights.shape[-1]
    if n_tokens <= size:
        return np.asarray(weights, dtype=np.float32)
    edges = np.linspace(0, n_tokens, size + 1).astype(int)[:-1]
    counts = np.diff(np.append(edges, n_tokens))
    pooled = np.add.reduceat(np.add.reduceat(np.asarray(weights, dtype=np.float64), edges, axis=-1), edges, axis=-2)
    return (pooled / counts[:, None] / counts[None, :]).astype(np.float32)


def thumbnails(attentions: np.ndarray, size: int) -> np.ndarray:
    """Every head's map downsampled, one layer at a time: (L, H, T, T) -> (L, H, s, s) with s = min(T, size)."""
    return np.stack([downsample(layer, size) for layer in attentions])


@dataclass(frozen=True)
class AlignedColumn:
    """One column of two aligned token lists: positions in sentence A and in sentence B, and a label."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    label: str
    changed: bool


def align_tokens(tokens_a: Sequence[str], tokens_b: Sequence[str]) -> list[AlignedColumn]:
    """Line up two token lists: equal tokens pair one to one, each differing stretch becomes one column."""
    matcher = SequenceMatcher(a=list(tokens_a), b=list(tokens_b), autojunk=False)
    columns = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            columns += [AlignedColumn((a0 + k,), (b0 + k,), tokens_a[a0 + k], False) for k in range(a1 - a0)]
            continue
        label = f"{_stretch(tokens_a[a0:a1])} → {_stretch(tokens_b[b0:b1])}"
        columns.append(AlignedColumn(tuple(range(a0, a1)), tuple(range(b0, b1)), label, True))
    return columns


def _stretch(tokens: Sequence[str], limit: int = 24) -> str:
    """A short label for a stretch of tokens: "tired", "deputy leader is…", or ∅ when empty."""
    text = " ".join(token.strip() for token in tokens).replace(" ##", "") or "∅"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def aligned_weights(weights: np.ndarray, columns: Sequence[AlignedColumn], side: str) -> np.ndarray:
    """Sum the key weights of each aligned column for sentence side "a" or "b": (..., T) -> (..., C)."""
    weights = np.asarray(weights, dtype=np.float64)
    picked = [list(getattr(column, side)) for column in columns]
    return np.stack([weights[..., p].sum(axis=-1) if p else np.zeros(weights.shape[:-1]) for p in picked], axis=-1)


def counterpart(columns: Sequence[AlignedColumn], position_a: int) -> int | None:
    """Position in sentence B of the token at position_a in sentence A, or None when that token changed."""
    for column in columns:
        if position_a in column.a:
            return None if column.changed else column.b[0]
    return None


def change_summary(difference: np.ndarray, columns: Sequence[AlignedColumn], layer: int) -> str:
    """One sentence on the biggest gain and loss among the unchanged columns; difference (C,) is B − A, "" if none."""
    kept = [i for i, column in enumerate(columns) if not column.changed]
    if not kept:
        return ""
    gain, loss = max(kept, key=lambda i: difference[i]), min(kept, key=lambda i: difference[i])
    return (f"Layer {layer}, from A to B: the biggest gain is {difference[gain]:+.3f} on "
            f"{visible(columns[gain].label)!r}, the biggest loss {difference[loss]:+.3f} on "
            f"{visible(columns[loss].label)!r} (changed words left out).")


def guess_question(tokens: Sequence[str], special: np.ndarray, weights: np.ndarray, query: int, layer: int, *,
                   causal: bool) -> dict:
    """Predict-then-reveal: which token (not special, not the query) gets the most of the query's attention.

    Shapes: tokens (T,), special (T,) bool, weights (T,) the query's row in `layer`. Returns {"question"} plus,
    when there is a candidate, "options" (the GUESS_OPTIONS most attended, in sentence order) and "answer".
    """
    seen = query + 1 if causal else len(tokens)
    candidates = [i for i in range(seen) if i != query and not special[i]]
    question = (f"Which word does “{visible(tokens[query])}” attend to most in layer {layer} "
                "(leaving out itself and special tokens)?")
    if not candidates:
        return {"question": question}
    top = max(candidates, key=lambda i: weights[i])
    offered = sorted(sorted(candidates, key=lambda i: -weights[i])[:GUESS_OPTIONS])
    options = list(dict.fromkeys(visible(tokens[i]) for i in offered))
    return {"question": question, "options": options, "answer": visible(tokens[top])}
