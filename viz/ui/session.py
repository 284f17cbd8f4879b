"""What belongs to one browser session alone: its generation run on the Next-token page.

A run holds the key/value cache of its tokens, which each step updates in place, so it cannot be shared; what
follows from the tokens alone (reading the prompt, an earlier step's prediction, the logit lens) is computed once
and shared, and a new run starts from its own copy of the prompt's cache.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st

from viz.model import generation as gen
from viz.ui.cached import model, model_work, shared

RUN = "next_generation"  # session_state: this session's Generation
LAST_ACTION = "next_last_action"  # session_state: (seconds, steps added) of the last button press
LENS_POSITIONS = gen.LENS_POSITIONS
Generation, Prediction, Lens = gen.Generation, gen.Prediction, gen.Lens


def generation_run(model_key: str, prompt_ids: Sequence[int]) -> Generation:
    """This session's run for (model, prompt); started again when either changes."""
    ids = tuple(int(i) for i in prompt_ids)
    run = st.session_state.get(RUN)
    if run is None or run.model_key != model_key or run.ids[:run.prompt_length] != ids \
            or run.prompt_length != len(ids) or not run.valid:
        with st.spinner("Reading the prompt…"):
            run = _started(model_key, ids)
        st.session_state[RUN] = run
    return run


def _started(model_key: str, ids: tuple[int, ...]) -> Generation:
    """A new run on the prompt: the prompt is read once for every session (a class on one preset is one forward
    pass) and each session gets its own copy of the key/value cache to grow."""
    return gen.own_copy(shared("prompts", (model_key, ids), lambda: gen.start(model(model_key), ids)))


def generate(run: Generation, count: int, *, greedy: bool, seed: int, temperature: float, top_k: int | None,
             top_p: float, progress=None) -> Generation:
    """Up to `count` cached steps; the newest run is stored after every step (so an interrupted loop keeps it)."""
    def stored(new_run, done: int) -> None:
        st.session_state[RUN] = new_run
        if progress is not None:
            progress(done, count)

    return _timed(run, lambda: gen.generate(model(run.model_key), run, count, greedy=greedy, seed=seed,
                                            temperature=temperature, top_k=top_k, top_p=top_p, on_step=stored))


def undo(run: Generation) -> Generation:
    """Drop the newest generated token."""
    return _timed(run, lambda: gen.undo(model(run.model_key), run))


def start_over(run: Generation) -> Generation:
    """Back to the prompt alone."""
    return _timed(run, lambda: _started(run.model_key, run.ids[:run.prompt_length]))


def _timed(run: Generation, action) -> Generation:
    started, before = time.perf_counter(), len(run.steps)
    with model_work():
        new_run = action()
    st.session_state[RUN] = new_run
    st.session_state[LAST_ACTION] = (time.perf_counter() - started, len(new_run.steps) - before)
    return new_run


def last_action() -> tuple[float, int]:
    """(seconds, steps added) of this session's last generation button."""
    return st.session_state.get(LAST_ACTION, (0.0, 0))


def prediction_at(run: Generation, length: int) -> Prediction:
    """The prediction after the first `length` tokens of the run (shared: it depends on those tokens only)."""
    return shared("derived", (run.model_key, run.ids[:length], "prediction"),
                  lambda: gen.prediction_at(model(run.model_key), run, length))


def logit_lens(run: Generation, positions: int) -> Lens:
    """The logit lens over the run's last `positions` positions (shared: it depends on the tokens only)."""
    return shared("derived", (run.model_key, run.ids, "lens", positions),
                  lambda: gen.logit_lens(model(run.model_key), run, positions))
