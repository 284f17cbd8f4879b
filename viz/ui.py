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
URL_TEXT_LIMIT = 2000  # characters of text kept in a shared link
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


def _url_params() -> dict[str, str]:
    """The query parameters this session was opened with (a shared link), read once per session."""
    if "_url_params" not in st.session_state:
        st.session_state["_url_params"] = {key: st.query_params[key] for key in st.query_params}
        _restore_sidebar(st.session_state["_url_params"])
    return st.session_state["_url_params"]


def _restore_sidebar(params: dict[str, str]) -> None:
    model = params.get("model", "").strip()
    if model in BUNDLED:
        st.session_state["model_choice"] = model
    elif model:
        st.session_state["model_choice"], st.session_state["model_id"] = OTHER_MODEL, model[:200]
    for key in ("text", "text_b"):
        if key in params:
            st.session_state[key] = params[key][:URL_TEXT_LIMIT]
            st.session_state["preset"] = CUSTOM


def share(key: str, value) -> None:
    """Put a control's value in the address bar, so copying the link reopens the same view."""
    text = str(value)
    if st.query_params.get(key) != text:
        st.query_params[key] = text


def url_int(key: str, *, low: int, high: int, default: int, what: str) -> int:
    """An integer from the shared link (used once, when the control first appears) if within low..high."""
    return _url_number(key, int, low=low, high=high, default=default, what=what)


def url_float(key: str, *, low: float, high: float, default: float, what: str) -> float:
    """A number from the shared link (used once, when the control first appears) if within low..high."""
    return _url_number(key, float, low=low, high=high, default=default, what=what)


def _url_number(key: str, parse, *, low, high, default, what: str):
    raw = _url_params().pop(key, None)
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # the comparison is also false for nan
        st.toast(f"The link asked for {what} {raw[:20]!r}; it must be {low:g}–{high:g}, so {default:g} is shown.")
        return default
    return value


def url_str(key: str, *, default: str | None = None, limit: int = URL_TEXT_LIMIT) -> str | None:
    """Text from the shared link (used once), cut to `limit` characters; `default` when the link has none."""
    raw = _url_params().pop(key, None)
    return default if raw is None else raw[:limit]


def url_choice(key: str, options, *, default, what: str):
    """One of `options` named in the shared link (used once, matched as text); otherwise `default`, with a notice."""
    raw = _url_params().pop(key, None)
    if raw is None:
        return default
    for option in options:
        if str(option) == raw:
            return option
    st.toast(f"The link asked for {what} {raw[:30]!r}, which is not a choice here, so {default} is shown.")
    return default


def url_bool(key: str, *, default: bool, what: str) -> bool:
    """An on/off setting from the shared link (used once): 1/0, true/false, on/off, yes/no; otherwise `default`."""
    raw = _url_params().pop(key, None)
    if raw is None:
        return default
    value = {"1": True, "true": True, "on": True, "yes": True,
             "0": False, "false": False, "off": False, "no": False}.get(raw.strip().lower())
    if value is None:
        st.toast(f"The link asked for {what} {raw[:20]!r}; expected on or off, so {'on' if default else 'off'} "
                 "is shown.")
        return default
    return value


def share_text(key: str, text: str) -> None:
    """Put a text control in the address bar when it is short enough for a link; otherwise leave it out."""
    if len(text) <= URL_TEXT_LIMIT:
        share(key, text)
    elif key in st.query_params:
        del st.query_params[key]


def sidebar() -> None:
    """Draw the shared sidebar: model picker, presets, text and optional second sentence."""
    _url_params()
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
        from viz.ui_classroom import classroom_sidebar  # presentation mode, tour and quiz switches

        classroom_sidebar()
    chosen = selection()
    share("model", chosen.model_key)
    for key, text in (("text", chosen.text), ("text_b", chosen.text_b)):
        if len(text) <= URL_TEXT_LIMIT:
            share(key, text)
        elif key in st.query_params:
            del st.query_params[key]  # too long for a link; the link keeps the model and view only


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
    last_layer, last_head = info.n_layers - 1, info.n_heads - 1
    _drop_out_of_range(f"{key}_layer", last_layer)
    default_layer = url_int(f"{key}_layer", low=0, high=last_layer, what="layer",
                            default=last_layer if info.n_layers < 8 else 2)
    layer = columns[0].slider("Layer", 0, last_layer, default_layer, key=f"{key}_layer")
    share(f"{key}_layer", layer)
    head = 0
    if with_head:
        _drop_out_of_range(f"{key}_head", last_head)
        default_head = url_int(f"{key}_head", low=0, high=last_head, default=0, what="head")
        head = columns[1].slider("Head", 0, last_head, default_head, key=f"{key}_head")
        share(f"{key}_head", head)
    return layer, head


def _drop_out_of_range(key: str, high: int) -> None:
    """Forget a remembered slider value that the newly loaded model does not have (e.g. layer 20 of 6)."""
    if not 0 <= st.session_state.get(key, 0) <= high:
        del st.session_state[key]


def token_ui(analysis: Analysis, *, key: str, label: str = "Token", default_word: str = "") -> int:
    """A token picker listing 'position: token'; defaults to the first occurrence of default_word."""
    from viz.figures.common import hover_labels

    labels = hover_labels(analysis.tokens)
    found = analysis.find_token(default_word) if default_word else None
    default = found if found is not None else int(min(1, analysis.n_tokens - 1) if analysis.special[0] else 0)
    default = url_int(key, low=0, high=analysis.n_tokens - 1, default=default, what="token position")
    signature = (analysis.model.key, analysis.tokens)
    if st.session_state.get(f"_{key}_tokens") != signature or st.session_state.get(key) not in range(analysis.n_tokens):
        # New text: start again from the default word. Set through session state (not index=) so the
        # browser's select box is told too, instead of keeping the old position's label.
        st.session_state[key] = default
        st.session_state[f"_{key}_tokens"] = signature
    chosen = st.selectbox(label, range(analysis.n_tokens), format_func=labels.__getitem__, key=key)
    share(key, chosen)
    return chosen


QKV_CACHE_BYTES = int(os.environ.get("ATTNVIZ_QKV_CACHE_MB", "256")) * 2**20


@st.cache_resource(show_spinner=False)
def _qkv_cache() -> BytesLRU:
    return BytesLRU(QKV_CACHE_BYTES, size_of=lambda qkv: 3 * qkv.queries.nbytes + qkv.mask.nbytes)


def get_qkv(loaded: LoadedModel, analysis: Analysis, layer: int):
    """Q, K, V of one layer, computed once per (model, text, pair, layer) and shared read-only between sessions."""
    from viz.model import attention_qkv

    def compute():
        qkv = attention_qkv(loaded, analysis, layer)
        for array in (qkv.queries, qkv.keys, qkv.values, qkv.kv_head, qkv.mask):
            array.setflags(write=False)
        return qkv

    key = (loaded.info.key, analysis.text, analysis.text_pair or "", analysis.n_tokens, layer)
    return _qkv_cache().get_or_compute(key, compute)


MAX_SENTENCES = 20
SAME_SENSE_SENTENCE = "we danced all night at the birthday party"  # a third "party", same sense as the first


def remembered_input(label: str, *, key: str, shared: str, default: str, area: bool = False, **options) -> str:
    """A text input (or area) whose value follows the user from page to page through session key `shared`."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(shared, default)
    widget = st.text_area if area else st.text_input
    value = widget(label, key=key, **options)
    st.session_state[shared] = value
    return value


def sentences_ui(*, key: str) -> list[str]:
    """The sidebar's text and second sentence, then one more sentence per line of a text area; duplicates dropped."""
    extra = remembered_input(
        "More sentences, one per line", key=f"{key}_sentences", shared="extra_sentences",
        default=SAME_SENSE_SENTENCE, area=True, height=100, max_chars=20_000,
        help="Compared with the sidebar's text and second sentence. Leave empty to use only those.",
    )
    chosen = selection()
    sentences = list(dict.fromkeys(s.strip() for s in [chosen.text, chosen.text_b, *extra.splitlines()] if s.strip()))
    if len(sentences) > MAX_SENTENCES:
        st.warning(f"Using the first {MAX_SENTENCES} of {len(sentences)} sentences.", icon="✂️")
    return sentences[:MAX_SENTENCES]


def get_analyses(loaded: LoadedModel, sentences: list[str]) -> list[Analysis]:
    """One cached analysis per sentence (each analysed on its own); sentences with nothing to analyse are skipped."""
    analyses = []
    for sentence in sentences:
        try:
            analysis = get_analysis(loaded, sentence)
        except EmptyText:
            continue
        for notice in analysis.notices:
            st.warning(f"{sentence[:40]}…: {notice}", icon="✂️")
        analyses.append(analysis)
    return analyses


WORD_STATES_CACHE_BYTES = int(os.environ.get("ATTNVIZ_WORD_STATES_CACHE_MB", "256")) * 2**20


@st.cache_resource(show_spinner=False)
def _word_states_cache() -> BytesLRU:
    return BytesLRU(WORD_STATES_CACHE_BYTES, size_of=lambda states: states.nbytes)


def get_word_states(loaded: LoadedModel, sentences: tuple[str, ...], word: str, progress=None):
    """One word's vectors across many sentences (batched passes, only those vectors kept), cached per input.

    progress(done, total) is called after each batch when the states are computed rather than cached.
    """
    from viz.model.embeddings import sentence_states
    from viz.projection import collect_word_states

    key = (loaded.info.key, tuple(sentences), word.strip().lower())
    return _word_states_cache().get_or_compute(
        key, lambda: collect_word_states(sentence_states(loaded, sentences, progress=progress), word)
    )


DERIVED_CACHE_BYTES = int(os.environ.get("ATTNVIZ_DERIVED_CACHE_MB", "256")) * 2**20


def _derived_size(value) -> int:
    if hasattr(value, "memory_usage"):  # a pandas DataFrame
        return int(value.memory_usage(deep=True).sum())
    return int(getattr(value, "nbytes", 1024))


@st.cache_resource(show_spinner=False)
def _derived_cache() -> BytesLRU:
    return BytesLRU(DERIVED_CACHE_BYTES, size_of=_derived_size)


def derived(analysis: Analysis, name: str, compute):
    """compute(analysis) once per (model, text, pair, name), e.g. a head summary or a rollout; shared read-only."""
    key = (analysis.model.key, analysis.text, analysis.text_pair or "", analysis.n_tokens, name)
    return _derived_cache().get_or_compute(key, lambda: compute(analysis))


def escape_markdown(text: str, limit: int = 60) -> str:
    """User text for st.markdown/st.warning: shortened, markdown and LaTeX characters escaped so it shows as typed."""
    import re

    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>$&])", r"\\\1", text)


def linked(key: str, draw, read, *, valid=lambda value: True):
    """A control restored from the shared link (first time) or its last value (after its tab was closed), drawn,
    and written back to the address bar. `read()` gives the link's value or the default (notice if bad)."""
    last = f"_{key}_last"
    if key not in st.session_state:
        kept = st.session_state.get(last)
        st.session_state[key] = kept if kept is not None and valid(kept) else read()
    value = draw()
    st.session_state[last] = value
    share(key, int(value) if isinstance(value, bool) else value)
    return value
