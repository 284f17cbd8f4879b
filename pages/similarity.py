"""Word senses: cosine similarity of token vectors within and across sentences, layer by layer."""

import pandas as pd
import streamlit as st

from viz import similarity as sim
from viz.figures.common import visible
from viz.figures.similarity import cosine_heatmap, group_colour, layer_lines
from viz.text import escape_markdown as plain
from viz.ui.classroom import chart_first, reveal_ui, secondary, settings_box, tour_ui
from viz.ui.export import chart, export_ui
from viz.ui.links import ON_OFF, linked, one_of, whole
from viz.ui.sidebar import current_model
from viz.ui.widgets import Sentences, choose, sentences_ui
from viz.views.attribution import word_pair_ui
from viz.views.edits import senses_edit_ui

MAP_TABS = ("Across two sentences", "Within one sentence")


def word_by_layer_ui(found: Sentences, shown: dict) -> None:
    """The chosen word's cosine with its use in a reference sentence, layer by layer, one line per sentence."""
    info, word, texts = found.analyses[0].model, found.word.strip(), found.texts
    st.header(f"“{plain(word, 40) or '…'}” across sentences, layer by layer")
    containing = sorted(sim.first_per_sentence(found.occurrences))
    if len(containing) < 2:
        st.info("Type a word that appears in at least two of the sentences to compare its vectors across them "
                "(the default sentences share “party”).", icon=":material/search:")
        return
    spot, controls = chart_first()  # presentation mode: the chart before the sentence picker and the question
    with controls:
        reference = containing[choose(st, "Compare the word in", [sim.sentence_label(i, texts) for i in containing],
                                      key="sim_reference", help="…with its first occurrence in every other sentence.")]
        by_layer = sim.word_similarity_by_layer(found.analyses, found.occurrences, reference)
        shown["by_layer"] = {"reference": f"S{reference + 1}", **{f"S{i + 1}": v for i, v in by_layer.items()}}
        if not reveal_ui(**sim.closest_question(f"“{plain(word, 40)}”", reference, by_layer, texts)):
            st.stop()
    last = {i: values[-1] for i, values in by_layer.items()}
    series = {f"S{reference + 1} vs {sim.sentence_label(i, texts)}": values for i, values in by_layer.items()}
    colours = {name: group_colour(i) for name, i in zip(series, by_layer, strict=True)}
    chart(layer_lines(series=series, colours=colours,
                      title=f"Cosine of “{visible(word)}” in S{reference + 1} with the same word elsewhere"),
          key="sim_lines_chart", where=spot)
    closest, farthest = max(last, key=last.get), min(last, key=last.get)
    summary = ", ".join(f"S{i + 1} {value:.2f}" for i, value in last.items())
    st.markdown(f"At the last layer ({info.n_layers}): {summary}. "
                + (f"Most alike: **S{closest + 1}**; least alike: **S{farthest + 1}**." if len(last) > 1 else ""))
    first = sim.first_per_sentence(found.occurrences)
    positions = {i: first[i].positions[0] for i in [reference, *by_layer]}
    st.caption(
        f"Layer 0 for {info.name} is {sim.layer_zero_note(info.family)} Here the word sits at token position(s) "
        + ", ".join(f"{p} in S{i + 1}" for i, p in positions.items())
        + "; layer-0 cosine: " + ", ".join(f"S{i + 1} {v[0]:.3f}" for i, v in by_layer.items()) + ".")
    with st.expander("Values by layer"):
        st.dataframe(pd.DataFrame(by_layer).rename(columns=lambda i: f"S{reference + 1} vs S{i + 1}").round(4)
                     .rename_axis("layer"), key="sim_values_table")


def maps_ui(found: Sentences, layer: int, shown: dict) -> None:
    """Token × token cosine maps at one layer, across two sentences and within one."""
    analyses, labels = found.analyses, [sim.sentence_label(i, found.texts) for i in range(len(found.analyses))]
    # lazy tabs: only the open one runs (the hidden one cost every view a map built, sent and drawn unseen)
    across, within = linked("sim_view", one_of(MAP_TABS), MAP_TABS[0], lambda: st.tabs(
        MAP_TABS, key="sim_view", on_change="rerun"))
    if across.open:
        with across:
            across_ui(analyses, labels, layer, shown)
    if within.open:
        with within:
            within_ui(analyses, labels, layer, shown)


def across_ui(analyses, labels: list[str], layer: int, shown: dict) -> None:
    """The map of one sentence's tokens against another's."""
    if len(analyses) < 2:
        st.info("Add a second sentence (in the sidebar, or the sentences box) to compare two sentences.",
                icon=":material/add:")
        return
    columns = st.columns(2)
    a = choose(columns[0], "Rows: sentence", labels, key="sim_a")
    b = choose(columns[1], "Columns: sentence", labels, key="sim_b", index=1)
    matrix = sim.cross_similarity(analyses[a].hidden_states, analyses[b].hidden_states, layer)
    chart(cosine_heatmap(matrix=matrix, row_tokens=analyses[a].tokens, col_tokens=analyses[b].tokens,
                         title=f"S{a + 1} × S{b + 1} at layer {layer}", row_title=f"S{a + 1}",
                         col_title=f"S{b + 1}"), key="sim_cross_chart")
    shown["across"] = {"rows": f"S{a + 1}", "columns": f"S{b + 1}", "cosine": matrix}


def within_ui(analyses, labels: list[str], layer: int, shown: dict) -> None:
    """The map of one sentence's tokens against each other."""
    one = choose(st, "Sentence", labels, key="sim_one")
    matrix = sim.token_similarity(analyses[one].hidden_states, layer)
    chart(cosine_heatmap(matrix=matrix, row_tokens=analyses[one].tokens, col_tokens=analyses[one].tokens,
                         title=f"S{one + 1} × S{one + 1} at layer {layer}"), key="sim_within_chart")
    shown["within"] = {"sentence": f"S{one + 1}", "cosine": matrix}


def neighbours_ui(found: Sentences, layer: int, shown: dict) -> None:
    """The ten tokens of all sentences whose vectors at this layer point most nearly like one occurrence's."""
    st.header("Nearest tokens at this layer")
    if not found.occurrences:
        st.info(f"“{plain(found.word.strip(), 40)}” is in none of the sentences, so there is no vector to start "
                "from.", icon=":material/search:")
        return
    labels = [f"S{o.sentence + 1}, token {'+'.join(map(str, o.positions))}: {o.word}" for o in found.occurrences]
    chosen = found.occurrences[choose(st, "Occurrence", labels, key="sim_occurrence")]
    skip_special = linked("sim_skip_special", ON_OFF, True, secondary(lambda: st.toggle(
        "Leave out special tokens", key="sim_skip_special")))
    rows = sim.nearest_tokens(found.analyses, chosen, layer, k=10, skip_special=skip_special)
    if not rows:
        st.info("There are no other tokens to compare with.")
        return
    shown["nearest"] = {"occurrence": chosen.positions, "sentence": chosen.sentence + 1, "tokens": rows}
    table = pd.DataFrame(rows)
    table["token"] = table["token"].map(visible)
    table["sentence"] = table["sentence"].map(lambda s: sim.sentence_label(s - 1, found.texts))
    st.dataframe(table, hide_index=True, key="sim_neighbours_table",
                 column_config={"cosine": st.column_config.ProgressColumn("cosine", min_value=0.0, max_value=1.0,
                                                                          format="%.3f")})
    vector_of = "the average of its pieces" if len(chosen.positions) > 1 else "its token"
    st.caption(f"The 10 tokens of all {len(found.analyses)} sentences whose layer-{layer} vectors point most nearly "
               f"the same way as this occurrence's ({vector_of}).")


st.title("Word senses")
tour_ui("similarity")
place, controls = chart_first()  # presentation mode: the word's curve first, the sentences (one line, closed) below
with controls:
    st.markdown(
        "Is *party* in one sentence the same *party* as in another? Every layer gives each token a vector; "
        "**cosine similarity** (1 = same direction, 0 = unrelated) compares them. Follow one word through the layers "
        "and see where the model starts to tell its senses apart."
    )
    info = current_model()
    with settings_box("The sentences compared and the word followed"):
        found = sentences_ui(info.key, key="sim", word_label="Word to follow")
shown = export_ui("similarity", model=info, analyses=found.analyses, title="Word senses")
shown["word"] = found.word
with place:
    word_by_layer_ui(found, shown)
word_pair_ui(found, shown)
st.header("Every token against every token, at one layer")
layer = linked("sim_layer", whole(0, info.n_layers), info.n_layers, lambda: st.slider(
    "Layer (0 = input embeddings)", 0, info.n_layers, key="sim_layer"))
shown["layer"] = layer
maps_ui(found, layer, shown)
neighbours_ui(found, layer, shown)
senses_edit_ui(found, shown)
