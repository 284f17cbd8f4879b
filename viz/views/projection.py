"""PCA projection: the points to project, from the typed sentences or from a sense set (built in or uploaded)."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

import numpy as np
import streamlit as st

from viz import projection as proj
from viz.analysis import Analysis, ModelInfo
from viz.figures.common import visible
from viz.sense_sets import BUILT_IN, MAX_SENTENCES, SenseSet, SenseSetError, parse_csv
from viz.text import escape_markdown
from viz.ui import cached
from viz.ui.links import linked, one_of, text
from viz.ui.widgets import sentences_ui


@dataclass(frozen=True)
class Drawn:
    """Points ready to draw: the vectors, each point's legend group, hover and marker text, sense labels."""

    points: proj.Points
    group: list[str]
    hover: list[str]
    text: list[str]
    labels: list[str]
    analyses: list[Analysis]
    key: tuple  # everything the points depend on: a key for results shared by every session


def hover_text(token: str, sentence_index: int, sentence: str, extra: str = "") -> str:
    """Hover for one point: the token and its whole sentence, escaped so typed text is shown, never run."""
    wrapped = "<br>".join(html.escape(line) for line in textwrap.wrap(sentence, 60))
    return f"<b>{html.escape(visible(token))}</b> · S{sentence_index + 1}{extra}<br>{wrapped}"


def typed_points(info: ModelInfo, include_special: bool) -> Drawn:
    """Every token of the sidebar's sentences and the box's, the chosen word highlighted."""
    found = sentences_ui(info.key, key="proj", word_label="Word to highlight")
    points = proj.token_points(found.analyses, found.occurrences, skip_special=not include_special)
    texts = found.texts
    hover = [hover_text(t, s, texts[s], f", position {p}")
             for t, s, p in zip(points.token, points.sentence, points.position, strict=True)]
    short = [f"S{i + 1}: {t if len(t) <= 28 else t[:27] + '…'}" for i, t in enumerate(texts)]
    group = [short[s] for s in points.sentence]  # legend entries name their sentence
    key = (info.key, "typed", tuple(texts), found.word, include_special)
    return Drawn(points, group, hover, [f"S{s + 1}" for s in points.sentence], [], found.analyses, key)


def sense_set_ui(source: str, built_in: str) -> SenseSet:
    """The built-in sense set picked, or an uploaded CSV and its word; stops the page until there is one."""
    if source == built_in:
        names = list(BUILT_IN)
        name = linked("proj_set", one_of(names), names[0], lambda: st.selectbox(
            "Sense set", names, key="proj_set",
            format_func=lambda w: f"{w}: {', '.join(dict.fromkeys(BUILT_IN[w].labels))}"))
        return BUILT_IN[name]
    upload = st.file_uploader("CSV file: one sentence per row; optional second column (or a 'sense' column) with "
                              "the sense label", type=["csv", "txt"], key="proj_csv")
    if upload is None:
        st.info(f"Upload a CSV with up to {MAX_SENTENCES} sentences, or pick the built-in sense set.",
                icon=":material/description:")
        st.stop()
    try:
        sense_set = parse_csv(upload.getvalue())
    except SenseSetError as error:
        st.error(str(error), icon=":material/description:")
        st.stop()
    for notice in sense_set.notices:
        st.warning(notice)
    word = linked("proj_csv_word", text(60), "", lambda: st.text_input(
        "Word the sentences share", key="proj_csv_word", max_chars=60))
    if not word.strip():
        st.info("Type the word to follow through these sentences.", icon=":material/search:")
        st.stop()
    return SenseSet(word.strip(), sense_set.sentences, sense_set.labels)


def sense_points(info: ModelInfo, source: str, built_in: str) -> Drawn:
    """One point per sentence of a sense set: the shared word's vector there, labelled with its sense."""
    sense_set = sense_set_ui(source, built_in)
    with st.expander(f"The {len(sense_set.sentences)} sentences"):
        st.dataframe({"sense": list(sense_set.labels) or [""] * len(sense_set.sentences),
                      "sentence": list(sense_set.sentences)}, key="proj_sentences_table")
    bar = st.progress(0.0, text="Running the model over the sentences…")
    states = cached.word_states(info.key, sense_set.sentences, sense_set.word,
                                progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total} "
                                                                                               "sentences"))
    bar.empty()
    if states.missing:
        listed = ", ".join(f"S{i + 1}" for i in states.missing[:15]) + (" …" if len(states.missing) > 15 else "")
        st.warning(f"{len(states.missing)} sentence(s) have no “{escape_markdown(sense_set.word, 40)}”: {listed}",
                   icon=":material/search:")
    if states.cut:
        st.warning(f"{len(states.cut)} sentence(s) were longer than 64 tokens and were cut.",
                   icon=":material/content_cut:")
    if len(states.sentence) < 3:
        st.info("At least three sentences must contain the word to project it.", icon=":material/search:")
        st.stop()
    labels = [sense_set.labels[i] for i in states.sentence] if sense_set.labels else []
    hover = [hover_text(w, s, sense_set.sentences[s], f", {labels[n]}" if labels else "")
             for n, (w, s) in enumerate(zip(states.written, states.sentence, strict=True))]
    points = proj.Points(states.states, states.sentence, states.written, np.zeros(len(states.sentence), dtype=int),
                         np.ones(len(states.sentence), dtype=bool), tuple(labels))
    key = (info.key, "sense set", tuple(sense_set.sentences), tuple(sense_set.labels), sense_set.word)
    return Drawn(points, labels or ["sentences"] * len(hover), hover, [f"S{s + 1}" for s in states.sentence],
                 labels, [], key)
