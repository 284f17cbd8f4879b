"""Attention beside attribution, in numbers: rank correlation between the two, and which tokens weigh most.

Pure numpy; the attributions themselves come from viz/model/attribution.py (Captum). Shapes: T tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks (T,) from 1 (smallest) to T; tied values share the average of their ranks."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values), dtype=float)
    ranked[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # ties: the mean of the ranks they occupy
        tied = values == value
        if tied.sum() > 1:
            ranked[tied] = ranked[tied].mean()
    return ranked


def spearman(first: np.ndarray, second: np.ndarray) -> float | None:
    """Spearman's rank correlation of two (T,) arrays; None with fewer than 3 values or when one is constant."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if first.shape != second.shape:
        raise ValueError(f"shapes differ: {first.shape} and {second.shape}")
    if len(first) < 3 or np.ptp(first) == 0 or np.ptp(second) == 0:
        return None
    return float(np.corrcoef(ranks(first), ranks(second))[0, 1])


def attention_agreement(attention: np.ndarray, attribution: np.ndarray, compared: np.ndarray) -> float | None:
    """Spearman correlation between attention weights (T,) and the size |attribution| (T,), over the tokens
    where `compared` (T,) is True (attention is never negative, so it is compared with the attribution's size)."""
    compared = np.asarray(compared, dtype=bool)
    return spearman(np.asarray(attention)[compared], np.abs(np.asarray(attribution))[compared])


def strongest(labels: Sequence[str], values: np.ndarray, *, count: int = 3, sign: int = 1) -> list[str]:
    """The labels of the `count` largest values of one sign (+1 or −1), strongest first; zeros left out."""
    values = np.asarray(values, dtype=float) * sign
    order = [i for i in np.argsort(-values, kind="stable") if values[i] > 0]
    return [labels[i] for i in order[:count]]


def symmetric_limit(*arrays: np.ndarray) -> float:
    """One colour limit for signed values: the largest |value| of all arrays (at least a tiny positive number)."""
    return max([float(np.abs(np.asarray(a, dtype=float)).max(initial=0)) for a in arrays] + [1e-9])
