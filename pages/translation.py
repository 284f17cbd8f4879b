"""Translation: an encoder–decoder writes its output token by token; cross-attention shows what it read."""

import streamlit as st

from viz.text import EmptyText
from viz.ui import translation as glue
from viz.ui.classroom import tour_ui
from viz.ui.export import export_ui
from viz.views import translation as views

st.title("Translation (encoder–decoder)")
tour_ui("translation")
page = glue.page_model()
if page is None:
    st.stop()
info = page.info
if page.note:
    st.info(page.note, icon=":material/translate:")
st.caption(f"{info.name}: decoder with {info.n_layers} layers × {info.n_heads} heads, width {info.width}.")

source = views.source_ui(page)
typed = views.typed_ui()
limit = glue.output_limit(info.key)
try:
    if typed.strip():
        outputs, typed_notices = glue.typed_outputs(info.key, typed)
        analysis = glue.analysis(info.key, source, outputs, forced=True)
        run = None
    else:
        typed_notices = ()
        run = glue.run_for(info.key, source)
        analysis = glue.analysis(info.key, source, run.outputs)
except EmptyText:
    st.info("Type a source text for the encoder to read" + (", and a translation, or clear that box."
                                                            if typed.strip() else "."), icon=":material/edit:")
    st.stop()
for notice in (*analysis.notices, *typed_notices):
    st.warning(notice, icon=":material/content_cut:")

shown = export_ui("translation", model=info, title="Translation")
st.subheader("The output, one token at a time")
if run is None:
    st.caption("Forced decoding: the decoder reads your translation instead of its own choices, so you see how "
               "probable the model finds each of your tokens and what it read for each.")
else:
    views.generation_ui(run, analysis, limit)
views.output_ui(analysis, glue.output_text(info.key, analysis.generated), shown)

st.subheader("Cross-attention: which source tokens each output token read")
report = glue.date_report() if page.is_date_model else None
layer, head, title = views.pick_ui(analysis, report)
views.cross_ui(analysis, layer, head, title, shown)
if report:
    with st.expander("How well does the alignment head line up dates?", expanded=False):
        views.report_ui(report)

st.subheader("Three kinds of attention")
views.three_kinds_ui(analysis, layer)
st.subheader("BertViz: encoder, decoder and cross-attention")
views.bertviz_ui(analysis, layer)
st.subheader("Q, K, V of cross-attention")
views.qkv_ui(analysis, layer, head, shown)
