"""Attributions a page asks for (Captum, on the shared model), cached and shared by every session of this process.

An attribution costs 32–128 forward and backward passes, so pages compute one only when the person asks (a
toggle); the result is kept in cached.py's "derived" cache, keyed by (model, tokens, what is explained, steps),
so a second student asking the same question gets it at once. A progress bar moves while it is computed.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from viz.model import attribution as captum_attribution
from viz.ui.cached import model, shared

Attribution = captum_attribution.Attribution
IG_STEPS, DECODER_IG_STEPS = captum_attribution.IG_STEPS, captum_attribution.DECODER_IG_STEPS
MAX_TOKENS, IG_METHOD = captum_attribution.MAX_TOKENS, captum_attribution.IG_METHOD


def _progress_bar(text: str):
    """A progress bar and the callback that moves it (removed by the caller's `bar.empty()`)."""
    bar = st.progress(0.0, text=text)

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{text} ({done} of {total} points of the path)")
    return bar, progress


def next_token(model_key: str, token_ids: Sequence[int], target_id: int) -> Attribution:
    """Integrated gradients and gradient × input of the logit of `target_id` after `token_ids` (their last
    MAX_TOKENS), per token."""
    ids = tuple(int(i) for i in token_ids)[-MAX_TOKENS:]
    key = (model_key, ids, "next-token attribution", int(target_id), DECODER_IG_STEPS, IG_METHOD)
    bar, progress = _progress_bar("Integrated gradients: one forward and backward pass per point")
    try:
        return shared("derived", key, lambda: captum_attribution.next_token_attribution(
            model(model_key), ids, int(target_id), progress=progress))
    finally:
        bar.empty()


def word_pair(model_key: str, ids_a: Sequence[int], positions_a: Sequence[int], ids_b: Sequence[int],
              positions_b: Sequence[int]) -> tuple[Attribution, Attribution]:
    """Both sentences' per-token shares of the cosine between one word's last-layer vectors in them.

    Raises ValueError when the word lies past MAX_TOKENS in either sentence."""
    parts = [tuple(int(i) for i in values) for values in (ids_a, positions_a, ids_b, positions_b)]
    key = (model_key, *parts, "word-pair attribution", IG_STEPS, IG_METHOD)
    bar, progress = _progress_bar("Integrated gradients on both sentences")
    try:
        return shared("derived", key, lambda: captum_attribution.cosine_pair_attribution(
            model(model_key), *parts, progress=progress))
    finally:
        bar.empty()
