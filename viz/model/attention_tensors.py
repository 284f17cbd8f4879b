"""Attention arrays as the torch tensors BertViz expects (the model layer is the only one that imports torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def as_layer_tensors(attentions: np.ndarray, *, layers: Sequence[int], decimals: int = 3) -> list[torch.Tensor]:
    """One tensor per layer, real (1, H, T, T) float64 values only for `layers`, empty (1, H, 0, 0) elsewhere.

    BertViz reads only the layers it is told to include, so the others stay empty; values are rounded so it
    writes short numbers ("0.123", not 0.12300000339746475). Shapes: attentions (L, H, T, T) -> L tensors.
    """
    n_layers, n_heads = attentions.shape[:2]
    empty = torch.empty((1, n_heads, 0, 0), dtype=torch.float64)
    wanted = set(layers)
    return [
        torch.from_numpy(np.round(np.asarray(attentions[layer], dtype=np.float64), decimals)[None])
        if layer in wanted else empty
        for layer in range(n_layers)
    ]
