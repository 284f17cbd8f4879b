"""Word senses: cosine similarity of token vectors within and across sentences, layer by layer."""

import pandas as pd
import streamlit as st

from viz import similarity as sim
from viz.figures.common import visible
from viz.figures.similarity import cosine_heatmap, group_colour, layer_lines
from viz.ui import (
    current_model,
    get_analyses,
    remembered_input,
    sentences_ui,
    share,
    share_text,
    url_bool,
    url_choice,
    url_int,
    url_str,
)
from viz.ui import escape_markdown as plain
from viz.ui_classroom import reveal_ui, secondary, tour_ui
from viz.ui_export import chart, export_ui

st.title("Word senses")
tour_ui("similarity")
st.markdown(
    "Is *party* in one sentence the same *party* as in another? Every layer gives each token a vector; "
    "**cosine similarity** (1 = same direction, 0 = unrelated) compares them. Follow one word through the layers "
    "and see where the model starts to tell its senses apart."
)


def label(index: int, sentences: list[str], limit: int = 45) -> str:
    text = sentences[index]
    return f"S{index + 1}: {text if len(text) <= limit else text[: limit - 1] + '…'}"


def choose(where, title: str, labels: list[str], *, key: str, index: int = 0, **options) -> int:
    """A selectbox over text labels, returning the position picked.

    Labels rather than positions as options, so that a changed sentence shows its new text, not the old one.
    """
    if st.session_state.get(key) not in labels:  # set, not dropped: only a set value reaches the browser's box
        positions = range(len(labels))
        st.session_state[key] = labels[url_choice(key, positions, default=min(index, len(labels) - 1),
                                                  what=title.lower())]
    chosen = labels.index(where.selectbox(title, labels, key=key, **options))
    share(key, chosen)  # the position, so a link stays short
    return chosen


def closest_question(word: str, reference: int, by_layer: dict, sentences: list[str]) -> dict:
    """Predict-then-reveal for the line chart: where is the word closest to the reference sentence's at the end?"""
    name = f"“{plain(word.strip(), 40)}”"
    last = {i: values[-1] for i, values in by_layer.items()}
    if len(last) == 1:
        ((other, values),) = by_layer.items()
        return {"question": f"Compared with layer 1, is {name} in S{other + 1} more or less like {name} in "
                            f"S{reference + 1} at the last layer?", "key": "sim_reveal",
                "options": ["more alike", "less alike"], "answer": "less alike" if values[-1] < values[1] else
                "more alike"}
    return {"question": f"At the last layer, in which sentence is {name} most like {name} in S{reference + 1}?",
            "key": "sim_reveal", "options": [label(i, sentences) for i in last],
            "answer": label(max(last, key=last.get), sentences)}


def restore_texts() -> None:
    """The sentences box and the word, from a shared link (before their inputs are drawn)."""
    for key, limit in (("sim_sentences", 2000), ("sim_word", 60)):
        restored = url_str(key, limit=limit)
        if restored is not None:
            st.session_state[key] = restored


loaded = current_model()
info = loaded.info
restore_texts()
sentences = sentences_ui(key="sim")
share_text("sim_sentences", st.session_state["sim_sentences"])
analyses = get_analyses(loaded, sentences)
if not analyses:
    st.info("Type a sentence in the sidebar or in the box above to compare words across sentences.", icon="✍️")
    st.stop()
sentences = [analysis.text for analysis in analyses]
word = remembered_input("Word to follow", key="sim_word", shared="chosen_word", default="party",
                        max_chars=60, help="Found as a whole word; a word split into pieces uses their average.")
share_text("sim_word", word)
shown = export_ui("similarity", model=info, analyses=analyses, title="Word senses")
shown["word"] = word
occurrences = sim.find_occurrences(analyses, word)
for index in sim.sentences_without(analyses, occurrences) if word.strip() else []:
    st.warning(f"S{index + 1} has no “{plain(word.strip(), 40)}”: {plain(sentences[index])}", icon="🔎")

# 1. one word across layers
st.header(f"“{plain(word.strip(), 40) or '…'}” across sentences, layer by layer")
containing = sorted(sim.first_per_sentence(occurrences))
if len(containing) < 2:
    st.info("Type a word that appears in at least two of the sentences to compare its vectors across them "
            "(the default sentences share “party”).", icon="🔎")
else:
    reference = containing[choose(st, "Compare the word in", [label(i, sentences) for i in containing],
                                  key="sim_reference", help="…with its first occurrence in every other sentence.")]
    by_layer = sim.word_similarity_by_layer(analyses, occurrences, reference)
    shown["by_layer"] = {"reference": f"S{reference + 1}", **{f"S{i + 1}": v for i, v in by_layer.items()}}
    if not reveal_ui(**closest_question(word, reference, by_layer, sentences)):
        st.stop()
    last = {i: values[-1] for i, values in by_layer.items()}
    series = {f"S{reference + 1} vs {label(i, sentences)}": values for i, values in by_layer.items()}
    colours = {name: group_colour(i) for name, i in zip(series, by_layer, strict=True)}
    chart(layer_lines(series=series, colours=colours,
                      title=f"Cosine of “{visible(word.strip())}” in S{reference + 1} with the same word elsewhere"),
          key="sim_lines_chart")
    closest, farthest = max(last, key=last.get), min(last, key=last.get)
    summary = ", ".join(f"S{i + 1} {value:.2f}" for i, value in last.items())
    st.markdown(f"At the last layer ({info.n_layers}): {summary}. "
                + (f"Most alike: **S{closest + 1}**; least alike: **S{farthest + 1}**." if len(last) > 1 else ""))
    first = sim.first_per_sentence(occurrences)
    positions = {i: first[i].positions[0] for i in [reference, *by_layer]}
    st.caption(
        f"Layer 0 for {info.name} is {sim.layer_zero_note(info.family)} Here the word sits at token position(s) "
        + ", ".join(f"{p} in S{i + 1}" for i, p in positions.items())
        + "; layer-0 cosine: " + ", ".join(f"S{i + 1} {v[0]:.3f}" for i, v in by_layer.items()) + "."
    )
    with st.expander("Values by layer"):
        st.dataframe(pd.DataFrame(by_layer).rename(columns=lambda i: f"S{reference + 1} vs S{i + 1}").round(4)
                     .rename_axis("layer"), key="sim_values_table")

# 2. maps at one layer
st.header("Every token against every token, at one layer")
layer = st.slider("Layer (0 = input embeddings)", 0, info.n_layers, key="sim_layer",
                  value=url_int("sim_layer", low=0, high=info.n_layers, default=info.n_layers, what="layer"))
share("sim_layer", layer)
shown["layer"] = layer
across, within = st.tabs(["Across two sentences", "Within one sentence"])
with across:
    if len(analyses) < 2:
        st.info("Add a second sentence (sidebar, or the box above) to compare two sentences.", icon="➕")
    else:
        columns = st.columns(2)
        labels = [label(i, sentences) for i in range(len(analyses))]
        a = choose(columns[0], "Rows: sentence", labels, key="sim_a")
        b = choose(columns[1], "Columns: sentence", labels, key="sim_b", index=1)
        matrix = sim.cross_similarity(analyses[a].hidden_states, analyses[b].hidden_states, layer)
        chart(cosine_heatmap(matrix=matrix, row_tokens=analyses[a].tokens, col_tokens=analyses[b].tokens,
                             title=f"S{a + 1} × S{b + 1} at layer {layer}", row_title=f"S{a + 1}",
                             col_title=f"S{b + 1}"), key="sim_cross_chart")
        shown["across"] = {"rows": f"S{a + 1}", "columns": f"S{b + 1}", "cosine": matrix}
with within:
    one = choose(st, "Sentence", [label(i, sentences) for i in range(len(analyses))], key="sim_one")
    matrix = sim.token_similarity(analyses[one].hidden_states, layer)
    chart(cosine_heatmap(matrix=matrix, row_tokens=analyses[one].tokens, col_tokens=analyses[one].tokens,
                         title=f"S{one + 1} × S{one + 1} at layer {layer}"), key="sim_within_chart")
    shown["within"] = {"sentence": f"S{one + 1}", "cosine": matrix}

# 3. nearest neighbours
st.header("Nearest tokens at this layer")
if not occurrences:
    st.info(f"“{plain(word.strip(), 40)}” is in none of the sentences, so there is no vector to start from.",
            icon="🔎")
    st.stop()
chosen = choose(st, "Occurrence", [f"S{o.sentence + 1}, token {'+'.join(map(str, o.positions))}: {o.word}"
                                   for o in occurrences], key="sim_occurrence")
skip_special = secondary("sim_skip_special", lambda: st.toggle(
    "Leave out special tokens", key="sim_skip_special",
    value=url_bool("sim_skip_special", default=True, what="leave out special tokens")), True)
share("sim_skip_special", skip_special)
rows = sim.nearest_tokens(analyses, occurrences[chosen], layer, k=10, skip_special=skip_special)
table = pd.DataFrame(rows)
if table.empty:
    st.info("There are no other tokens to compare with.")
else:
    shown["nearest"] = {"occurrence": occurrences[chosen].positions, "sentence": occurrences[chosen].sentence + 1,
                        "tokens": rows}
    table["token"] = table["token"].map(visible)
    table["sentence"] = table["sentence"].map(lambda s: label(s - 1, sentences))
    st.dataframe(table, hide_index=True, key="sim_neighbours_table",
                 column_config={"cosine": st.column_config.ProgressColumn("cosine", min_value=0.0, max_value=1.0,
                                                                          format="%.3f")})
    vector_of = "the average of its pieces" if len(occurrences[chosen].positions) > 1 else "its token"
    st.caption(f"The 10 tokens of all {len(analyses)} sentences whose layer-{layer} vectors point most nearly the "
               f"same way as this occurrence's ({vector_of}).")
