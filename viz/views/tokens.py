"""Tokens & embeddings: the token table (section 1) and similar words, similar vectors (section 4)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import streamlit as st

from viz import similarity as sim
from viz.analysis import Analysis, ModelInfo
from viz.figures.common import code_token, visible
from viz.figures.similarity import labelled_heatmap
from viz.ui import cached
from viz.ui.export import chart
from viz.ui.figure_cache import shared_figure
from viz.ui.links import linked, one_of, text

MAX_TYPED_WORDS = 20
STRIP_TOKENS = 128  # the token strip shows at most the first 128 tokens (the table below has them all)
STRIP_CELL = ("display:inline-flex;flex-direction:column;align-items:center;padding:0.15rem 0.45rem;"
              "border:1px solid rgba(128,128,128,0.55);border-radius:0.4rem;{background}")
WORD_SHADES = ("background:rgba(68,119,170,0.16);", "background:rgba(238,119,51,0.16);")  # pieces of a word share one
DEFAULT_WORDS = "cat, dog, car, banana, party, celebration, politics"


def token_strip_ui(analysis: Analysis) -> None:
    """The text as the model's tokens, left to right, each with its id; the pieces of one word share a shade.

    Token text is escaped (typed text is shown, never run); sizes are in rem, so presentation mode enlarges it.
    """
    shown = min(analysis.n_tokens, STRIP_TOKENS)
    cells = []
    for position in range(shown):
        word = analysis.word_ids[position]
        shade = "" if word is None or analysis.special[position] else WORD_SHADES[word % 2]
        cells.append(f'<span style="{STRIP_CELL.format(background=shade)}">'
                     f'<code style="font-size:1.05rem;background:none;padding:0">'
                     f"{html.escape(visible(analysis.tokens[position]))}</code>"
                     f'<span style="font-size:0.75rem;opacity:0.75">{int(analysis.token_ids[position])}</span></span>')
    more = (f'<span style="align-self:center;opacity:0.75">… and {analysis.n_tokens - shown:,} more (all in the '
            "table)</span>" if analysis.n_tokens > shown else "")
    with st.container(key="tok_strip"):
        st.html(f'<div style="display:flex;flex-wrap:wrap;gap:0.35rem">{"".join(cells)}{more}</div>')


def tokens_ui(analysis: Analysis) -> None:
    """The tokens of the text with their ids, vocabulary entries, words and pieces; special tokens named."""
    info = analysis.model
    st.header("1 · Tokens and ids")
    st.markdown(f"The tokenizer of **{info.name}** cuts your text into **{analysis.n_tokens} tokens** and replaces "
                f"each with its id, a row number in a vocabulary of **{info.vocab_size:,}** tokens.")
    token_strip_ui(analysis)
    table = sim.token_table(analysis.tokens, analysis.word_ids, analysis.special)
    table.insert(1, "id", analysis.token_ids.tolist())
    table.insert(2, "vocabulary entry", list(cached.vocabulary_entries(info.key, analysis.token_ids)))
    table["token"] = table["token"].map(visible)
    st.dataframe(table, key="tok_table", height=min(400, 35 * analysis.n_tokens + 40))
    split = [(w, positions) for w, positions in sim.words(analysis.tokens, analysis.word_ids) if len(positions) > 1]
    if split:
        st.markdown("Split into pieces: " + "; ".join(
            f"{code_token(w)} → " + " + ".join(code_token(analysis.tokens[p]) for p in positions)
            for w, positions in split[:8]))
    specials = [analysis.tokens[p] for p in np.flatnonzero(analysis.special)]
    st.caption((f"Special tokens the model adds: {', '.join(code_token(t) for t in dict.fromkeys(specials))}. "
                if specials else "This model adds no special tokens here. ")
               + f"Ids: {code_token(str(analysis.token_ids.tolist())[:600])}")


def toy_vectors_ui(shown: dict) -> None:
    """Seed 000's toy vectors in an editable table, compared with scikit-learn's cosine_similarity."""
    st.markdown("Seed 000's toy 4-number vectors, compared with scikit-learn's `cosine_similarity`. Edit them.")
    toy = pd.DataFrame([[name, *vector] for name, vector in sim.TOY_VECTORS.items()],
                       columns=["word", "x1", "x2", "x3", "x4"])
    edited = st.data_editor(toy, num_rows="dynamic", key="tok_toy", hide_index=True)
    vectors, problems = sim.parse_vector_rows(edited.itertuples(index=False))
    for problem in problems:
        st.warning(problem)
    if len(vectors) < 2:
        st.info("Keep at least two rows with numbers to compare.")
        return
    toy_matrix = sim.toy_cosine(vectors)
    names = list(vectors)
    pairs = [("cat", "dog"), ("car", "banana")]
    for column, (x, y) in zip(st.columns(len(pairs)), pairs, strict=True):
        if x in vectors and y in vectors:
            column.metric(f"{x} – {y}", f"{toy_matrix[names.index(x), names.index(y)]:.4f}")
    chart(shared_figure(("tok_toy", tuple(names), toy_matrix.tobytes()), lambda: labelled_heatmap(
        labels=names, matrix=toy_matrix, title="Cosine similarity of the toy vectors")), key="tok_toy_chart")
    shown["toy_cosine"] = {"words": names, "matrix": toy_matrix}


def model_words_ui(info: ModelInfo, shown: dict) -> None:
    """Typed words' input-embedding rows compared with each other, and the vocabulary entries nearest one of them."""
    st.subheader("The same question, asked of the model's own input embeddings")
    typed = linked("tok_words", text(400), DEFAULT_WORDS, lambda: st.text_input(
        "Words, separated by commas", key="tok_words", max_chars=400))
    found = cached.typed_words(info.key, typed.split(",")[:MAX_TYPED_WORDS])
    if len(found) < 2:
        st.info("Type at least two words, separated by commas.")
        return
    word_matrix = sim.toy_cosine({f"{i}": w.vector for i, w in enumerate(found)})
    words = [w.word for w in found]
    chart(shared_figure(("tok_words", info.key, tuple(words), word_matrix.tobytes()), lambda: labelled_heatmap(
        labels=words, matrix=word_matrix, title=f"Cosine similarity of input-embedding rows ({info.width} numbers "
                                                "each)", digits=2)), key="tok_words_chart")
    shown["word_cosine"] = {"words": [w.word for w in found], "matrix": word_matrix}
    several = [w for w in found if len(w.ids) > 1]
    st.caption(f"Rows of {info.name}'s input-embedding table. Each word is looked up as it appears after another "
               "word" + (" (with its leading space, as this tokenizer marks word starts)" if info.is_causal else "")
               + ". " + ("Words made of several pieces use the average of their pieces' rows: "
                         + "; ".join(f"{code_token(w.word)} = " + " + ".join(code_token(p) for p in w.pieces)
                                     for w in several) if several else "Every word here is a single token.")
               + f" Layer 0 of the model adds more to these rows: it is {sim.layer_zero_note(info.family)}")
    labels = [f"{i + 1}. {w.word}" for i, w in enumerate(found)]  # text options: edits show at once
    probe = labels.index(linked("tok_probe", one_of(labels, by_position=True), labels[0], lambda: st.selectbox(
        "Nearest vocabulary entries to", labels, key="tok_probe")))
    nearest = [{**entry, "token": visible(entry["token"])}
               for entry in cached.nearest_vocabulary(info.key, found[probe].word, k=11)]
    st.dataframe(pd.DataFrame(nearest), hide_index=True, key="tok_neighbours_table")
    shown["nearest_entries"] = {"to": found[probe].word, "entries": nearest}
