"""The Q, K, V page's sections 1–6: one attention weight computed step by step, then every head of the layer.

Streamlit drawing only; the steps come from viz/qkv_steps.py, the model's parts from viz/ui/cached.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from viz import qkv_steps as steps
from viz.analysis import QKV, STORED_ATTENTION_ERROR, Analysis
from viz.figures import qkv as figures
from viz.figures.common import code_token
from viz.ui import cached
from viz.ui.classroom import secondary
from viz.ui.export import chart
from viz.ui.figure_cache import shared_figure, text_key
from viz.ui.links import ON_OFF, linked

TOP_K = 10  # keys shown by default on long inputs
ALL_KEYS_UP_TO = 16  # inputs up to this many tokens show every key


@dataclass(frozen=True)
class View:
    """What this request looks at: computed per session, never stored on the shared model.

    Shapes: shown (N,) positions of the keys drawn in the strips and bars; labels (T,) "position: token".
    """

    analysis: Analysis
    qkv: QKV
    step: steps.QuerySteps
    layer: int
    shown: np.ndarray
    labels: list[str]

    @property
    def shown_labels(self) -> list[str]:
        return [self.labels[i] for i in self.shown]

    @property
    def query_row(self) -> int:
        """Row of the query among the shown keys."""
        return int(np.flatnonzero(self.shown == self.step.query_index)[0])

    @property
    def key(self) -> tuple:
        """Everything this view's figures depend on: they are shared by every session looking at the same."""
        return (*text_key(self.analysis), self.layer, self.step.head, self.step.query_index, self.shown.tobytes())

    @property
    def query_name(self) -> str:
        """The query token as inline code."""
        return code_token(self.analysis.tokens[self.step.query_index])


def view_chart(view: View, build, *, key: str, **options) -> None:
    """chart() of the figure build() makes, built once for every session with the same view (figure_cache)."""
    chart(shared_figure((*view.key, key), build), key=key, **options)


def show_all_keys(n_tokens: int) -> bool:
    """The "show all keys" switch of long inputs (from and into the link; hidden in presentation mode)."""
    return linked("qkv_all_keys", ON_OFF, False, secondary(lambda: st.toggle(
        f"Show all {n_tokens} keys", key="qkv_all_keys",
        help=f"Off: only the {TOP_K} keys with the largest weights, and the query.")))


def shown_keys(analysis: Analysis, step: steps.QuerySteps) -> np.ndarray:
    """All keys on short inputs; on long ones the query and its top keys, unless the reader asks for all: (N,)."""
    n_tokens = analysis.n_tokens
    if n_tokens <= ALL_KEYS_UP_TO or show_all_keys(n_tokens):
        return np.arange(n_tokens)
    shown = steps.top_keys(step.weights, k=TOP_K, query=step.query_index, allowed=step.allowed)
    top = len(set(shown.tolist()) - {step.query_index})
    st.caption(f"Showing the query {code_token(analysis.tokens[step.query_index])} and the {top} keys it weighs most, "
               f"of {n_tokens} tokens{' (it may only look at earlier ones)' if analysis.model.is_causal else ''}.")
    return shown


def query_and_keys_ui(view: View) -> None:
    """Section 1: the query vector and the key vectors, on one colour scale."""
    info, step = view.analysis.model, view.step
    st.subheader("1 · The query and the keys")
    d = step.head_dim
    split = f" (width {info.width} split over {info.n_heads} heads)" if info.width == info.n_heads * d else ""
    rotary = (" Both are taken **after rotary position embedding**: the vectors that actually meet in the dot "
              "product." if view.qkv.rotary else "")
    st.markdown(f"Layer {view.layer}, head {step.head}: every query and key has **d_k = {d}** numbers{split}.{rotary}")
    limit = float(np.abs(np.vstack([step.query[None], step.keys[view.shown]])).max())
    query_label = view.labels[step.query_index]
    view_chart(view, lambda: figures.vector_strips(vectors=step.query[None], labels=[query_label], zmax=limit,
                                                   title=f"query q of {query_label}"), key="qkv_query_fig")
    view_chart(view, lambda: figures.vector_strips(vectors=step.keys[view.shown], labels=view.shown_labels,
                                                   zmax=limit, title="key k of each token shown"), key="qkv_keys_fig")


def products_ui(view: View) -> None:
    """Section 2: q∘k number by number, and its sums q·k."""
    step = view.step
    st.subheader("2 · Multiply q and k number by number, then add up: q·k")
    st.markdown("Where q and k have the same sign the product is positive (red); the sum of a row is the raw score "
                f"q·k. For example q({view.query_name}) · k({view.query_name}) = {step.raw[step.query_index]:.3f}.")
    left, right = st.columns([3, 1])
    view_chart(view, lambda: figures.vector_strips(vectors=step.products[view.shown], labels=view.shown_labels,
                                                   value_name="q∘k", title="q∘k (element-wise product)"),
               where=left, key="qkv_products_fig")
    view_chart(view, lambda: figures.score_bars(values=step.raw[view.shown], labels=view.shown_labels,
                                                title="sum: q·k", highlight=view.query_row),
               where=right, key="qkv_raw_sum_fig")


def scale_mask_softmax_ui(view: View) -> None:
    """Section 3: the scores scaled, masked (decoders) and turned into weights, next to the model's own."""
    info, step = view.analysis.model, view.step
    st.subheader("3 · Scale, mask, softmax")
    d = step.head_dim
    scale = f"× {step.scale:.4f} = 1/√{d}" if abs(step.scale - d**-0.5) < 1e-6 else f"× {step.scale:.4f} (its scale)"
    hidden = int((~step.allowed).sum())
    mask = ("This is a decoder: a token may not look at later tokens, so their scores become −∞ and their weight "
            f"exactly 0 (here {hidden} later token{'s' if hidden != 1 else ''} hidden from "
            f"{view.query_name})." if info.is_causal else
            "This is an encoder: every token sees every token, so nothing is masked.")
    st.markdown(f"Scaling by 1/√d_k keeps scores from growing with the head width. {mask} Softmax turns the scores "
                "into weights that sum to 1: e^score / Σ e^score. ◇ marks the model's own weights.")
    charts = [(step.raw, "q·k"), (step.scaled, scale)]
    if info.is_causal:
        charts.append((step.masked, "+ causal mask"))
    charts.append((step.weights, "softmax → weights"))
    model_row = view.analysis.attentions[view.layer, step.head, step.query_index][view.shown]
    for index, (column, (values, title)) in enumerate(zip(st.columns(len(charts)), charts, strict=True)):
        last = index == len(charts) - 1
        view_chart(view, lambda values=values, title=title, last=last: figures.score_bars(
            values=values[view.shown], labels=view.shown_labels, title=title, highlight=view.query_row,
            reference=model_row if last else None), where=column, key=f"qkv_step_fig_{index}")


def attention_row_ui(view: View) -> None:
    """Section 4: the recomputed row against the model's own attention weights."""
    step, analysis = view.step, view.analysis
    st.subheader("4 · The attention row")
    difference = steps.max_difference(step.weights, analysis.attentions[view.layer, step.head, step.query_index])
    top = int(np.argmax(step.weights))
    agrees = difference < 1e-4 + STORED_ATTENTION_ERROR  # the model's weights are kept as float16 (viz/analysis.py)
    box = st.success if agrees else st.warning
    these = f"These {analysis.n_tokens} weights are" if analysis.n_tokens > 1 else "This one weight is"
    box(f"{these} the model's own attention weights for layer {view.layer}, head "
        f"{step.head}, query {view.query_name}: largest difference **{difference:.1e}** (the app keeps the model's "
        f"weights as 16-bit floats, each within {STORED_ATTENTION_ERROR:.1e} of the model's own). "
        f"They sum to {step.weights.sum():.6f}; the largest, {step.weights[top]:.3f}, goes to "
        f"{code_token(analysis.tokens[top])} (position {top}).",
        icon=":material/check_circle:" if agrees else ":material/warning:")


def values_and_output_ui(view: View) -> None:
    """Section 5: the values, their weighted sum, and where the head outputs go next."""
    step = view.step
    st.subheader("5 · Values, and the weighted sum")
    st.markdown(f"Every token also offers a value vector v ({step.head_dim} numbers). The head's output for "
                f"{view.query_name} is the sum of the values, each multiplied by its weight: keys with weight near 0 "
                "add almost nothing.")
    left, right = st.columns(2)
    view_chart(view, lambda: figures.vector_strips(vectors=step.values[view.shown], labels=view.shown_labels,
                                                   title="value v of each token shown"),
               where=left, key="qkv_values_fig")
    view_chart(view, lambda: figures.weighted_sum_figure(weighted_values=step.weighted_values[view.shown],
                                                         output=step.output, labels=view.shown_labels),
               where=right, key="qkv_weighted_fig")
    output_projection_ui(view)


def output_projection_ui(view: View) -> None:
    """Section 5's end: all heads' outputs concatenated, then mixed by the layer's output projection."""
    step, info = view.step, view.analysis.model
    projection = cached.output_projection(info.key, view.layer)
    concatenated = steps.head_outputs(view.qkv, query=step.query_index).reshape(-1)  # (H*d,)
    projected = cached.project_heads(view.analysis, view.layer, step.query_index, concatenated)  # (D,)
    d, head = step.head_dim, step.head
    st.markdown(
        f"**Where it goes next.** All {info.n_heads} heads of layer {view.layer} do this at once, each with its own "
        f"q, k and v. Their outputs for {view.query_name} ({info.n_heads} × {d} numbers) are **concatenated** into "
        f"one vector of {concatenated.size} numbers; the **output projection** `{projection.name}` "
        f"({projection.in_features} → {projection.out_features}{', with bias' if projection.has_bias else ''}) mixes "
        f"them into {projected.size} numbers, {projection.then}.")
    view_chart(view, lambda: figures.vector_strips(
        vectors=concatenated[None], labels=[f"{info.n_heads} heads × {d}"], value_name="output",
        title=f"concatenated head outputs ({concatenated.size}): head {head} is dimensions "
              f"{head * d}–{head * d + d - 1}",
    ), key="qkv_concat_fig")
    view_chart(view, lambda: figures.vector_strips(vectors=projected[None], labels=[f"projected ({projected.size})"],
                                                   title="after the output projection", value_name="output"),
               key="qkv_proj_fig")


def every_head_ui(view: View) -> None:
    """Section 6: every head's row for the query, and grouped-query attention where the model has it."""
    info, qkv, step = view.analysis.model, view.qkv, view.step
    st.subheader("6 · Every head of this layer")
    rows = steps.layer_rows(qkv, query=step.query_index)  # (H, T)
    grouped = info.n_kv_heads < info.n_heads
    head_labels = [f"head {h} (kv {qkv.kv_head[h]})" if grouped else f"head {h}" for h in range(info.n_heads)]
    whole = steps.max_difference(rows, view.analysis.attentions[view.layer, :, step.query_index])
    name = view.query_name
    seen = step.query_index + 1 if info.is_causal else len(view.analysis.tokens)  # later keys are all 0
    view_chart(view, lambda: figures.head_grid(rows=rows[:, :seen], tokens=view.analysis.tokens[:seen],
                                               head_labels=head_labels, selected=step.head,
                                               query_label=view.labels[step.query_index]), key="qkv_heads_fig")
    hidden = f" Keys after {name} have weight 0 in every head and are not drawn." if seen < rows.shape[1] else ""
    st.caption(f"Each row is one head's attention row for {name}, recomputed from q, k and the mask; largest "
               f"difference from the model's own weights over all {info.n_heads} heads: {whole:.1e}.{hidden}")
    if grouped:
        others = ", ".join(str(h) for h in steps.heads_sharing(qkv.kv_head, step.head) if h != step.head) or "none"
        st.info(f"**Grouped-query attention.** {info.name} has {info.n_heads} query heads but only {info.n_kv_heads} "
                f"key/value heads: each key/value head serves {info.n_heads // info.n_kv_heads} query heads, which "
                f"saves memory. Query head {step.head} uses **key/value head {step.kv_head}**, shared with query heads "
                f"{others}: they look with different queries at the same keys, and mix the same values.",
                icon=":material/group:")


def steps_ui(view: View) -> None:
    """Sections 2–6, shown once the reader has guessed (or straight away without the quiz switch)."""
    for section in (products_ui, scale_mask_softmax_ui, attention_row_ui, values_and_output_ui, every_head_ui):
        section(view)
