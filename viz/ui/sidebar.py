"""The shared sidebar (model, preset, text, second sentence, classroom switches) and what it selects.

The frame (app.py) calls sidebar() on every run; pages ask current_model() / current_analysis() for what it chose.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from viz.analysis import Analysis, ModelInfo
from viz.model.loading import ModelLoadError
from viz.model.registry import BUNDLED, DEFAULT_MODEL, UnknownModel
from viz.presets import DEFAULT_PRESET, PRESETS, PRESETS_BY_NAME
from viz.seq2seq import is_seq2seq
from viz.text import EmptyText
from viz.ui import cached
from viz.ui.classroom import classroom_sidebar
from viz.ui.export import begin_run
from viz.ui.links import link_snapshot, text, write

OTHER_MODEL = "other"
CUSTOM = "(your own text)"
ACTIVE = "active_model"  # session_state: the key of the model the pages show (the last one that loaded)


@dataclass(frozen=True)
class Selection:
    """What the sidebar says: which model, which text, which optional second sentence."""

    model_key: str
    text: str
    text_b: str


def _apply_preset() -> None:
    preset = PRESETS_BY_NAME.get(st.session_state.get("preset"))
    if preset:
        st.session_state["text"] = preset.text
        st.session_state["text_b"] = preset.text_b


def _restore_from_link() -> None:
    """The model and texts of a shared link, once per session (a model id the link names goes in the id box)."""
    if "_sidebar_restored" in st.session_state:
        return
    st.session_state["_sidebar_restored"] = True
    link = link_snapshot()
    model = link.pop("model", "").strip()
    if model in BUNDLED:
        st.session_state["model_choice"] = model
    elif model:
        st.session_state["model_choice"], st.session_state["model_id"] = OTHER_MODEL, model[:200]
    for key in ("text", "text_b"):
        if key in link:
            st.session_state[key] = text().parse(link.pop(key))
            st.session_state["preset"] = CUSTOM


def sidebar() -> None:
    """Draw the shared sidebar: model picker, presets, text and optional second sentence, classroom switches."""
    begin_run()
    _restore_from_link()
    st.session_state.setdefault("text", DEFAULT_PRESET.text)
    st.session_state.setdefault("text_b", DEFAULT_PRESET.text_b)
    st.session_state.setdefault("preset", DEFAULT_PRESET.name)
    with st.sidebar:
        labels = {key: spec.name for key, spec in BUNDLED.items()}
        labels[OTHER_MODEL] = "Other: Hugging Face id or local folder"
        choice = st.selectbox("Model", list(labels), format_func=labels.get, key="model_choice")
        if choice == OTHER_MODEL:
            st.text_input("Model id or folder", key="model_id", placeholder="gpt2, bert-base-uncased, …",
                          help="Needs internet for hub ids; local folders are read from the models/ folder.")
        st.selectbox("Preset", [CUSTOM, *(p.name for p in PRESETS)], key="preset", on_change=_apply_preset,
                     help="Examples from the seed articles.")
        st.text_area("Text", key="text", height=100, max_chars=20_000)
        st.text_area("Second sentence (optional, to compare)", key="text_b", height=70, max_chars=20_000)
        classroom_sidebar()
    chosen = selection()
    write("model", chosen.model_key)
    write("text", chosen.text)
    write("text_b", chosen.text_b)


def selection() -> Selection:
    """The sidebar's model choice (a registry key or typed id) and texts."""
    choice = st.session_state.get("model_choice", DEFAULT_MODEL)
    if choice == OTHER_MODEL:
        choice = (st.session_state.get("model_id") or "").strip() or st.session_state.get(ACTIVE, DEFAULT_MODEL)
    return Selection(choice, st.session_state.get("text", ""), st.session_state.get("text_b", ""))


def current_model() -> ModelInfo:
    """The model the sidebar asks for; if it fails, an error box and the previous model instead."""
    wanted = selection().model_key
    fallback = st.session_state.get(ACTIVE, DEFAULT_MODEL)
    try:
        info = cached.model_info(wanted)
    except (UnknownModel, ModelLoadError) as error:
        st.error(f"{error}  \nShowing {fallback} instead.", icon=":material/warning:")
        info = cached.model_info(fallback)
    st.session_state[ACTIVE] = info.key
    if is_seq2seq(info):  # the other pages read one stream of tokens: say so, and where this model is shown
        st.info(f"**{info.name}** is an encoder–decoder (translation) model. This page applies to encoders and "
                "decoders only; the Translation page shows encoder–decoders: their encoder, their masked decoder "
                "and the cross-attention between them.", icon=":material/translate:")
        st.page_link("pages/translation.py", label="Open the Translation page →", icon=":material/translate:")
        st.stop()
    return info


def current_analysis(*, pair: bool = False) -> Analysis:
    """The analysis of the sidebar text (and second sentence when pair=True); stops the page on empty text."""
    info, chosen = current_model(), selection()
    return analysis_or_stop(info.key, chosen.text, chosen.text_b if pair else None)


def analysis_or_stop(model_key: str, text_in: str, text_pair: str | None = None) -> Analysis:
    """Analyse text, showing notices; a friendly prompt and st.stop() when there is nothing to analyse."""
    try:
        result = cached.analysis(model_key, text_in, text_pair)
    except EmptyText as error:
        st.info(str(error), icon=":material/edit:")
        st.stop()
    for notice in result.notices:
        st.warning(notice, icon=":material/content_cut:")
    return result


def analyses_of(model_key: str, sentences: list[str]) -> list[Analysis]:
    """One analysis per sentence (each on its own); sentences with nothing to analyse are skipped."""
    found = []
    for sentence in sentences:
        try:
            result = cached.analysis(model_key, sentence)
        except EmptyText:
            continue
        for notice in result.notices:
            st.warning(f"{sentence[:40]}…: {notice}", icon=":material/content_cut:")
        found.append(result)
    return found
