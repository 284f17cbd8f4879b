"""Streamlit glue: cached model loading, cached analyses, the shared sidebar and small *_ui() helpers.

The only module in viz/ that imports streamlit. Pages call these; nothing here draws a chart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import streamlit as st

from viz.analysis import Analysis, ModelInfo
from viz.cache import BytesLRU
from viz.model import BUNDLED, DEFAULT_MODEL, LoadedModel, ModelLoadError, analyze, load_model, resolve_model
from viz.model.registry import UnknownModel, smollm_converted_folder
from viz.presets import DEFAULT_PRESET, PRESETS, PRESETS_BY_NAME
from viz.text import EmptyText

OTHER_MODEL = "other"
CUSTOM = "(your own text)"
ANALYSIS_CACHE_BYTES = int(os.environ.get("ATTNVIZ_ANALYSIS_CACHE_MB", "2048")) * 2**20


@dataclass(frozen=True)
class Selection:
    """What the sidebar says: which model, which text, which optional second sentence."""

    model_key: str
    text: str
    text_b: str


@st.cache_resource(show_spinner=False, max_entries=4)
def _cached_model(choice: str) -> LoadedModel:
    return load_model(resolve_model(choice))


@st.cache_resource(show_spinner=False)
def _analysis_cache() -> BytesLRU[Analysis]:
    return BytesLRU(ANALYSIS_CACHE_BYTES, size_of=lambda analysis: analysis.nbytes)


def get_model(choice: str) -> LoadedModel:
    """The shared model for a registry key or hub id; raises UnknownModel or ModelLoadError."""
    first_conversion = choice == "bundled:smollm2" and not (smollm_converted_folder() / "model.safetensors").exists()
    message = (
        "Preparing the bundled SmolLM2 decoder: converting its GGUF file once (about 30 s)…"
        if first_conversion else f"Loading {choice}…"
    )
    with st.spinner(message, show_time=True):
        return _cached_model(choice)


def get_analysis(loaded: LoadedModel, text: str, text_pair: str | None = None) -> Analysis:
    """The analysis of (model, text, pair), computed once and shared read-only between sessions."""
    key = (loaded.info.key, text, text_pair or "")
    return _analysis_cache().get_or_compute(key, lambda: analyze(loaded, text, text_pair))


def _apply_preset() -> None:
    preset = PRESETS_BY_NAME.get(st.session_state.get("preset"))
    if preset:
        st.session_state["text"] = preset.text
        st.session_state["text_b"] = preset.text_b


def sidebar() -> None:
    """Draw the shared sidebar: model picker, presets, text and optional second sentence."""
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


def selection() -> Selection:
    choice = st.session_state.get("model_choice", DEFAULT_MODEL)
    if choice == OTHER_MODEL:
        choice = (st.session_state.get("model_id") or "").strip() or st.session_state.get("active_model", DEFAULT_MODEL)
    return Selection(choice, st.session_state.get("text", ""), st.session_state.get("text_b", ""))


def current_model() -> LoadedModel:
    """The model the sidebar asks for; if it fails, an error box and the previous model instead."""
    wanted = selection().model_key
    fallback = st.session_state.get("active_model", DEFAULT_MODEL)
    try:
        loaded = get_model(wanted)
    except (UnknownModel, ModelLoadError) as error:
        st.error(f"{error}  \nShowing {fallback} instead.", icon="⚠️")
        loaded = get_model(fallback)
    st.session_state["active_model"] = loaded.info.key
    return loaded


def current_analysis(*, pair: bool = False) -> Analysis:
    """The analysis of the sidebar text (and second sentence when pair=True); stops the page on empty text."""
    loaded = current_model()
    chosen = selection()
    return analysis_or_stop(loaded, chosen.text, chosen.text_b if pair else None)


def analysis_or_stop(loaded: LoadedModel, text: str, text_pair: str | None = None) -> Analysis:
    """Analyse text, showing notices; a friendly prompt and st.stop() when there is nothing to analyse."""
    try:
        analysis = get_analysis(loaded, text, text_pair)
    except EmptyText as error:
        st.info(str(error), icon="✍️")
        st.stop()
    for notice in analysis.notices:
        st.warning(notice, icon="✂️")
    return analysis


def layer_head_ui(info: ModelInfo, *, key: str, with_head: bool = True) -> tuple[int, int]:
    """Layer and head pickers (numbered from 0, as in the model); returns (layer, head)."""
    columns = st.columns(2)
    layer = columns[0].slider("Layer", 0, info.n_layers - 1, info.n_layers - 1 if info.n_layers < 8 else 2,
                              key=f"{key}_layer")
    head = 0
    if with_head:
        head = columns[1].slider("Head", 0, info.n_heads - 1, 0, key=f"{key}_head")
    return layer, head


def token_ui(analysis: Analysis, *, key: str, label: str = "Token", default_word: str = "") -> int:
    """A token picker listing 'position: token'; defaults to the first occurrence of default_word."""
    from viz.figures.common import hover_labels

    labels = hover_labels(analysis.tokens)
    found = analysis.find_token(default_word) if default_word else None
    default = found if found is not None else int(min(1, analysis.n_tokens - 1) if analysis.special[0] else 0)
    if st.session_state.get(key) not in range(analysis.n_tokens):
        st.session_state.pop(key, None)
    return st.selectbox(label, range(analysis.n_tokens), index=default, format_func=labels.__getitem__, key=key)
