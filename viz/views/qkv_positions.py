"""The Q, K, V page's section 7: where position comes in (sinusoids, the model's own table or rotary, word order).

Streamlit drawing only; the maths comes from viz/qkv_steps.py, the model's parts from viz/ui/cached.py.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from viz import qkv_steps as steps
from viz.analysis import Analysis, ModelInfo
from viz.compute import cosine_matrix
from viz.figures import qkv as figures
from viz.figures.common import code_token, visible
from viz.ui import cached
from viz.ui.classroom import secondary
from viz.ui.export import chart
from viz.ui.figure_cache import shared_figure
from viz.ui.links import linked, one_of, whole
from viz.views.qkv import View, view_chart

WORD_ORDER = ("Then Tim chased clouds.", "Then clouds chased Tim.")  # the same tokens, in both models' vocabularies


def sinusoid_tab(width: int, n_positions: int) -> None:
    """The original Transformer's sin/cos position table, drawn with this model's width."""
    table = steps.sinusoidal_table(n_positions, width)  # (P, D)
    st.latex(r"PE_{(p,\,2i)}=\sin\!\big(p/10000^{2i/D}\big)\qquad PE_{(p,\,2i+1)}=\cos\!\big(p/10000^{2i/D}\big)")
    left, right = st.columns(2)
    for column, start, name in ((left, 0, "sin"), (right, 1, "cos")):
        figure = shared_figure(("qkv_sinusoid", name, width, n_positions), lambda start=start, name=name: (
            figures.position_heatmap(table=table[:, start::2], zmax=1.0, x_title="i (pair of dimensions)",
                                     title=f"dimensions 2i{' + 1' if start else ''}: {name}, D = {width}")))
        chart(figure, where=column, key=f"qkv_sinusoid_{name}_fig")
    st.caption(f"The original Transformer adds this table to the token vectors. Position 0 is [0, 1, 0, 1, …]; "
               f"position 1 starts with sin 1 = {table[1, 0]:.3f}, cos 1 = {table[1, 1]:.3f}. Left columns change "
               "fast with position, right ones slowly, so every position gets its own pattern. Drawn with "
               f"D = {width}, this model's width.")


def learned_tab(info: ModelInfo, n_positions: int) -> None:
    """The model's learned position table and how alike its rows are."""
    table, size = cached.position_table(info.key, n_positions)  # (P, D)
    similarity = cosine_matrix(table)  # (P, P)
    left, right = st.columns(2)
    chart(shared_figure((info.key, n_positions, "learned"), lambda: figures.position_heatmap(
        table=table, title=f"learned position embeddings ({table.shape[0]} × {table.shape[1]})")),
          where=left, key="qkv_learned_fig")
    chart(shared_figure((info.key, n_positions, "learned similarity"), lambda: figures.position_heatmap(
        table=similarity, zmax=1.0, x_title="position", title="cosine similarity between positions")),
          where=right, key="qkv_learned_sim_fig")
    far = min(50, table.shape[0] - 1)
    near_cosine, far_cosine = np.diagonal(similarity, 1).mean(), np.diagonal(similarity, far).mean()
    st.caption(f"{info.name} learned one vector per position ({size} rows) and adds it "
               f"to the token vector. Neighbours are alike: mean cosine of positions 1 apart {near_cosine:.2f}, "
               f"of positions {far} apart {far_cosine:.2f}.")


def rotary_tab(view: View) -> None:
    """Rotary embedding: how q·k of the query and its top key would change with their distance."""
    rotary, step, tokens = cached.rotary(view.analysis.model.key), view.step, view.analysis.tokens
    curve = steps.rotary_curve(step, rotary.inv_freq, n_distances=view.analysis.model.max_tokens,
                               scaling=rotary.attention_scaling)
    pair = f"{visible(tokens[step.query_index])} → {visible(tokens[curve.key_index])}"
    at_real = float(curve.scores[curve.distance])
    view_chart(view, lambda: figures.rotary_distance_figure(
        distances=curve.distances, scores=curve.scores, agreement=steps.rotary_agreement(rotary.inv_freq,
                                                                                         curve.distances),
        marked_distance=curve.distance, marked_score=at_real, pair_label=pair), key="qkv_rotary_fig")
    turns = rotary.inv_freq
    st.caption(f"Llama adds nothing to the token vectors. Instead it turns each of the {len(turns)} pairs of numbers "
               f"in q and k by an angle that grows with position (from {turns.max():.3f} to {turns.min():.2e} radians "
               f"per token), so q·k depends only on how far apart two tokens are. Left: q and k of {pair} (layer "
               f"{view.layer}, head {step.head}) un-rotated, then placed Δ tokens apart; at their real distance "
               f"Δ = {curve.distance} the curve gives {at_real:.4f}; the q·k of step 2 is "
               f"{step.raw[curve.key_index]:.4f}.")


def word_order_rows(view: View, found: list[tuple[str, Analysis, int, int]]) -> list[dict]:
    """The word-order table: one row per sentence, with layer-0 scores of Tim → clouds and the chosen head's weights."""
    rotary, head = cached.rotary(view.analysis.model.key), view.step.head
    return [steps.word_order_row(
        text, tim=tim, clouds=clouds, layer=view.layer, head=head, weights=analysis.attentions[view.layer, head],
        scores=steps.word_pair_scores(cached.qkv(analysis, 0), head=head, query=tim, key=clouds,
                                      inv_freq=None if rotary is None else rotary.inv_freq,
                                      scaling=1.0 if rotary is None else rotary.attention_scaling))
        for text, analysis, tim, clouds in found]


def word_order_tab(view: View) -> None:
    """“Tim chased clouds” against “clouds chased Tim”: only position tells them apart."""
    info = view.analysis.model
    found = []
    for text in WORD_ORDER:
        analysis = cached.analysis(info.key, text)
        found.append((text, analysis, analysis.find_token("tim"), analysis.find_token("clouds")))
    if any(tim is None or clouds is None for _, _, tim, clouds in found):
        st.info("This model splits 'Tim' or 'clouds' into pieces, so the comparison is not shown.")
        return
    (_, a, a_tim, _), (_, b, b_tim, _) = found
    cosine = float(cosine_matrix(a.hidden_states[0][a_tim][None], b.hidden_states[0][b_tim][None])[0, 0])
    rows = word_order_rows(view, found)
    same = "the same tokens in a different order" if sorted(a.tokens) == sorted(b.tokens) else "different tokens"
    st.markdown("Attention itself ignores order: shuffle the tokens and each gets the same scores, only shuffled. "
                "**“Tim chased clouds”** and **“clouds chased Tim”** contain the same words; only position tells who "
                f"chased whom. The two sentences below have {same}: {' '.join(code_token(t) for t in a.tokens)} and "
                f"{' '.join(code_token(t) for t in b.tokens)}.")
    st.dataframe(rows, hide_index=True, key="qkv_word_order_table")
    if cached.rotary(info.key) is not None:
        plain = [r[steps.SCORE_COLUMNS["q·k without rotary"]] for r in rows]
        turned = [r[steps.SCORE_COLUMNS["q·k"]] for r in rows]
        st.caption(f"The vector entering layer 0 for “Tim” is {'the same' if cosine > 0.999999 else 'not the same'} in "
                   f"both sentences (cosine {cosine:.6f}): position enters only by rotating q and k. Un-rotated, "
                   f"layer 0 scores Tim → clouds {plain[0]:.4f} and {plain[1]:.4f}; rotated, {turned[0]:.4f} and "
                   f"{turned[1]:.4f}. A decoder also hides later tokens, so whoever comes first cannot see the other "
                   "at all (weight 0).")
    else:
        st.caption(f"“Tim” has the same token embedding in both sentences, but a different position embedding is "
                   f"added ({a_tim} vs {b_tim}), so the vector entering layer 0 differs (cosine {cosine:.3f}), and so "
                   "does every score computed from it."
                   + (" Later tokens are also hidden from earlier ones (weight 0)." if info.is_causal else ""))


def positions_ui(view: View) -> None:
    """Section 7: a positions slider, then three tabs: the sinusoid formula, this model's own way, word order."""
    info = view.analysis.model
    st.subheader("7 · Where position comes in")
    _, table_size = cached.position_table(info.key, 2)
    learned = table_size > 0
    own_title = "Learned position embeddings" if learned else "Rotary embedding" if view.qkv.rotary else "This model"
    limit = max(3, min(info.max_tokens, table_size) if learned else info.max_tokens)
    n_positions = linked("qkv_positions", whole(2, limit), min(128, limit), secondary(lambda: st.slider(
        "Positions drawn", 2, limit, key="qkv_positions")))
    titles = ["Sinusoidal formula (original Transformer)", own_title, "Tim chased clouds"]
    # lazy tabs: only the open one runs (the other two cost ~20 % of a page view, and the word-order tab two analyses)
    sinusoid, own, order = linked("qkv_positions_view", one_of(titles), titles[0], lambda: st.tabs(
        titles, key="qkv_positions_view", on_change="rerun"))
    if sinusoid.open:
        with sinusoid:
            sinusoid_tab(info.width, n_positions)
    if own.open:
        with own:
            if learned:
                learned_tab(info, n_positions)
            elif view.qkv.rotary:
                rotary_tab(view)
            else:
                st.info(f"{info.name} has no position table or rotary embedding the app can read.")
    if order.open:
        with order:
            word_order_tab(view)
