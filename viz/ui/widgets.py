"""Small *_ui() helpers several pages share: layer/head and token pickers, sentence lists and the word to follow.

Each draws its widgets (kept in the link through viz/ui/links.py) and returns plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from viz import similarity as sim
from viz.analysis import Analysis, ModelInfo
from viz.figures.common import hover_labels
from viz.text import escape_markdown
from viz.ui.links import linked, one_of, text, whole
from viz.ui.sidebar import analyses_of, selection

MAX_SENTENCES = 20
SAME_SENSE_SENTENCE = "we danced all night at the birthday party"  # a third "party", same sense as the first


def layer_head_ui(info: ModelInfo, *, key: str, with_head: bool = True) -> tuple[int, int]:
    """Layer and head sliders (numbered from 0, as in the model); returns (layer, head)."""
    columns = st.columns(2)
    layer = number_ui(columns[0], "Layer", key=f"{key}_layer", last=info.n_layers - 1,
                      default=info.n_layers - 1 if info.n_layers < 8 else 2)
    head = number_ui(columns[1], "Head", key=f"{key}_head", last=info.n_heads - 1, default=0) if with_head else 0
    return layer, head


def number_ui(where, label: str, *, key: str, last: int, default: int, first: int = 0) -> int:
    """A slider from first to last kept in the link; a caption instead when there is only one value to pick."""
    if last <= first:  # a slider needs two values (a 1-layer or 1-head model has one)
        where.caption(f"{label}: {first} (the only one)")
        return first
    return linked(key, whole(first, last), default, lambda: where.slider(label, first, last, key=key))


def token_ui(analysis: Analysis, *, key: str, label: str = "Token", default_word: str = "") -> int:
    """A token picker listing 'position: token'; a new text starts again from the first `default_word`."""
    labels = hover_labels(analysis.tokens)
    found = analysis.find_token(default_word) if default_word else None
    default = found if found is not None else int(min(1, analysis.n_tokens - 1) if analysis.special[0] else 0)
    signature = (analysis.model.key, analysis.tokens)
    if st.session_state.get(f"_{key}_tokens") not in (None, signature):
        # New text: start again from the default word. Set through session state so the browser's box is told too.
        st.session_state[key] = st.session_state[f"_kept_{key}"] = default
    st.session_state[f"_{key}_tokens"] = signature
    return linked(key, whole(0, analysis.n_tokens - 1), default, lambda: st.selectbox(
        label, range(analysis.n_tokens), format_func=labels.__getitem__, key=key))


def choose(where, title: str, labels: Sequence[str], *, key: str, index: int = 0, **options) -> int:
    """A select box over text labels (so an edited sentence shows its new text), kept in the link by position."""
    labels = list(labels)
    chosen = linked(key, one_of(labels, by_position=True), labels[min(index, len(labels) - 1)],
                    lambda: where.selectbox(title, labels, key=key, **options))
    return labels.index(chosen)


def remembered_input(label: str, *, key: str, shared: str, default: str, limit: int, area: bool = False,
                     **options) -> str:
    """A text input (or area) kept in the link, whose value also follows the person from page to page (`shared`)."""
    widget = st.text_area if area else st.text_input
    value = linked(key, text(limit), st.session_state.get(shared, default),
                   lambda: widget(label, key=key, max_chars=limit, **options))
    st.session_state[shared] = value
    return value


@dataclass(frozen=True)
class Sentences:
    """The sentences a comparison page reads, their analyses, the word followed and where it occurs."""

    analyses: list[Analysis]
    word: str
    occurrences: list[sim.Occurrence]

    @property
    def texts(self) -> list[str]:
        return [analysis.text for analysis in self.analyses]


def sentences_ui(model_key: str, *, key: str, word_label: str) -> Sentences:
    """The sidebar's texts plus one sentence per line of a box, their analyses, and the word to follow.

    Stops the page with a prompt when there is no sentence; warns about sentences without the word.
    """
    extra = remembered_input(
        "More sentences, one per line", key=f"{key}_sentences", shared="extra_sentences", limit=20_000,
        default=SAME_SENSE_SENTENCE, area=True, height=100,
        help="Compared with the sidebar's text and second sentence. Leave empty to use only those.")
    chosen = selection()
    texts = list(dict.fromkeys(s.strip() for s in [chosen.text, chosen.text_b, *extra.splitlines()] if s.strip()))
    if len(texts) > MAX_SENTENCES:
        st.warning(f"Using the first {MAX_SENTENCES} of {len(texts)} sentences.", icon=":material/content_cut:")
    analyses = analyses_of(model_key, texts[:MAX_SENTENCES])
    if not analyses:
        st.info("Type a sentence in the sidebar or in the sentences box to compare words across sentences.",
                icon=":material/edit:")
        st.stop()
    word = remembered_input(word_label, key=f"{key}_word", shared="chosen_word", default="party", limit=60,
                            help="Found as a whole word; a word split into pieces uses their average.")
    occurrences = sim.find_occurrences(analyses, word)
    for index in sim.sentences_without(analyses, occurrences) if word.strip() else []:
        st.warning(f"S{index + 1} has no “{escape_markdown(word.strip(), 40)}”: "
                   f"{escape_markdown(analyses[index].text, 80)}", icon=":material/search:")
    return Sentences(analyses, word, occurrences)
