"""The step-by-step decomposition of one attention row, and the position-encoding maths: pure numpy.

Shapes: H query heads, T tokens, d head width, P positions, D model width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from viz.analysis import QKV
from viz.compute import softmax
from viz.figures.common import code_token

MAX_QUESTION_OPTIONS = 20  # predict-then-reveal offers the shown keys as choices only when there are this few
SCORE_COLUMNS = {"q·k": "layer 0 q(Tim)·k(clouds)", "q·k without rotary": "… without rotary"}


@dataclass(frozen=True)
class QuerySteps:
    """softmax(q·k * scale + mask) @ V for one query token and one head, with every step kept.

    Shapes: query (d,); keys, products, values, weighted_values (T, d); raw, scaled, masked, weights (T,);
    output (d,).
    """

    head: int
    kv_head: int
    query_index: int
    scale: float
    query: np.ndarray
    keys: np.ndarray
    products: np.ndarray  # q∘k: element-wise product of q with every key
    raw: np.ndarray  # q·k, the sum of each row of products
    scaled: np.ndarray  # raw * scale
    masked: np.ndarray  # scaled + mask (-inf where the query may not look)
    weights: np.ndarray  # softmax of masked: the attention row
    values: np.ndarray
    weighted_values: np.ndarray  # weights[:, None] * values
    output: np.ndarray  # sum of weighted_values: the head's output for this token

    @property
    def head_dim(self) -> int:
        return int(self.query.shape[0])

    @property
    def allowed(self) -> np.ndarray:
        """(T,) bool: keys the query may attend to."""
        return np.isfinite(self.masked)


def query_steps(qkv: QKV, *, head: int, query: int) -> QuerySteps:
    """Every step from q and K to the head's output, for token `query` in query head `head`."""
    q = qkv.queries[head, query].astype(np.float64)  # (d,)
    keys = qkv.keys[head].astype(np.float64)  # (T, d)
    values = qkv.values[head].astype(np.float64)  # (T, d)
    products = keys * q[None]  # (T, d)
    raw = products.sum(axis=1)
    scaled = raw * qkv.scale
    masked = scaled + qkv.mask[query].astype(np.float64)
    weights = softmax(masked)
    weighted = weights[:, None] * values
    return QuerySteps(
        head=head, kv_head=int(qkv.kv_head[head]), query_index=query, scale=float(qkv.scale),
        query=q, keys=keys, products=products, raw=raw, scaled=scaled, masked=masked, weights=weights,
        values=values, weighted_values=weighted, output=weighted.sum(axis=0),
    )


def top_keys(weights: np.ndarray, *, k: int, query: int | None = None, allowed: np.ndarray | None = None) -> np.ndarray:
    """Positions of the k largest weights among the allowed keys (plus the query itself, if given), in sentence order.

    Shapes: weights (T,), allowed (T,) bool -> (≤ k+1,) int.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if allowed is not None:
        weights = np.where(allowed, weights, -np.inf)  # masked keys are never "top"
    k = max(0, min(k, int(np.isfinite(weights).sum())))
    chosen = set(np.argsort(-weights, kind="stable")[:k].tolist())
    if query is not None:
        chosen.add(int(query))
    return np.array(sorted(chosen), dtype=int)


def layer_rows(qkv: QKV, *, query: int) -> np.ndarray:
    """The attention row of token `query` in every head of the layer.

    Shapes: (H, T).
    """
    q = qkv.queries[:, query].astype(np.float64)  # (H, d)
    raw = np.einsum("hd,htd->ht", q, qkv.keys.astype(np.float64))
    return softmax(raw * qkv.scale + qkv.mask[query][None], axis=-1)


def head_outputs(qkv: QKV, *, query: int) -> np.ndarray:
    """Every head's output for token `query`, ready to be concatenated.

    Shapes: (H, d).
    """
    rows = layer_rows(qkv, query=query)  # (H, T)
    return np.einsum("ht,htd->hd", rows, qkv.values.astype(np.float64))


def max_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference between two arrays of the same shape."""
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def heads_sharing(kv_head: np.ndarray, head: int) -> list[int]:
    """Query heads that read the same key/value head as `head` (including itself)."""
    return [int(h) for h in np.flatnonzero(np.asarray(kv_head) == kv_head[head])]


def sinusoidal_table(n_positions: int, width: int, base: float = 10000.0) -> np.ndarray:
    """The original Transformer's encoding: PE[p, 2i] = sin(p / base^(2i/D)), PE[p, 2i+1] = cos(same).

    Shapes: (P, D).
    """
    positions = np.arange(n_positions, dtype=np.float64)[:, None]  # (P, 1)
    pair = np.arange(0, width, 2, dtype=np.float64)[None]  # (1, ceil(D/2)): the 2i of each sin/cos pair
    angles = positions / np.power(base, pair / width)  # (P, ceil(D/2))
    table = np.zeros((n_positions, width))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : width // 2])
    return table


def rotate(vectors: np.ndarray, positions: np.ndarray, inv_freq: np.ndarray, scaling: float = 1.0) -> np.ndarray:
    """Rotary embedding as Hugging Face Llama applies it: dimension i pairs with i + d/2, turned by p * inv_freq.

    Shapes: vectors (T, d), positions (T,), inv_freq (d/2,) -> (T, d).
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    angles = np.asarray(positions, dtype=np.float64)[:, None] * np.asarray(inv_freq, dtype=np.float64)[None]
    cos = np.concatenate([np.cos(angles)] * 2, axis=-1) * scaling  # (T, d)
    sin = np.concatenate([np.sin(angles)] * 2, axis=-1) * scaling
    half = vectors.shape[-1] // 2
    rotated_half = np.concatenate([-vectors[..., half:], vectors[..., :half]], axis=-1)
    return vectors * cos + rotated_half * sin


def unrotate(vectors: np.ndarray, positions: np.ndarray, inv_freq: np.ndarray, scaling: float = 1.0) -> np.ndarray:
    """Undo `rotate`: the vectors as they were before position was applied. Shapes as `rotate`."""
    return rotate(vectors, -np.asarray(positions), inv_freq) / scaling


def rotary_scores_by_distance(query: np.ndarray, key: np.ndarray, inv_freq: np.ndarray,
                              distances: np.ndarray, scaling: float = 1.0) -> np.ndarray:
    """q·k when an un-rotated query sits `distance` tokens after an un-rotated key (only the distance matters).

    Shapes: query (d,), key (d,), inv_freq (d/2,), distances (N,) -> (N,).
    """
    distances = np.asarray(distances)
    turned = rotate(np.repeat(np.asarray(query)[None], len(distances), axis=0), distances, inv_freq, scaling)
    return turned @ (np.asarray(key, dtype=np.float64) * scaling)


def rotary_agreement(inv_freq: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """q·k / |q|² for q = k = all ones: how much rotation alone lowers agreement as distance grows.

    Shapes: inv_freq (d/2,), distances (N,) -> (N,); 1 at distance 0.
    """
    angles = np.asarray(distances, dtype=np.float64)[:, None] * np.asarray(inv_freq, dtype=np.float64)[None]
    return np.cos(angles).mean(axis=1)


@dataclass(frozen=True)
class RotaryCurve:
    """q·k of one query and one key, un-rotated and placed Δ tokens apart for every Δ.

    Shapes: distances (N,), scores (N,).
    """

    key_index: int  # the key the query weighs most, other than itself
    distance: int  # their real distance, query position − key position
    distances: np.ndarray
    scores: np.ndarray


def rotary_curve(step: QuerySteps, inv_freq: np.ndarray, *, n_distances: int, scaling: float = 1.0) -> RotaryCurve:
    """How q·k of the query and its most-weighted other key would change with distance, under rotary embedding."""
    query = step.query_index
    candidates = step.allowed & (np.arange(len(step.weights)) != query)  # keys it may see, other than itself
    key = int(np.argmax(np.where(candidates, step.weights, -1.0))) if candidates.any() else query
    q0 = unrotate(step.query[None], np.array([query]), inv_freq, scaling)[0]  # (d,) as if at position 0
    k0 = unrotate(step.keys[key][None], np.array([key]), inv_freq, scaling)[0]
    distances = np.arange(max(n_distances, query - key + 1))
    return RotaryCurve(key, query - key, distances, rotary_scores_by_distance(q0, k0, inv_freq, distances, scaling))


def word_pair_scores(qkv: QKV, *, head: int, query: int, key: int, inv_freq: np.ndarray | None = None,
                     scaling: float = 1.0) -> dict[str, float]:
    """q·k of one query token and one key token in one head; with rotary, also without the rotation."""
    scores = {"q·k": float(np.dot(qkv.queries[head, query].astype(np.float64), qkv.keys[head, key]))}
    if inv_freq is not None:
        q0 = unrotate(qkv.queries[head, query][None], np.array([query]), inv_freq, scaling)[0]
        k0 = unrotate(qkv.keys[head, key][None], np.array([key]), inv_freq, scaling)[0]
        scores["q·k without rotary"] = float(q0 @ k0)
    return scores


def word_order_row(sentence: str, *, tim: int, clouds: int, scores: dict[str, float], weights: np.ndarray,
                   layer: int, head: int) -> dict:
    """One row of the "Tim chased clouds" table: where the two words are, their layer-0 scores, weights both ways.

    scores: word_pair_scores() of Tim (query) and clouds (key) in layer 0; weights (T, T): the chosen layer and head.
    """
    return {"sentence": sentence, "Tim at": tim, "clouds at": clouds,
            **{SCORE_COLUMNS[name]: value for name, value in scores.items()},
            f"weight Tim → clouds (layer {layer}, head {head})": float(weights[tim, clouds]),
            f"weight clouds → Tim (layer {layer}, head {head})": float(weights[clouds, tim])}


def top_key_question(step: QuerySteps, *, layer: int, tokens: Sequence[str], labels: Sequence[str],
                     shown: np.ndarray) -> dict:
    """Predict-then-reveal: which key will this query weigh most? (Guesses among the keys shown, when few.)

    tokens, labels (T,): token texts and their "position: token" labels; shown (N,): positions of the keys drawn.
    Returns reveal_ui()'s keyword arguments: question, key, options, answer.
    """
    question = (f"In layer {layer}, head {step.head}, which token will the query "
                f"{code_token(tokens[step.query_index])} give the largest weight? Look at q and the keys above.")
    options = [labels[i] for i in shown] if len(shown) <= MAX_QUESTION_OPTIONS else []
    return {"question": question, "key": "qkv_reveal", "options": options,
            "answer": labels[int(np.argmax(step.weights))] if options else None}
