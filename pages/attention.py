"""Attention: BertViz head and model views, one head as a heatmap, all heads at a glance, head summary, "it"."""

import streamlit as st

from viz.ui.classroom import beside, presentation, secondary, tour_ui
from viz.ui.export import export_ui
from viz.ui.links import ON_OFF, linked, one_of
from viz.ui.sidebar import current_analysis, selection
from viz.ui.widgets import layer_head_ui
from viz.views import attention as views
from viz.views.edits import attention_edit_ui

TABS = views.TABS

st.title("Attention")
tour_ui("attention")
pair = bool(selection().text_b.strip()) and linked("attn_pair", ON_OFF, True, secondary(lambda: st.toggle(
    "Read both sentences together (sentence pair)", key="attn_pair",
    help="The second sentence from the sidebar is fed with the first, as BertViz does with sentence pairs.")))
analysis = current_analysis(pair=pair)
info = analysis.model
if not pair:
    where = "."
elif analysis.sentence_b_start is None:
    where = "; the second sentence was cut off (the text alone reaches the model's limit)."
else:
    where = f", the second sentence starts at token {analysis.sentence_b_start}."
main, side = beside()  # presentation mode: the view on the left, layer, head and the tab's controls on the right
with side:
    layer, head = layer_head_ui(info, key="attn")
    st.caption(f"{info.name}: {info.n_layers} layers × {info.n_heads} heads; {analysis.n_tokens} tokens{where}")
panel = side if presentation() else None  # where a tab's own controls go; None: inside the tab, as always
shown = export_ui("attention", model=info, analyses=[analysis], title="Attention")
shown.update({"layer": layer, "head": head, "attention": analysis.attentions[layer, head]})
tab_bertviz, tab_heatmap, tab_overview, tab_referent = linked(
    "attn_view", one_of(TABS), TABS[0], lambda: main.tabs(TABS, key="attn_view", on_change="rerun"))
if tab_bertviz.open:
    with tab_bertviz:
        views.bertviz_ui(analysis, layer, head, side=panel)
if tab_heatmap.open:
    with tab_heatmap:
        views.heatmap_ui(analysis, layer, head, shown, side=panel)
if tab_overview.open:
    with tab_overview:
        views.overview_ui(analysis, layer, head, shown)
if tab_referent.open:
    with tab_referent:
        views.referent_ui(analysis, layer, shown)
attention_edit_ui(analysis, shown)
