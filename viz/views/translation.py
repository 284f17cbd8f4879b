"""Sections of the Translation page: the source and typed translation, generation buttons, the output, the
cross-attention map and the newest token's reading, the three kinds of attention, BertViz, cross-attention Q/K/V.

Streamlit drawing only: analyses come from viz/ui/translation.py, computations from viz/seq2seq.py.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from viz import qkv_steps as steps
from viz import seq2seq as s2s
from viz.bertviz_view import BERTVIZ_MAX_TOKENS, encoder_decoder_html, head_view_height
from viz.compute import attention_from_qkv
from viz.figures import qkv as qkv_figures
from viz.figures import translation as figures
from viz.figures.attention import attention_heatmap
from viz.figures.common import code_token, hover_labels
from viz.figures.next_token import token_cells
from viz.ui import translation as glue
from viz.ui.export import chart
from viz.ui.links import KEPT, linked, one_of, text
from viz.ui.sidebar import selection
from viz.ui.widgets import number_ui
from viz.views.attention import bertviz_built

MAX_SOURCE_CHARS = 2_000
SHOW = ["one head", "mean of the layer", "alignment head"]
BERTVIZ_KINDS = ["Head view", "Model view"]


def source_ui(page: glue.PageModel) -> str:
    """The source box (bounded); another model starts it again from its own example."""
    own = selection().text.strip()[:MAX_SOURCE_CHARS] or "我正在吃饭"
    default = glue.DATE_EXAMPLE if page.is_date_model else own
    if st.session_state.get("_translation_source_for") not in (None, page.info.key):
        st.session_state["translation_source"] = default
    st.session_state["_translation_source_for"] = page.info.key
    return linked("translation_source", text(MAX_SOURCE_CHARS), default, lambda: st.text_area(
        "Source text (the encoder reads all of it at once)", key="translation_source", height=80,
        max_chars=MAX_SOURCE_CHARS))


def typed_ui() -> str:
    return linked("translation_typed", text(MAX_SOURCE_CHARS), "", lambda: st.text_input(
        "Or type a translation yourself (the decoder is then fed your tokens: forced decoding)",
        key="translation_typed", max_chars=MAX_SOURCE_CHARS,
        help="Leave empty to let the model write its own, one token at a time (always the most probable)."))


def generation_ui(run: glue.Run, analysis: s2s.Seq2SeqAnalysis, limit: int) -> None:
    """Next step, Run all, Undo, Start over; a button moves this session's run and reruns the page."""
    done = analysis.finished or len(run.outputs) >= limit
    row = st.container(horizontal=True, key="translation_buttons")
    step = row.button("Next step", key="translation_step", type="primary", disabled=done,
                      icon=":material/skip_next:")
    run_all = row.button("Run all", key="translation_run_all", disabled=done, icon=":material/fast_forward:")
    undo = row.button("Undo", key="translation_undo", disabled=not run.outputs, icon=":material/undo:")
    reset = row.button("Start over", key="translation_reset", disabled=not run.outputs,
                       icon=":material/restart_alt:")
    if step or run_all:
        with st.spinner("Writing…"):
            glue.advance(run, 1 if step else limit)
    elif undo:
        glue.undo(run)
    elif reset:
        glue.start_over(run)
    if step or run_all or undo or reset:
        st.rerun()
    if analysis.finished:
        st.info("The decoder wrote its end-of-text token: the translation is finished.", icon=":material/flag:")
    elif done:
        st.warning(f"The output reached {limit} tokens, the most this page lets the decoder write.",
                   icon=":material/block:")


def output_ui(analysis: s2s.Seq2SeqAnalysis, text_out: str, shown: dict) -> None:
    """The output text and its tokens, each shaded by how probable the model found it."""
    st.text(text_out or " ")
    values = analysis.output_probabilities
    title = ("How probable the model found each of your tokens" if analysis.forced
             else "Output tokens and how probable the model found each" if analysis.finished
             else "Output tokens and their probability (the last, marked ?, is the one it would write next)")
    labels = [token if analysis.output_ids[t] != s2s.PENDING else f"?{token}"
              for t, token in enumerate(analysis.output_tokens)]
    chart(token_cells(labels=labels, values=values, value_name="probability", title=title, per_row=16, zmax=1.0,
                      marked=s2s.newest_row(analysis)), key="translation_outputs")
    shown.update({"source_tokens": analysis.source_tokens, "target_tokens": analysis.target_tokens,
                  "output_tokens": analysis.output_tokens, "output_probabilities": values, "output_text": text_out})


def pick_ui(analysis: s2s.Seq2SeqAnalysis, report: dict | None) -> tuple[int, int | None, str]:
    """What the map shows: (layer, head or None for the mean, a title); the alignment head when the report has one."""
    info = analysis.model
    options = SHOW if report else SHOW[:2]
    show = linked("translation_show", one_of(options), options[-1] if report else options[0],
                  lambda: st.segmented_control("Cross-attention of", options, required=True, key="translation_show"))
    if show == "alignment head":
        layer, head = (int(v) for v in report["alignment"]["best"])
        return layer, head, f"Alignment head: layer {layer}, head {head}"
    columns = st.columns(2)
    layer = number_ui(columns[0], "Decoder layer", key="translation_layer", last=info.n_layers - 1,
                      default=info.n_layers - 1)
    if show == "mean of the layer":
        return layer, None, f"Layer {layer}, mean of its {info.n_heads} heads"
    head = number_ui(columns[1], "Head", key="translation_head", last=info.n_heads - 1, default=0)
    return layer, head, f"Layer {layer}, head {head}"


def cross_ui(analysis: s2s.Seq2SeqAnalysis, layer: int, head: int | None, title: str, shown: dict) -> None:
    """The cross-attention map (output × source), then the newest output token's reading as a shaded strip."""
    weights = s2s.cross_map(analysis, layer=layer, head=head)
    newest = s2s.newest_row(analysis)
    chart(figures.cross_attention_heatmap(weights=weights, source_tokens=analysis.source_tokens,
                                          row_labels=s2s.row_labels(analysis), title=title, marked_row=newest),
          key="translation_cross")
    token = analysis.output_tokens[newest]
    pending = analysis.output_ids[newest] == s2s.PENDING
    chart(token_cells(labels=analysis.source_tokens, values=weights[newest], value_name="attention", per_row=16,
                      title=f"Which source tokens the {'next' if pending else 'newest'} output token read "
                            f"while it was written ({title.lower()})"),
          key="translation_newest")
    strongest = ", ".join(f"{code_token(analysis.source_tokens[s])} ({weights[newest, s]:.0%})"
                          for s in s2s.strongest_source(weights[newest]))
    st.caption(f"Writing {code_token(token)} (position {newest}), the decoder read most: {strongest}.")
    shown["cross_attention"] = {"layer": layer, "head": "mean" if head is None else head, "weights": weights}


def report_ui(report: dict) -> None:
    """The date model's measured accuracy and how often its alignment head lines up output digits with the source."""
    alignment = report["alignment"]
    columns = st.columns(4)
    columns[0].metric("Held-out dates exactly right", f"{report['accuracy']:.1%}",
                      help=f"Measured on {report.get('held_out', '?')} dates never seen in training.")
    columns[1].metric("Alignment holds", f"{alignment['holds']:.1%}",
                      help="Share of output digits whose strongest cross-attention (in the best head) falls on the "
                           "right part of the source: year digits on the year, month on the month, day on the day.")
    chance = report.get("chance", alignment.get("chance"))
    if chance is not None:
        columns[2].metric("By chance", f"{float(chance):.1%}", help="The same share for attention spread evenly.")
    by_field = alignment.get("by_field", {})
    columns[3].markdown("  \n".join(f"**{name}** {value:.0%}" for name, value in by_field.items()))
    chart(figures.head_scores_heatmap(scores=np.array(alignment["scores"]), best=tuple(alignment["best"]),
                                      chance=None if chance is None else float(chance),
                                      title="How often each cross-attention head aligns digits with their field"),
          key="translation_head_scores")


def three_kinds_ui(analysis: s2s.Seq2SeqAnalysis, layer: int) -> None:
    """Encoder self-attention, masked decoder self-attention and cross-attention, one tab each (layer means)."""
    columns = st.tabs(["1. Encoder self-attention", "2. Decoder self-attention (masked)", "3. Cross-attention"])
    encoder_layer = min(layer, analysis.encoder_layers - 1)
    maps = [
        (attention_heatmap(weights=analysis.encoder_attentions[encoder_layer].mean(axis=0),
                           tokens=analysis.source_tokens, title=f"1. Encoder reads the source (layer {encoder_layer})"),
         "translation_encoder"),
        (attention_heatmap(weights=analysis.decoder_attentions[layer].mean(axis=0), tokens=analysis.target_tokens,
                           title=f"2. Decoder reads its own tokens, masked (layer {layer})", causal=True),
         "translation_decoder"),
        (figures.cross_attention_heatmap(weights=analysis.cross_attentions[layer].mean(axis=0),
                                         source_tokens=analysis.source_tokens, row_labels=s2s.row_labels(analysis),
                                         title=f"3. Decoder reads the source (layer {layer})"),
         "translation_three_cross"),
    ]
    for column, (figure, key) in zip(columns, maps, strict=True):
        chart(figure, key=key, where=column)


def bertviz_ui(analysis: s2s.Seq2SeqAnalysis, layer: int) -> None:
    """BertViz's encoder–decoder views: its menu switches between encoder, decoder and cross-attention."""
    kind = linked("translation_bertviz", one_of(BERTVIZ_KINDS), BERTVIZ_KINDS[0], lambda: st.segmented_control(
        "BertViz", BERTVIZ_KINDS, required=True, key="translation_bertviz"))
    both = min(analysis.encoder_layers, analysis.model.n_layers)
    shown_layer = min(layer, both - 1)
    longer = max(analysis.n_source, analysis.n_target)
    layers = list(range(max(0, both - 4), both))  # the model view: the last four layers both sides have

    def build() -> tuple[str, int]:
        if kind == "Head view":
            return (encoder_decoder_html("head", **_bertviz_arrays(analysis), layers=[shown_layer]),
                    head_view_height(longer) + 30)
        return (encoder_decoder_html("model", **_bertviz_arrays(analysis), layers=layers,
                                     heads=list(range(analysis.model.n_heads))),
                int(len(layers) * 110 + 18 * longer + 200))

    built = bertviz_built(build)
    if built is None:
        return
    html, height = built
    st.caption(f"It opens on **Cross**; pick **Encoder** or **Decoder** in its Attention menu. Layer {shown_layer} "
               f"in the head view; {len(html.encode()) / 1e6:.2f} MB sent, up to {BERTVIZ_MAX_TOKENS} tokens a side, "
               "offline.")
    st.iframe(html, height=height)


def _bertviz_arrays(analysis: s2s.Seq2SeqAnalysis) -> dict:
    return {"source_tokens": analysis.source_tokens, "target_tokens": analysis.target_tokens,
            "encoder": analysis.encoder_attentions, "decoder": analysis.decoder_attentions,
            "cross": analysis.cross_attentions}


def qkv_ui(analysis: s2s.Seq2SeqAnalysis, layer: int, head: int | None, shown: dict) -> None:
    """One cross-attention row computed from Q (the decoder's) and K, V (the encoder's), beside the model's own."""
    head = 0 if head is None else head
    labels = hover_labels(analysis.output_tokens)
    signature = (analysis.model.key, analysis.source_text, analysis.generated)
    if st.session_state.get("_translation_query_for") not in (None, signature):  # a new output: follow its newest
        st.session_state["translation_query"] = st.session_state[KEPT.format("translation_query")] = \
            s2s.newest_row(analysis)
    st.session_state["_translation_query_for"] = signature
    query = linked("translation_query", one_of(range(analysis.n_target)), s2s.newest_row(analysis),
                   lambda: st.selectbox("Output position (the query)", range(analysis.n_target),
                                        key="translation_query", format_func=labels.__getitem__))
    qkv = glue.cross_qkv(analysis, layer)
    step = steps.query_steps(qkv, head=head, query=query)
    difference = float(np.abs(attention_from_qkv(qkv) - analysis.cross_attentions[layer]).max())
    source = hover_labels(analysis.source_tokens)
    left, right = st.columns(2)
    chart(qkv_figures.vector_strips(vectors=np.vstack([step.query[None], step.keys]),
                                    labels=[f"q of output {query}", *(f"k {s}" for s in source)],
                                    title=f"q (decoder) and k (encoder), layer {layer}, head {head}"),
          key="translation_qk", where=left)
    chart(qkv_figures.score_bars(values=step.weights, labels=source,
                                 reference=analysis.cross_attentions[layer, head, query],
                                 title="softmax(q·k × scale): weight on each source token"),
          key="translation_weights", where=right)
    st.caption(f"Queries come from the decoder (position {query}, {code_token(analysis.output_tokens[query])} being "
               f"written), keys and values from the encoder's output. Scale {qkv.scale:.4g}; no mask: every output "
               f"position may read every source token. Largest difference from the model's own cross-attention "
               f"weights over this whole layer: {difference:.1e}.")
    shown["cross_qkv"] = {"layer": layer, "head": head, "query": query, "q": step.query, "k": step.keys,
                          "weights": step.weights, "model_weights": analysis.cross_attentions[layer, head, query],
                          "max_difference": difference}
