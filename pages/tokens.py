"""Tokens & embeddings: tokens and ids, one-hot versus dense vectors, one token's numbers, static similarity."""

import numpy as np
import streamlit as st

from viz import similarity as sim
from viz.analysis import Analysis
from viz.figures.common import visible
from viz.figures.tokens import dense_rows_figure, one_hot_figure, vector_bars
from viz.ui import cached
from viz.ui.classroom import tour_ui
from viz.ui.export import chart, export_ui
from viz.ui.figure_cache import shared_figure, text_key
from viz.ui.links import linked, one_of, whole
from viz.ui.sidebar import current_analysis
from viz.ui.widgets import token_ui
from viz.views.tokens import model_words_ui, tokens_ui, toy_vectors_ui

SOURCES = ["embedding table row", "hidden state after a layer"]


def one_hot_ui(analysis: Analysis, shown: dict) -> np.ndarray:
    """One-hot versus dense rows and their memory cost; returns the dense rows (T, D)."""
    info = analysis.model
    st.header("2 · One-hot versus dense vectors")
    cost = sim.one_hot_cost(info.vocab_size, info.width, analysis.n_tokens)
    st.markdown(
        f"A **one-hot** vector is {info.vocab_size:,} numbers long with a single 1: it names the token and says "
        f"nothing about it ({cost['one_hot_zero_share']:.3%} zeros). A **dense** embedding is a row of "
        f"{info.width} learned numbers, all in use. The model keeps one row per vocabulary entry.")
    columns = st.columns(3)
    columns[0].metric(f"One-hot table: {info.vocab_size:,} × {info.vocab_size:,}",
                      sim.human_bytes(cost["vocab_one_hot_bytes"]), help=f"{cost['vocab_one_hot_numbers']:,} numbers")
    columns[1].metric(f"Dense table: {info.vocab_size:,} × {info.width}", sim.human_bytes(cost["vocab_dense_bytes"]),
                      help=f"{cost['vocab_dense_numbers']:,} numbers")
    columns[2].metric("One-hot needs", f"{cost['ratio']:,.0f}× more", help="vocabulary size ÷ width")
    st.caption(f"As 32-bit floats (4 bytes each). For your {analysis.n_tokens} tokens: "
               f"{cost['text_one_hot_numbers']:,} one-hot numbers versus {cost['text_dense_numbers']:,} dense ones.")
    rows = cached.embedding_rows(info.key, analysis.token_ids)
    left, right = st.columns(2)
    chart(shared_figure((text_key(analysis), "one_hot"), lambda: one_hot_figure(
        tokens=analysis.tokens, token_ids=analysis.token_ids, vocab_size=info.vocab_size)),
          key="tok_one_hot_chart", where=left)
    chart(shared_figure((text_key(analysis), "dense"), lambda: dense_rows_figure(
        tokens=analysis.tokens, rows=rows, title=f"Dense: each row has {info.width} numbers")),
          key="tok_dense_chart", where=right)
    shown["embedding_rows"] = rows  # (T, D)
    return rows


def vector_ui(analysis: Analysis, rows: np.ndarray, shown: dict) -> None:
    info = analysis.model
    st.header("3 · The numbers of one token")
    position = token_ui(analysis, key="tok_token", default_word="party")
    source = linked("tok_source", one_of(SOURCES), SOURCES[0],
                    lambda: st.radio("Vector", SOURCES, horizontal=True, key="tok_source"))
    if source == SOURCES[0]:
        vector, where = rows[position], "its row in the embedding table"
    else:
        layer = linked("tok_layer", whole(0, info.n_layers), 0, lambda: st.slider(
            "Layer (0 = input embeddings)", 0, info.n_layers, key="tok_layer"))
        vector, where = analysis.hidden_states[layer, position], f"its hidden state at layer {layer}"
    token = analysis.tokens[position]
    title = f"{visible(token)} (id {analysis.token_ids[position]}): {vector.size} numbers, {where}"
    chart(shared_figure(("tok_vector", info.key, title, vector.tobytes()), lambda: vector_bars(vector=vector,
                                                                                              title=title)),
          key="tok_vector_chart")
    shown["vector"] = {"position": position, "token": token, "of": where, "values": vector}
    st.caption(f"Layer 0 is {sim.layer_zero_note(info.family)}")
    with st.expander(f"All {vector.size} numbers"):
        st.text(np.array2string(np.asarray(vector), precision=4, separator=", ", threshold=100_000))


st.title("Tokens & embeddings")
tour_ui("tokens")
analysis = current_analysis()
shown = export_ui("tokens", model=analysis.model, analyses=[analysis], title="Tokens & embeddings")
tokens_ui(analysis)
rows = one_hot_ui(analysis, shown)
vector_ui(analysis, rows, shown)
st.header("4 · Similar words, similar vectors")
toy_vectors_ui(shown)
model_words_ui(analysis.model, shown)
