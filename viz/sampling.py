"""Choosing the next token from logits: temperature, top-k and top-p filters, entropy, seeded sampling (pure numpy).

V is the vocabulary size throughout. The order of operations follows Hugging Face `generate`:
temperature first, then top-k, then top-p on what top-k kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viz.compute import softmax

MIN_TEMPERATURE = 0.1
MAX_TEMPERATURE = 2.0


@dataclass(frozen=True, eq=False)
class Distribution:
    """The next-token distribution at one temperature, and which tokens the filters let through.

    Shapes: logits (V,) raw model scores, probabilities (V,) softmax(logits / temperature),
    kept (V,) bool tokens that survive top-k and top-p, sampling (V,) probabilities renormalised over kept.
    """

    logits: np.ndarray
    temperature: float
    probabilities: np.ndarray
    kept_by_top_k: np.ndarray
    kept: np.ndarray
    sampling: np.ndarray

    def ranked(self, count: int) -> np.ndarray:
        """Token ids of the `count` most probable tokens, most probable first, shape (count,)."""
        return top_indices(self.probabilities, count)

    @property
    def entropy_bits(self) -> float:
        return entropy_bits(self.probabilities)

    @property
    def n_kept(self) -> int:
        return int(self.kept.sum())


def with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / temperature), shape (V,); the temperature is clipped to 0.1–2.0."""
    temperature = float(np.clip(temperature, MIN_TEMPERATURE, MAX_TEMPERATURE))
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


def top_indices(probabilities: np.ndarray, count: int) -> np.ndarray:
    """Ids of the `count` largest entries, largest first (ties broken by lower id), shape (count,)."""
    size = probabilities.shape[-1]
    count = max(0, min(int(count), size))
    if count == 0:
        return np.zeros(0, dtype=np.intp)
    # sort only what can make the cut: every entry at least as large as the count-th largest (ties included, in
    # id order, so the stable sort breaks them by lower id exactly as a full sort would); a full argsort of the
    # decoder's 49,152 probabilities cost several milliseconds per generation step
    threshold = np.partition(probabilities, size - count)[size - count]
    candidates = np.flatnonzero(probabilities >= threshold)
    return candidates[np.argsort(-probabilities[candidates], kind="stable")][:count]


def top_k_mask(probabilities: np.ndarray, k: int | None) -> np.ndarray:
    """Which tokens survive a top-k filter, shape (V,) bool; k of None or 0 keeps everything."""
    if not k or k >= probabilities.shape[-1]:
        return np.ones(probabilities.shape, dtype=bool)
    keep = np.zeros(probabilities.shape, dtype=bool)
    keep[top_indices(probabilities, k)] = True
    return keep


def top_p_mask(probabilities: np.ndarray, p: float) -> np.ndarray:
    """Smallest set of most probable tokens whose total reaches p, shape (V,) bool; always keeps the top token."""
    if p >= 1.0:
        return np.ones(probabilities.shape, dtype=bool)
    size, count = probabilities.shape[-1], 256
    while True:  # rank only the head of the distribution until it holds p (everything below it is then cut)
        order = top_indices(probabilities, min(count, size))
        total = np.cumsum(probabilities[order])
        if total[-1] >= p or count >= size:
            break
        count *= 8
    before = total - probabilities[order]  # probability of the tokens ranked above
    keep = np.zeros(probabilities.shape, dtype=bool)
    keep[order[before < p]] = True
    keep[order[0]] = True
    return keep


def renormalise(probabilities: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Probabilities set to 0 outside keep and rescaled to sum to 1, shape (V,)."""
    kept = np.where(keep, probabilities, 0.0)
    total = kept.sum()
    return kept / total if total > 0 else kept


def distribution(logits: np.ndarray, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float = 1.0) -> Distribution:
    """Apply temperature, then top-k, then top-p (on the top-k survivors, renormalised), to logits (V,)."""
    logits = np.asarray(logits, dtype=np.float32)
    probabilities = with_temperature(logits, temperature)
    by_k = top_k_mask(probabilities, top_k)
    kept = by_k & top_p_mask(renormalise(probabilities, by_k), top_p)
    return Distribution(logits=logits, temperature=float(np.clip(temperature, MIN_TEMPERATURE, MAX_TEMPERATURE)),
                        probabilities=probabilities, kept_by_top_k=by_k, kept=kept,
                        sampling=renormalise(probabilities, kept))


def token_probability(logits: np.ndarray, token: int) -> float:
    """Softmax probability of one token at temperature 1, from logits (V,), without the whole distribution."""
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max()
    return float(np.exp(logits[token] - top) / np.exp(logits - top).sum())


def entropy_bits(probabilities: np.ndarray) -> float:
    """Shannon entropy in bits of a distribution (V,); 0 for a certain choice, log2(V) for a uniform one."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def share_outside(probabilities: np.ndarray, shown: np.ndarray) -> float:
    """Total probability of every token not in `shown` (ids), the "rest" bar."""
    return float(max(0.0, 1.0 - probabilities[np.asarray(shown, dtype=int)].sum()))


def step_generator(seed: int, step: int) -> np.random.Generator:
    """The random generator for one step of a seeded run: the same (seed, step) always draws the same token."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(step)])


def choose_token(dist: Distribution, *, greedy: bool, rng: np.random.Generator | None = None) -> int:
    """The next token id: the argmax of the logits when greedy, else one draw from dist.sampling."""
    if greedy:
        return int(np.argmax(dist.logits))
    if rng is None:
        raise ValueError("sampling needs a random generator; pass step_generator(seed, step)")
    return int(rng.choice(dist.sampling.shape[-1], p=dist.sampling))


def settled_layer(top_ids: np.ndarray, column: int) -> int | None:
    """First row from which the logit lens' top token in `column` no longer changes, for top_ids (L+1, W)."""
    final = top_ids[-1, column]
    same = top_ids[:, column] == final
    changed = np.flatnonzero(~same)
    first = 0 if changed.size == 0 else int(changed[-1]) + 1
    return first if first < top_ids.shape[0] else None


def shading_window(weights: np.ndarray, *, limit: int, skip_first: bool) -> tuple[int, float]:
    """Where the attention shading starts (only the last `limit` positions are shown) and its colour scale's top.

    weights (T,): how the newest position attended to every position. With skip_first the scale leaves out the
    first token (where many heads park their attention) when it is shown and at least two others are.
    """
    start = max(0, weights.shape[0] - limit)
    part = weights[start:]
    scale = part[1:] if skip_first and start == 0 and len(part) > 2 else part
    return start, float(scale.max())
