"""Cached glue of "Compare with an edit": head changes between two analyses and a decoder's next-token scores,
computed once per (model, texts) and shared by every session (see viz/edits.py for the computations)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from viz import edits
from viz.analysis import Analysis
from viz.model import generation
from viz.ui import cached


def _key(analysis: Analysis) -> tuple:
    return analysis.model.key, analysis.text, analysis.text_pair or "", analysis.n_tokens


def head_changes(original: Analysis, edited: Analysis) -> edits.HeadChanges:
    """Every head's change between the two analyses (cached: ~0.2 s for two 512-token decoder analyses)."""
    return cached.shared("derived", (*_key(original), *_key(edited), "edit_head_changes"), lambda: edits.head_changes(
        original.attentions, edited.attentions, original.tokens, edited.tokens, causal=original.model.is_causal))


def next_token_logits(model_key: str, token_ids: Sequence[int]) -> np.ndarray:
    """A decoder's next-token scores (V,) after these token ids (one forward pass, cached per ids)."""
    ids = tuple(int(i) for i in token_ids)
    return cached.shared("model_parts", (model_key, "edit_next_logits", ids),
                         lambda: generation.full_rerun_logits(cached.model(model_key), ids))
