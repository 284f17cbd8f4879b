"""Q, K, V: how one attention weight is computed, step by step, for the chosen layer, head and query token."""

import streamlit as st

from viz import qkv_steps as steps
from viz.figures.common import code_token, hover_labels
from viz.ui import cached
from viz.ui.classroom import beside, presentation, reveal_ui, tour_ui
from viz.ui.export import export_ui
from viz.ui.sidebar import analysis_or_stop, current_model, selection
from viz.ui.widgets import layer_head_ui, token_ui
from viz.views.qkv import View, query_and_keys_ui, shown_keys, steps_ui
from viz.views.qkv_positions import positions_ui

INTRO = ("Each token asks a question (its **query** q), every token offers a label (its **key** k) and content "
         "(its **value** v) — like humming a tune and matching it against the titles of a party playlist to "
         "pick which songs to play. Match scores become weights that sum to 1:")
FORMULA = r"\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\!\left(\frac{QK^{\top}}{\sqrt{d_k}}+\mathrm{mask}\right)V"
NARROW_FORMULA = FORMULA.replace("=", r"=\\&", 1).join([r"\begin{aligned}&", r"\end{aligned}"])  # on two lines

st.title("Q, K, V: how one attention weight is computed")
tour_ui("qkv")
main, side = beside((1.8, 1))  # presentation mode: step 1's charts on the left, the pickers and the formula beside them
explained = None if presentation() else side.container()  # otherwise the formula comes first, as always
with side:
    info = current_model()
    analysis = analysis_or_stop(info.key, selection().text)
    layer, head = layer_head_ui(analysis.model, key="qkv")
    query = token_ui(analysis, key="qkv_token", label="Query token", default_word="party")
    qkv = cached.qkv(analysis, layer)
    step = steps.query_steps(qkv, head=head, query=query)
    if analysis.n_tokens == 1:
        st.info(f"Your text is a single token, {code_token(analysis.tokens[0])}. A token can only attend to the "
                "tokens it sees, here only itself: whatever q·k is, softmax over one score gives weight 1. Type a "
                "longer sentence to see tokens compete.", icon=":material/looks_one:")
    view = View(analysis, qkv, step, layer, shown_keys(analysis, step), hover_labels(analysis.tokens))
with explained or side:
    st.markdown(INTRO)
    st.latex(NARROW_FORMULA if presentation() else FORMULA)

shown = export_ui("qkv", model=analysis.model, analyses=[analysis], title="Q, K, V")
shown.update({"layer": layer, "head": head, "query": query, "keys_shown": view.shown, "q": step.query,
              "k": step.keys, "v": step.values, "q_dot_k": step.raw, "scaled": step.scaled,
              "weights": step.weights, "model_weights": analysis.attentions[layer, head, query],
              "head_output": step.output})

with main:
    query_and_keys_ui(view)
if reveal_ui(**steps.top_key_question(step, layer=layer, tokens=analysis.tokens, labels=view.labels,
                                      shown=view.shown)):
    steps_ui(view)
positions_ui(view)
