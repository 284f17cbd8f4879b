"""Streamlit glue of the Translation page: which encoder–decoder it shows, its shared analyses, and the one thing
a session owns, its run (the output tokens chosen so far).

Every model call is a pure function of (model, source, outputs), so it is computed once and shared by all
sessions through cached.shared; "Next step" and "Run all" only move this session's run along.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import streamlit as st

from viz.analysis import QKV, ModelInfo
from viz.model import seq2seq as model_seq2seq
from viz.model.loading import ModelLoadError
from viz.model.registry import DATES_KEY, UnknownModel
from viz.model.seq2seq_qkv import cross_attention_qkv
from viz.seq2seq import Seq2SeqAnalysis, is_seq2seq
from viz.ui import cached
from viz.ui.sidebar import ACTIVE, selection

RUN = "translation_run"  # session_state: this session's Run
DATE_EXAMPLE = "Wednesday, 2 December 2026"
REPORT = "report.json"  # the date model's measurements, saved next to its weights (viz/model/date_model.py)


@dataclass(frozen=True)
class Run:
    """One session's generation: the model, the source and the output token ids chosen so far."""

    model_key: str
    source: str
    outputs: tuple[int, ...] = ()


@dataclass(frozen=True)
class PageModel:
    """The model the page shows, and why it is not the sidebar's (None when it is)."""

    info: ModelInfo
    note: str | None
    is_date_model: bool


def page_model() -> PageModel | None:
    """The sidebar's model when it is an encoder–decoder, else the offline date model; None (with a message)
    when neither can be shown."""
    chosen = selection().model_key
    try:
        info = cached.model_info(chosen)
    except (UnknownModel, ModelLoadError) as error:
        st.error(str(error), icon=":material/warning:")
        info = None
    if info is not None and is_seq2seq(info):
        st.session_state[ACTIVE] = info.key
        return PageModel(info, None, info.key == DATES_KEY)
    missing = prepare_date_model()
    if missing:
        st.info(f"{missing} Type an encoder–decoder model in the sidebar (Other: a Marian, T5 or BART id, for "
                "example `Helsinki-NLP/opus-mt-zh-en`, or a local folder) to use this page.", icon=":material/info:")
        return None
    note = None if info is None else (
        f"**{info.name}** is a single stack of layers over one sequence of tokens, so it has no cross-attention. "
        "This page shows "
        "the encoder–decoder trained here to turn written dates into ISO dates; pick an encoder–decoder in the "
        "sidebar (Other: a Marian, T5 or BART id or local folder) to see it instead.")
    return PageModel(cached.model_info(DATES_KEY), note, True)


def prepare_date_model() -> str | None:
    """Train the date model once, with a progress bar, if it is not on this machine; the reason when it cannot be."""
    try:
        from viz.model import date_model
    except ImportError:
        return "The offline date model is not part of this version of the app yet."
    if not (date_model.DATE_MODEL_DIR / REPORT).is_file():  # written last: the folder is complete
        bar = st.progress(0.0, text="Training the date model (first open only)…")
        with cached.model_work():
            date_model.ensure_date_model(lambda fraction, message: bar.progress(
                min(1.0, max(0.0, float(fraction))), text=str(message)[:200]))
        bar.empty()
    return None


def date_report() -> dict | None:
    """The date model's report.json (accuracy, alignment scores, best head, how often it holds), if present."""
    try:
        from viz.model import date_model
        return json.loads((date_model.DATE_MODEL_DIR / REPORT).read_text())
    except (ImportError, OSError, ValueError):
        return None


def analysis(model_key: str, source: str, outputs: tuple[int, ...], *, forced: bool = False) -> Seq2SeqAnalysis:
    """The analysis of (model, source, outputs), shared by all sessions; raises EmptyText for an empty source."""
    outputs = tuple(int(i) for i in outputs)
    return cached.shared("analysis", ("seq2seq", model_key, source, outputs, forced), lambda: (
        model_seq2seq.analyze_translation(cached.model(model_key), source, outputs, forced=forced)))


def typed_outputs(model_key: str, text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """A typed translation as output token ids (and notices); raises EmptyText."""
    return cached.shared("model_parts", (model_key, "typed_outputs", text), lambda: (
        model_seq2seq.typed_outputs(cached.model(model_key), text)))


def output_limit(model_key: str) -> int:
    return model_seq2seq.output_limit(cached.model(model_key))


def cross_qkv(source: Seq2SeqAnalysis, layer: int) -> QKV:
    """Q (decoder), K and V (encoder) of one decoder layer's cross-attention, recomputed from the weights."""
    key = ("seq2seq", source.model.key, source.source_text, source.generated, source.forced, layer)
    return cached.shared("qkv", key, lambda: cross_attention_qkv(cached.model(source.model.key), source, layer))


def run_for(model_key: str, source: str) -> Run:
    """This session's run for (model, source); a new model or source starts again from no output."""
    run = st.session_state.get(RUN)
    if not isinstance(run, Run) or (run.model_key, run.source) != (model_key, source):
        run = Run(model_key, source)
        st.session_state[RUN] = run
    return run


def advance(run: Run, count: int) -> Run:
    """Up to `count` greedy steps (shared: the same source and outputs give the same tokens for everyone)."""
    outputs = cached.shared("derived", ("seq2seq-greedy", run.model_key, run.source, run.outputs, count), lambda: (
        model_seq2seq.greedy_outputs(cached.model(run.model_key), run.source, run.outputs, count)))
    return _store(Run(run.model_key, run.source, outputs))


def undo(run: Run) -> Run:
    return _store(Run(run.model_key, run.source, run.outputs[:-1]))


def start_over(run: Run) -> Run:
    return _store(Run(run.model_key, run.source))


def _store(run: Run) -> Run:
    st.session_state[RUN] = run
    return run


def output_text(model_key: str, outputs: tuple[int, ...]) -> str:
    """The text of the output tokens so far (special tokens left out)."""
    return model_seq2seq.output_text(cached.model(model_key), outputs)
