"""Tokens & embeddings: tokens and ids, one-hot versus dense vectors, one token's numbers, static similarity."""

import numpy as np
import pandas as pd
import streamlit as st

from viz import similarity as sim
from viz.figures.common import visible
from viz.figures.similarity import labelled_heatmap
from viz.figures.tokens import dense_rows_figure, one_hot_figure, vector_bars
from viz.model.embeddings import input_embedding_matrix, input_embedding_rows, typed_word, vocabulary_entries
from viz.model.token_text import token_labels
from viz.ui import current_analysis, current_model, share, share_text, token_ui, url_choice, url_int, url_str
from viz.ui_classroom import tour_ui
from viz.ui_export import chart, export_ui

MAX_TYPED_WORDS = 20
DEFAULT_WORDS = "cat, dog, car, banana, party, celebration, politics"
SOURCES = ["embedding table row", "hidden state after a layer"]

st.title("Tokens & embeddings")
tour_ui("tokens")
analysis = current_analysis()
loaded = current_model()
info = analysis.model
shown = export_ui("tokens", model=info, analyses=[analysis], title="Tokens & embeddings")


def code(text: str) -> str:
    """Text as inline code in markdown, so its characters are shown, never interpreted."""
    return "`" + visible(text).replace("`", "ˋ") + "`"


# 1. tokens and ids
st.header("1 · Tokens and ids")
st.markdown(f"The tokenizer of **{info.name}** cuts your text into **{analysis.n_tokens} tokens** and replaces "
            f"each with its id, a row number in a vocabulary of **{info.vocab_size:,}** tokens.")
word_spans = sim.words(analysis.tokens, analysis.word_ids)
word_of = {p: (w, len(positions), k) for w, positions in word_spans for k, p in enumerate(positions)}
st.dataframe(pd.DataFrame({
    "token": [visible(t) for t in analysis.tokens],
    "id": analysis.token_ids.tolist(),
    "vocabulary entry": vocabulary_entries(loaded, analysis.token_ids),
    "word": [word_of[p][0] if p in word_of else "" for p in range(analysis.n_tokens)],
    "piece": [f"{word_of[p][2] + 1} of {word_of[p][1]}" if p in word_of else "" for p in range(analysis.n_tokens)],
    "special": ["✓ special" if s else "" for s in analysis.special],
}).rename_axis("position"), key="tok_table", height=min(400, 35 * analysis.n_tokens + 40))
split = [(w, positions) for w, positions in word_spans if len(positions) > 1]
if split:
    st.markdown("Split into pieces: " + "; ".join(
        f"{code(w)} → " + " + ".join(code(analysis.tokens[p]) for p in positions) for w, positions in split[:8]))
specials = [analysis.tokens[p] for p in np.flatnonzero(analysis.special)]
st.caption((f"Special tokens the model adds: {', '.join(code(t) for t in dict.fromkeys(specials))}. "
            if specials else "This model adds no special tokens here. ")
           + f"Ids: {code(str(analysis.token_ids.tolist())[:600])}")

# 2. one-hot vs dense
st.header("2 · One-hot versus dense vectors")
cost = sim.one_hot_cost(info.vocab_size, info.width, analysis.n_tokens)
st.markdown(
    f"A **one-hot** vector is {info.vocab_size:,} numbers long with a single 1: it names the token and says "
    f"nothing about it ({cost['one_hot_zero_share']:.3%} zeros). A **dense** embedding is a row of "
    f"{info.width} learned numbers, all in use. The model keeps one row per vocabulary entry."
)
columns = st.columns(3)
columns[0].metric(f"One-hot table: {info.vocab_size:,} × {info.vocab_size:,}",
                  sim.human_bytes(cost["vocab_one_hot_bytes"]), help=f"{cost['vocab_one_hot_numbers']:,} numbers")
columns[1].metric(f"Dense table: {info.vocab_size:,} × {info.width}", sim.human_bytes(cost["vocab_dense_bytes"]),
                  help=f"{cost['vocab_dense_numbers']:,} numbers")
columns[2].metric("One-hot needs", f"{cost['ratio']:,.0f}× more", help="vocabulary size ÷ width")
st.caption(f"As 32-bit floats (4 bytes each). For your {analysis.n_tokens} tokens: "
           f"{cost['text_one_hot_numbers']:,} one-hot numbers versus {cost['text_dense_numbers']:,} dense ones.")
rows = input_embedding_rows(loaded, analysis.token_ids)
left, right = st.columns(2)
chart(one_hot_figure(tokens=analysis.tokens, token_ids=analysis.token_ids, vocab_size=info.vocab_size),
      key="tok_one_hot_chart", where=left)
chart(dense_rows_figure(tokens=analysis.tokens, rows=rows, title=f"Dense: each row has {info.width} numbers"),
      key="tok_dense_chart", where=right)
shown["embedding_rows"] = rows  # (T, D)

# 3. one token's vector
st.header("3 · The numbers of one token")
position = token_ui(analysis, key="tok_token", default_word="party")
source = st.radio("Vector", SOURCES, horizontal=True, key="tok_source",
                  index=SOURCES.index(url_choice("tok_source", SOURCES, default=SOURCES[0], what="vector")))
share("tok_source", source)
if source == SOURCES[0]:
    vector, where = rows[position], "its row in the embedding table"
else:
    layer = st.slider("Layer (0 = input embeddings)", 0, info.n_layers, key="tok_layer",
                      value=url_int("tok_layer", low=0, high=info.n_layers, default=0, what="layer"))
    share("tok_layer", layer)
    vector, where = analysis.hidden_states[layer, position], f"its hidden state at layer {layer}"
token = analysis.tokens[position]
chart(vector_bars(vector=vector, title=f"{visible(token)} (id {analysis.token_ids[position]}): "
                                       f"{vector.size} numbers, {where}"), key="tok_vector_chart")
shown["vector"] = {"position": position, "token": token, "of": where, "values": vector}
st.caption(f"Layer 0 is {sim.layer_zero_note(info.family)}")
with st.expander(f"All {vector.size} numbers"):
    st.code(np.array2string(np.asarray(vector), precision=4, separator=", ", threshold=100_000), language=None,
            wrap_lines=True)

# 4. static similarity
st.header("4 · Similar words, similar vectors")
st.markdown("Seed 000's toy 4-number vectors, compared with scikit-learn's `cosine_similarity`. Edit them.")
toy = pd.DataFrame([[name, *vector] for name, vector in sim.TOY_VECTORS.items()],
                   columns=["word", "x1", "x2", "x3", "x4"])
edited = st.data_editor(toy, num_rows="dynamic", key="tok_toy", hide_index=True)
vectors, problems = sim.parse_vector_rows(edited.itertuples(index=False))
for problem in problems:
    st.warning(problem)
if len(vectors) >= 2:
    toy_matrix = sim.toy_cosine(vectors)
    names = list(vectors)
    pairs = [("cat", "dog"), ("car", "banana")]
    metrics = st.columns(len(pairs))
    for column, (x, y) in zip(metrics, pairs, strict=True):
        if x in vectors and y in vectors:
            column.metric(f"{x} – {y}", f"{toy_matrix[names.index(x), names.index(y)]:.4f}")
    chart(labelled_heatmap(labels=names, matrix=toy_matrix, title="Cosine similarity of the toy vectors"),
          key="tok_toy_chart")
    shown["toy_cosine"] = {"words": names, "matrix": toy_matrix}
else:
    st.info("Keep at least two rows with numbers to compare.")

st.subheader("The same question, asked of the model's own input embeddings")
typed = st.text_input("Words, separated by commas", url_str("tok_words", default=DEFAULT_WORDS, limit=400),
                      key="tok_words", max_chars=400)
share_text("tok_words", typed)
found = [w for w in (typed_word(loaded, text) for text in typed.split(",")[:MAX_TYPED_WORDS]) if w is not None]
if len(found) < 2:
    st.info("Type at least two words, separated by commas.")
    st.stop()
word_matrix = sim.toy_cosine({f"{i}": w.vector for i, w in enumerate(found)})
chart(labelled_heatmap(labels=[w.word for w in found], matrix=word_matrix,
                       title=f"Cosine similarity of input-embedding rows ({info.width} numbers each)", digits=2),
      key="tok_words_chart")
shown["word_cosine"] = {"words": [w.word for w in found], "matrix": word_matrix}
several = [w for w in found if len(w.ids) > 1]
st.caption(f"Rows of {info.name}'s input-embedding table. Each word is looked up as it appears after another word"
           + (" (with its leading space, as this tokenizer marks word starts)" if info.is_causal else "")
           + ". " + ("Words made of several pieces use the average of their pieces' rows: "
                     + "; ".join(f"{code(w.word)} = " + " + ".join(code(p) for p in w.pieces) for w in several)
                     if several else "Every word here is a single token.")
           + f" Layer 0 of the model adds more to these rows: it is {sim.layer_zero_note(info.family)}")
probe_labels = [f"{i + 1}. {w.word}" for i, w in enumerate(found)]  # text options: edits show at once
if st.session_state.get("tok_probe") not in probe_labels:  # set, not dropped, so the browser's box shows it
    st.session_state["tok_probe"] = probe_labels[url_int("tok_probe", low=0, high=len(probe_labels) - 1, default=0,
                                                         what="word number")]
probe = probe_labels.index(st.selectbox("Nearest vocabulary entries to", probe_labels, key="tok_probe"))
share("tok_probe", probe)
neighbours = sim.nearest_rows(input_embedding_matrix(loaded), found[probe].vector, k=11)
nearest = [{"token": visible(token_labels(loaded.tokenizer, [i])[0]), "id": i, "cosine": round(score, 4)}
           for i, score in neighbours]  # a lone byte piece as \xNN, never "�"
st.dataframe(pd.DataFrame(nearest), hide_index=True, key="tok_neighbours_table")
shown["nearest_entries"] = {"to": found[probe].word, "entries": nearest}
