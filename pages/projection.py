"""PCA projection: hidden states of every token (or of one word across many sentences) in 2-D/3-D, layer by layer."""

import html
import textwrap

import numpy as np
import streamlit as st

from viz import projection as proj
from viz import similarity as sim
from viz.figures.common import visible
from viz.figures.projection import projection_figure
from viz.figures.similarity import layer_lines
from viz.sense_sets import BUILT_IN, MAX_SENTENCES, SenseSet, SenseSetError, parse_csv
from viz.ui import (
    current_model,
    escape_markdown,
    get_analyses,
    get_word_states,
    remembered_input,
    sentences_ui,
    share,
    share_text,
    url_bool,
    url_choice,
    url_int,
    url_str,
)
from viz.ui_classroom import secondary, tour_ui
from viz.ui_export import chart, export_ui

TYPED, BUILT, UPLOAD = "Your sentences", "Built-in sense set", "Upload a CSV"
SOURCES, METHODS, VIEWS = [TYPED, BUILT, UPLOAD], ["PCA", "t-SNE"], ["2-D", "3-D"]
TSNE_WARN_POINTS = 1500


def radio_from_link(where, label: str, options: list[str], *, key: str, **more) -> str:
    """A horizontal radio whose first value may come from a shared link; its choice goes back into the link."""
    start = url_choice(key, options, default=options[0], what=label.lower())
    value = where.radio(label, options, index=options.index(start), horizontal=True, key=key, **more)
    share(key, value)
    return value


st.title("PCA projection")
tour_ui("projection")
st.markdown(
    "Each token's hidden state is a point in a space of hundreds of dimensions. **PCA** finds the 2 or 3 "
    "directions in which the points spread most and draws them there. Press **▶ Play** to watch the points "
    "move layer by layer: do the uses of one word drift apart when their meanings differ?"
)
with st.expander("How the picture is made"):
    st.markdown(
        "Every vector is first scaled to length 1, the geometry that cosine similarity sees. PCA is then fitted "
        "**separately at each layer**, and an axis is flipped when it points the opposite way from the layer "
        "before, so the animation does not jump. Vector lengths change a lot between layers (in a decoder the "
        "first token's grows to thousands), so a single basis for all layers would squeeze most layers into a "
        "dot. The price: the axes of two layers are not the same directions; compare shapes and groupings, not "
        "positions. The share of variance each axis explains is in the title of every frame."
    )

loaded = current_model()
info = loaded.info
source = radio_from_link(st, "Sentences", SOURCES, key="proj_source")
columns = st.columns([1, 1, 2])
method = secondary("proj_method", lambda: radio_from_link(
    columns[0], "Method", METHODS, key="proj_method",
    help="t-SNE shows neighbourhoods better than PCA, but distances between groups mean little."), "PCA")
dims = 3 if radio_from_link(columns[1], "View", VIEWS, key="proj_dims") == "3-D" else 2
layer = columns[2].slider("Layer (0 = input embeddings)", 0, info.n_layers, key="proj_layer",
                          value=url_int("proj_layer", low=0, high=info.n_layers, default=info.n_layers, what="layer"),
                          help="PCA: the frame the animation starts from. t-SNE: the layer shown.")
share("proj_layer", layer)


def hover_text(token: str, sentence_index: int, sentence: str, extra: str = "") -> str:
    """Hover for one point: the token and its whole sentence, escaped so typed text is shown, never run."""
    wrapped = "<br>".join(html.escape(line) for line in textwrap.wrap(sentence, 60))
    return f"<b>{html.escape(visible(token))}</b> · S{sentence_index + 1}{extra}<br>{wrapped}"


def typed_points(include_special: bool):
    for key, limit in (("proj_sentences", 2000), ("proj_word", 60)):  # from a shared link, before the inputs
        if (restored := url_str(key, limit=limit)) is not None:
            st.session_state[key] = restored
    sentences = sentences_ui(key="proj")
    share_text("proj_sentences", st.session_state["proj_sentences"])
    analyses = get_analyses(loaded, sentences)
    if not analyses:
        st.info("Type a sentence in the sidebar or in the box above to project its tokens.", icon="✍️")
        st.stop()
    word = remembered_input("Word to highlight", key="proj_word", shared="chosen_word", default="party",
                            max_chars=60)
    share_text("proj_word", word)
    occurrences = sim.find_occurrences(analyses, word)
    for index in sim.sentences_without(analyses, occurrences) if word.strip() else []:
        missing = f"S{index + 1} has no “{escape_markdown(word.strip(), 40)}”"
        st.warning(f"{missing}: {escape_markdown(analyses[index].text, 80)}", icon="🔎")
    points = proj.token_points(analyses, occurrences, skip_special=not include_special)
    texts = [a.text for a in analyses]
    hover = [hover_text(t, s, texts[s], f", position {p}")
             for t, s, p in zip(points.token, points.sentence, points.position, strict=True)]
    short = [f"S{i + 1}: {t if len(t) <= 28 else t[:27] + '…'}" for i, t in enumerate(texts)]
    group = [short[s] for s in points.sentence]  # legend entries name their sentence
    return points, group, hover, [f"S{s + 1}" for s in points.sentence], None, analyses


def sense_set_ui() -> SenseSet | None:
    if source == BUILT:
        start = url_choice("proj_set", list(BUILT_IN), default=next(iter(BUILT_IN)), what="sense set")
        name = st.selectbox("Sense set", list(BUILT_IN), key="proj_set", index=list(BUILT_IN).index(start),
                            format_func=lambda w: f"{w}: {', '.join(dict.fromkeys(BUILT_IN[w].labels))}")
        share("proj_set", name)
        return BUILT_IN[name]
    upload = st.file_uploader("CSV file: one sentence per row; optional second column (or a 'sense' column) with "
                              "the sense label", type=["csv", "txt"], key="proj_csv")
    if upload is None:
        st.info(f"Upload a CSV with up to {MAX_SENTENCES} sentences, or pick the built-in sense set.", icon="📄")
        st.stop()
    try:
        sense_set = parse_csv(upload.getvalue())
    except SenseSetError as error:
        st.error(str(error), icon="📄")
        st.stop()
    for notice in sense_set.notices:
        st.warning(notice)
    word = st.text_input("Word the sentences share", key="proj_csv_word", max_chars=60)
    if not word.strip():
        st.info("Type the word to follow through these sentences.", icon="🔎")
        st.stop()
    return SenseSet(word.strip(), sense_set.sentences, sense_set.labels)


def sense_points():
    sense_set = sense_set_ui()
    with st.expander(f"The {len(sense_set.sentences)} sentences"):
        st.dataframe({"sense": list(sense_set.labels) or [""] * len(sense_set.sentences),
                      "sentence": list(sense_set.sentences)}, key="proj_sentences_table")
    bar = st.progress(0.0, text="Running the model over the sentences…")
    states = get_word_states(loaded, sense_set.sentences, sense_set.word,
                             progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total} sentences"))
    bar.empty()
    if states.missing:
        shown = ", ".join(f"S{i + 1}" for i in states.missing[:15]) + (" …" if len(states.missing) > 15 else "")
        word = escape_markdown(sense_set.word, 40)
        st.warning(f"{len(states.missing)} sentence(s) have no “{word}”: {shown}", icon="🔎")
    if states.cut:
        st.warning(f"{len(states.cut)} sentence(s) were longer than 64 tokens and were cut.", icon="✂️")
    if len(states.sentence) < 3:
        st.info("At least three sentences must contain the word to project it.", icon="🔎")
        st.stop()
    labels = [sense_set.labels[i] for i in states.sentence] if sense_set.labels else []
    hover = [hover_text(w, s, sense_set.sentences[s], f", {labels[n]}" if labels else "")
             for n, (w, s) in enumerate(zip(states.written, states.sentence, strict=True))]
    points = proj.Points(states.states, states.sentence, states.written, np.zeros(len(states.sentence), dtype=int),
                         np.ones(len(states.sentence), dtype=bool), tuple(labels))
    return points, labels or ["sentences"] * len(hover), hover, [f"S{s + 1}" for s in states.sentence], labels, []


include_special = source == TYPED and secondary("proj_special", lambda: st.toggle(
    "Include special tokens", key="proj_special", help="[CLS]/[SEP] and similar sit far from the words.",
    value=url_bool("proj_special", default=False, what="include special tokens")), False)
if source == TYPED:
    share("proj_special", include_special)
points, group, hover, text, labels, analyses = typed_points(include_special) if source == TYPED else sense_points()
shown = export_ui("projection", model=info, analyses=analyses, title="PCA projection")
shown.update({"method": method, "dimensions": dims, "start_layer": layer, "group": group, "points": text,
              "highlighted": points.highlight, "sense": labels or []})
if points.states.shape[1] < 2:
    st.info("There are too few tokens to project; type a longer sentence.", icon="✍️")
    st.stop()
if method == "PCA":
    projection = proj.pca_over_layers(points.states, dims)
    shown.update({"coordinates_by_layer": projection.coords, "variance_explained_by_layer": projection.explained})
    figure = projection_figure(coords=projection.coords, explained=projection.explained, group=group,
                               highlight=points.highlight, hover=hover, text=text, start_layer=layer,
                               title=f"PCA of {points.states.shape[1]} vectors")
else:
    seed = st.number_input("t-SNE random seed", 0, 10_000, key="proj_seed",
                           value=url_int("proj_seed", low=0, high=10_000, default=0, what="t-SNE seed"),
                           help="t-SNE starts from random positions; the same seed gives the same picture.")
    share("proj_seed", seed)
    if points.states.shape[1] < 4:
        st.info("t-SNE needs at least 4 points.")
        st.stop()
    if points.states.shape[1] > TSNE_WARN_POINTS:
        st.warning(f"t-SNE of {points.states.shape[1]:,} points takes a while.")
    with st.spinner("t-SNE…"):
        coords = proj.tsne_layer(points.states[layer], seed=seed, n_components=dims)
    shown.update({"coordinates": coords, "layer": layer, "seed": seed})
    figure = projection_figure(coords=coords[None], explained=np.zeros((1, dims)), group=group,
                               highlight=points.highlight, hover=hover, text=text, axis_name="t-SNE ",
                               layer_names=[str(layer)], title=f"t-SNE (seed {seed}) of {points.states.shape[1]} "
                                                               "vectors")
chart(figure, key="proj_chart")
st.caption(f"Layer 0 for {info.name} is {sim.layer_zero_note(info.family)}")

if labels and len(set(labels)) >= 2 and len(labels) > len(set(labels)):
    st.header("Where do the senses separate?")
    scores = proj.separation_by_layer(points.states, labels)
    chart(layer_lines(series=scores, title=f"How well the senses of “{visible(points.token[0])}” separate, "
                                           "layer by layer", y_title="score", marked_layer=layer,
                      y_range=(min(-0.1, float(scores['silhouette'].min()) - 0.05), 1.05)),
          key="proj_separation_chart")
    shown["separation_by_layer"] = scores
    best = int(np.argmax(scores["silhouette"]))
    st.markdown(f"Best separated at **layer {best}** (silhouette {scores['silhouette'][best]:.2f}, nearest-centroid "
                f"accuracy {scores['nearest-centroid accuracy'][best]:.0%}); at layer 0: silhouette "
                f"{scores['silhouette'][0]:.2f}, accuracy {scores['nearest-centroid accuracy'][0]:.0%}.")
    st.caption("Silhouette (cosine distance): +1 when every sentence is much closer to its own sense than to the "
               "others, 0 when the senses overlap. Nearest-centroid accuracy: share of sentences whose vector is "
               "closer to the average of its own sense (itself left out) than to any other sense's average.")
