"""The Attention page's tabs: BertViz views, one head as a heatmap, all heads at a glance, who "it" refers to."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from viz import attention_stats as stats
from viz.analysis import Analysis
from viz.bertviz_view import (
    BERTVIZ_MAX_DATA_BYTES,
    BERTVIZ_MAX_TOKENS,
    ViewTooLarge,
    estimate_data_bytes,
    head_view_height,
    head_view_html,
    model_view_height,
    model_view_html,
)
from viz.figures import attention as figures
from viz.figures.common import visible
from viz.js_assets import MissingAssets
from viz.text import EmptyText
from viz.ui import cached
from viz.ui.classroom import presentation, reveal_ui, secondary
from viz.ui.export import chart
from viz.ui.links import KEPT, ON_OFF, linked, one_of
from viz.ui.sidebar import selection
from viz.ui.widgets import token_ui

TABS = ["BertViz", "Heatmap", "All heads", "Who does *it* refer to?"]
HEAD_VIEW_ZOOM, HEAD_VIEW_FIT_PX = 1.2, 480  # presentation mode: BertViz's head view up to 20 % larger, 480 px tall
THUMBNAIL = 16  # each head's map in the overview is pooled to at most 16 × 16 cells
SOURCES = ["One head", "Mean over heads", "Rollout"]
SHORT_SOURCES = {"Mean over heads": "Mean"}  # presentation mode's narrower labels
BERTVIZ_KINDS = ["Head view", "Model view"]
WORD_RULE = (
    "**Whole words:** the pieces of a word are merged by *summing over key pieces* (how much a token attends to "
    "a word is the total it gives that word's pieces) and *averaging over query pieces* (a word attends the way "
    "its pieces do on average). Every row still sums to 1."
)
REFERENT_WORDS = ("it", "party")
SHARE_COLUMNS = ("on special tokens", "on first token", "on previous token", "on itself")


def pick_head(layer: int, head: int) -> None:
    """Point the layer and head sliders at one head (their value and the one linked() keeps)."""
    for key, value in (("attn_layer", layer), ("attn_head", head)):
        st.session_state[key] = st.session_state[KEPT.format(key)] = int(value)


def on_overview_click() -> None:
    points = st.session_state.get("attn_overview", {}).get("selection", {}).get("points", [])
    markers = [p for p in points if isinstance(p.get("x"), int | float) and isinstance(p.get("y"), int | float)]
    if markers:  # the invisible marker of a picture sits at x = head, y = layer
        pick_head(round(markers[0]["y"]), round(markers[0]["x"]))


def on_table_pick() -> None:
    rows = st.session_state.get("attn_table", {}).get("selection", {}).get("rows", [])
    table = st.session_state.get("_attn_table_shown")
    if rows and table is not None and rows[0] < len(table):
        pick_head(table.iloc[rows[0]]["layer"], table.iloc[rows[0]]["head"])


def heatmap_of_head(analysis: Analysis, layer: int, head: int, *, key: str) -> None:
    figure = figures.attention_heatmap(weights=analysis.attentions[layer, head], tokens=analysis.tokens,
                                       title=f"Layer {layer}, head {head}", causal=analysis.model.is_causal)
    chart(figure, key=key)


def bertviz_built(build: Callable[[], tuple[str, int]]) -> tuple[str, int] | None:
    """build() -> (html, height) of a BertViz view, or None after saying why it cannot be drawn here."""
    try:
        return build()
    except MissingAssets as error:
        st.error(str(error), icon=":material/inventory_2:")
    except ViewTooLarge as error:
        st.warning(str(error), icon=":material/straighten:")
    return None


def bertviz_ui(analysis: Analysis, layer: int, head: int, side=None) -> None:
    """The BertViz tab: head or model view, or the plotly heatmap when the text is too long for BertViz.

    `side` is where its controls and notes go (beside the view in presentation mode); by default above the view.
    """
    side = side or st
    n_tokens = analysis.n_tokens
    if n_tokens > BERTVIZ_MAX_TOKENS:
        st.info(f"BertViz draws a box per token and a line per weight, which stalls a browser on long texts, so "
                f"this page shows it up to **{BERTVIZ_MAX_TOKENS} tokens**. Your text has {n_tokens}: here is the "
                "plotly heatmap of the same head instead (it scales to the model's full context).",
                icon=":material/straighten:")
        heatmap_of_head(analysis, layer, head, key="attn_bertviz_fallback")
        return
    kind = linked("attn_bertviz_kind", one_of(BERTVIZ_KINDS), BERTVIZ_KINDS[0], lambda: side.segmented_control(
        "View", BERTVIZ_KINDS, required=True, key="attn_bertviz_kind"))
    built = bertviz_built(lambda: head_view(analysis, layer, side) if kind == "Head view"
                          else model_view(analysis, layer, side))
    if built is None:
        return
    html, height = built
    st.iframe(html, height=height)
    side.caption(f"{len(html.encode()) / 1e6:.2f} MB sent for this view, weights rounded to 3 decimals "
                 f"(up to {BERTVIZ_MAX_TOKENS} tokens and {BERTVIZ_MAX_DATA_BYTES / 1e6:.0f} MB of weights per view). "
                 "The libraries it needs are inlined, so it works offline.")


def head_view(analysis: Analysis, layer: int, side) -> tuple[str, int]:
    side.caption(f"Layer {layer} (pick another with the slider). Lines go from each token on the left to the "
                 "tokens it attends to on the right; hover a token to see only its lines, click a coloured square "
                 "to switch a head on or off (double-click: only that head).")
    html = head_view_html(tokens=analysis.tokens, attentions=analysis.attentions, layer=layer,
                          sentence_b_start=analysis.sentence_b_start)
    if not presentation():
        return html, head_view_height(analysis.n_tokens)
    # On a projector BertViz's 15 px tokens are drawn up to 20 % larger (18 px), as far as the view still fits the
    # height a 1280 × 720 screen has below the title, the tour line and the tabs; the frame is cut to what it draws.
    drawn = 22.5 * analysis.n_tokens + 50
    zoom = min(HEAD_VIEW_ZOOM, max(1.0, HEAD_VIEW_FIT_PX / drawn))
    return html.replace("</head>", f"<style>body {{ zoom: {zoom:.3f}; }}</style></head>", 1), int(drawn * zoom) + 10


def model_view(analysis: Analysis, layer: int, side) -> tuple[str, int]:
    info, pair = analysis.model, analysis.sentence_b_start is not None
    per_layer = estimate_data_bytes(n_tokens=analysis.n_tokens, n_layers=1, n_heads=info.n_heads, pair=pair)
    count = int(max(1, min(6, info.n_layers, BERTVIZ_MAX_DATA_BYTES // max(per_layer, 1))))
    default = sorted({*np.linspace(0, info.n_layers - 1, count).round().astype(int).tolist()[: count - 1], layer})
    columns = side.columns(2)
    layers = columns[0].multiselect("Layers", range(info.n_layers), default=default,
                                    key=f"attn_mv_layers_{info.n_layers}")
    heads = columns[1].multiselect("Heads", range(info.n_heads), default=list(range(info.n_heads)),
                                   key=f"attn_mv_heads_{info.n_heads}")
    side.caption("Each small picture is one head; click it to see its weights in detail.")
    html = model_view_html(tokens=analysis.tokens, attentions=analysis.attentions, layers=layers, heads=heads,
                           sentence_b_start=analysis.sentence_b_start)
    return html, model_view_height(analysis.n_tokens, len(layers), len(heads))


def heatmap_weights(analysis: Analysis, source: str, layer: int, head: int) -> tuple[np.ndarray, str]:
    """The (T, T) weights the heatmap shows for `source`, and its title."""
    if source == "One head":
        return analysis.attentions[layer, head], f"Layer {layer}, head {head}"
    if source == "Mean over heads":
        return stats.mean_over_heads(analysis.attentions[layer]), f"Layer {layer}, mean of all heads"
    rollout = cached.derived(analysis, "rollout", lambda a: stats.rollout(a.attentions))
    return rollout[layer], f"Attention rollout through layers 0–{layer}"


def heatmap_ui(analysis: Analysis, layer: int, head: int, shown: dict, side=None) -> None:
    """The Heatmap tab: one head, the mean over heads or the rollout, optionally merged into whole words.

    `side` is where its controls and notes go (beside the heatmap in presentation mode); by default around it.
    """
    columns = st.columns([3, 2]) if side is None else (side, side)
    short = (lambda name: SHORT_SOURCES.get(name, name)) if side is not None else str  # fits beside the heatmap
    source = linked("attn_source", one_of(SOURCES), SOURCES[0], lambda: columns[0].segmented_control(
        "Show", SOURCES, required=True, key="attn_source", format_func=short))
    words = linked("attn_words", ON_OFF, False, secondary(lambda: columns[1].toggle(
        "Whole words", key="attn_words", help="Merge the pieces of each word.")))
    weights, title = heatmap_weights(analysis, source, layer, head)
    tokens = analysis.tokens
    if words:
        groups = stats.word_groups(analysis.word_ids)
        weights, tokens = stats.merge_words(weights, groups), stats.word_labels(tokens, groups)
        title += f" — {len(tokens)} words"
    figure = figures.attention_heatmap(weights=weights, tokens=tokens, title=title, causal=analysis.model.is_causal)
    chart(figure, key="attn_heatmap")
    shown["heatmap"] = {"source": source, "whole_words": words, "title": title, "tokens": list(tokens),
                        "weights": weights}
    (side or st).caption(" ".join(heatmap_notes(analysis, source)))
    (side or st).markdown(WORD_RULE)


def heatmap_notes(analysis: Analysis, source: str) -> list[str]:
    notes = ["Rows are queries (the token that attends), columns are keys (what it attends to); each row sums to 1."]
    if analysis.model.is_causal:
        notes.append("Grey cells are masked: a decoder never attends to a later token.")
    if source == "Rollout":
        notes.append("Rollout multiplies the head-averaged attention of each layer, with the residual stream added "
                     "as ½·identity, to estimate how much each input token flows into each position by this layer.")
    if len(analysis.tokens) > figures.HOVER_TEXT_LIMIT:
        notes.append(f"Above {figures.HOVER_TEXT_LIMIT} tokens the hover shows positions rather than token text.")
    return notes


def overview_ui(analysis: Analysis, layer: int, head: int, shown: dict) -> None:
    """The All heads tab: a small picture of every head (click one to open it) and the head summary table."""
    thumbs = cached.derived(analysis, f"thumbnails{THUMBNAIL}", lambda a: stats.thumbnails(a.attentions, THUMBNAIL))
    figure = figures.head_overview(thumbnails=thumbs, layer=layer, head=head, n_tokens=analysis.n_tokens)
    chart(figure, key="attn_overview", csv=False, on_select=on_overview_click, selection_mode="points",
          width="content")
    st.caption("Click a picture to open that head (the orange frame marks the head the sliders show).")
    st.subheader("Head summary")
    table = cached.derived(analysis, "head_summary", lambda a: stats.head_summary_table(a.attentions, a.special))
    st.session_state["_attn_table_shown"] = table
    shown["head_summary"] = table
    sink = "on special tokens" if analysis.special.any() else "on first token"
    best = {label: table.loc[table[label].idxmax()] for label in ("on previous token", sink)}
    st.markdown(" · ".join(f"Most attention **{label}**: layer {int(row['layer'])}, head {int(row['head'])} "
                           f"({row[label]:.2f})" for label, row in best.items()))
    shares = {label: st.column_config.ProgressColumn(label, min_value=0.0, max_value=1.0, format="%.3f")
              for label in SHARE_COLUMNS}
    shares |= {name: st.column_config.NumberColumn(name, width="small") for name in ("layer", "head")}
    st.dataframe(table, key="attn_table", on_select=on_table_pick, selection_mode="single-row", hide_index=True,
                 column_config=shares, height=360)
    st.caption("Averages over all query tokens. Click a column header to sort (e.g. find previous-token heads), "
               "select a row to open that head. Entropy is in bits: low means the head looks at few tokens.")


def referent_ui(analysis: Analysis, layer: int, shown: dict) -> None:
    """The "it" tab: where one token of the text (read alone) looks in every layer, then the same in sentence B."""
    chosen = selection()
    first = cached.analysis(analysis.model.key, chosen.text)  # this tab reads each sentence on its own
    default_word = next((w for w in REFERENT_WORDS if first.find_token(w) is not None), "")
    columns = st.columns(2)
    with columns[0]:  # a new text starts again from "it" (or "party")
        query = token_ui(first, key="attn_token", label="Token", default_word=default_word)
    head_options = ["mean", *range(first.model.n_heads)]
    head = linked("attn_ref_head", one_of(head_options), "mean", lambda: columns[1].selectbox(
        "Heads", head_options, key="attn_ref_head",
        format_func=lambda h: "mean over heads" if h == "mean" else f"head {h}"))
    head = None if head == "mean" else int(head)
    rows = stats.token_attention_by_layer(first.attentions, query, head=head)  # (L, T)
    if not reveal_ui(key="attn_reveal", **stats.guess_question(first.tokens, first.special, rows[layer], query,
                                                                layer, causal=first.model.is_causal)):
        return
    shown["referent"] = {"text": first.text, "tokens": list(first.tokens), "query": query,
                         "head": "mean" if head is None else head, "weights_by_layer": rows}
    name = visible(first.tokens[query])
    chart(figures.referent_bars(weights=rows[layer], tokens=first.tokens, query=query,
                                title=f"Layer {layer}: where {name!r} looks"), key="attn_ref_bars")
    chart(figures.referent_layers(weights=rows, tokens=first.tokens, query=query, layer=layer,
                                  causal=first.model.is_causal), key="attn_ref_layers")
    if first.model.is_causal:
        st.caption("A decoder only looks back (later tokens are grey), and it parks much attention on the first "
                   "token, an *attention sink*; compare the other tokens with each other.")
    comparison_ui(first, chosen.text_b, query, head, layer)


def comparison_ui(first: Analysis, text_b: str, query: int, head: int | None, layer: int) -> None:
    """Change one word: the same token's attention in sentence A and sentence B, aligned word by word."""
    st.subheader("Change one word")
    try:
        second = cached.analysis(first.model.key, text_b)
    except EmptyText:
        st.info("Type a second sentence in the sidebar that differs in one word (the *it = animal* preset has "
                "“tired” vs “narrow”) to see how the attention of the same token changes.", icon=":material/edit:")
        return
    columns = stats.align_tokens(first.tokens, second.tokens)
    partner = stats.counterpart(columns, query)
    if partner is None:
        st.info(f"{visible(first.tokens[query])!r} is not in the second sentence, so there is nothing to compare.")
        return
    rows_a = stats.aligned_weights(stats.token_attention_by_layer(first.attentions, query, head=head), columns, "a")
    rows_b = stats.aligned_weights(stats.token_attention_by_layer(second.attentions, partner, head=head), columns, "b")
    comparison_notes(first, columns, query)
    labels, name = [c.label for c in columns], visible(first.tokens[query])
    chart(figures.comparison_bars(weights_a=rows_a[layer], weights_b=rows_b[layer], labels=labels,
                                  name_a="A: text", name_b="B: second sentence",
                                  title=f"Layer {layer}: where {name!r} looks in A and in B"), key="attn_cmp_bars")
    st.caption(stats.change_summary(rows_b[layer] - rows_a[layer], columns, layer))
    chart(figures.difference_by_layer(difference=rows_b - rows_a, labels=labels, layer=layer,
                                      title=f"B − A, every layer: what changes for {name!r}"), key="attn_cmp_diff")


def comparison_notes(first: Analysis, columns: list[stats.AlignedColumn], query: int) -> None:
    """What differs between A and B, and why a decoder's token before the change cannot see it."""
    changed = [c.label for c in columns if c.changed]
    st.caption(f"Sentence A: the text · sentence B: the second sentence · they differ in: {', '.join(changed) or '—'}")
    if len(changed) > 3:
        st.caption("The sentences differ in many places; this view is clearest when they differ in one word.")
    first_change = min((c.a[0] if c.a else len(first.tokens) for c in columns if c.changed), default=None)
    if first.model.is_causal and first_change is not None and query < first_change:
        st.info(f"A decoder's {visible(first.tokens[query])!r} only sees the tokens before it, and the sentences "
                "differ only after it, so its attention is the same in A and B (B − A = 0). Pick a token after the "
                "changed word, such as the last one, to see what the change does.", icon=":material/arrow_forward:")
