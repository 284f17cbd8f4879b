"""The "Compare with an edit" sections of the Attention, Word senses and Next-token pages: the same text with one
word changed, shown as a diff (heads ranked by change, one head's difference map, next-token shift, a word's
cosine curves before and after). Computed only when switched on and the box holds a different text."""

from __future__ import annotations

import streamlit as st

from viz import edits
from viz.analysis import Analysis, ModelInfo
from viz.figures.common import code_token, visible
from viz.figures.edits import difference_heatmap, sense_lines, shift_bars
from viz.text import EmptyText, clean_text
from viz.text import escape_markdown as plain
from viz.ui import cached
from viz.ui import edits as glue
from viz.ui.export import chart
from viz.ui.links import KEPT, ON_OFF, linked, one_of
from viz.ui.links import text as link_text
from viz.ui.sidebar import selection
from viz.ui.widgets import Sentences

MAX_EDIT = 20_000  # characters, as the sidebar's text box
HEAD_CHOICES = 10  # the difference map can show any of the 10 most changed heads
TITLE = "Compare with an edit"


def edit_box_ui(key: str, info: ModelInfo, original: str, *, keep: str = "") -> str | None:
    """A switch and a box holding `original` with one word changed (prefilled with a default edit); returns the
    cleaned edited text, or None when switched off, empty or the same as `original` (with a message)."""
    if not linked(f"{key}_on", ON_OFF, False, lambda: st.toggle(
            "Compare with an edit", key=f"{key}_on",
            help="Type the same text with one word changed or masked; see what that changes inside the model.")):
        st.caption("Switch on to change one word of the text and see what moves, shown as a difference.")
        return None
    mask = None if info.is_causal else cached.special_token(info.key, "mask")
    proposal = edits.default_edit(original, mask_token=mask[1] if mask else None, keep=keep)
    signature = (info.key, original, keep)
    if st.session_state.get(f"_{key}_for") not in (None, signature):  # a new text starts from its own default
        st.session_state[key] = st.session_state[KEPT.format(key)] = proposal.text[:MAX_EDIT]
    st.session_state[f"_{key}_for"] = signature
    typed = linked(key, link_text(MAX_EDIT), proposal.text[:MAX_EDIT], lambda: st.text_area(
        "The text with one word changed", key=key, max_chars=MAX_EDIT, height=68,
        help="Replace or mask one word (Ctrl+Enter to apply). Longer edits work too, but the diff reads best "
             "when one word differs."))
    st.caption(f"The box starts from {plain(proposal.description, 160)}.")
    try:
        cleaned = clean_text(typed)
    except EmptyText:
        st.info("The edit box is empty: type the text with one word changed to compare it.", icon=":material/edit:")
        return None
    for notice in cleaned.notices:
        st.warning(notice, icon=":material/content_cut:")
    changes = edits.word_changes(original, cleaned.text)
    if cleaned.text == original.strip() or not changes:
        st.info("The edited text is the same as the text: change a word to see what moves.", icon=":material/edit:")
        return None
    listed = ", ".join(f"“{plain(a, 40) or '∅'}” → “{plain(b, 40) or '∅'}”" for a, b in changes[:4])
    st.caption(f"Changed: {listed}{' …' if len(changes) > 4 else ''}"
               + (" (the diff reads best when one word differs)" if len(changes) > 1 else "") + ".")
    return cleaned.text


def edited_analysis(model_key: str, edited_text: str, text_pair: str | None) -> Analysis:
    """The edited text's analysis (shared with every other session and page), with its notices."""
    analysis = cached.analysis(model_key, edited_text, text_pair)
    for notice in analysis.notices:
        st.warning(f"Edited text: {notice}", icon=":material/content_cut:")
    return analysis


def attention_edit_ui(analysis: Analysis, shown: dict) -> None:
    """The Attention page's section: heads ranked by change, the chosen head's difference map, a decoder's shift."""
    st.header(TITLE)
    edited_text = edit_box_ui("attn_edit", analysis.model, analysis.text)
    if edited_text is None:
        return
    edited = edited_analysis(analysis.model.key, edited_text, analysis.text_pair)
    changes = glue.head_changes(analysis, edited)
    table = edits.head_change_table(changes)
    shown["edit"] = {"edited_text": edited.text, "head_changes": table}
    layer, head = heads_ui(changes, table, causal=analysis.model.is_causal)
    difference = edits.difference_map(analysis.attentions[layer, head], edited.attentions[layer, head],
                                      changes.columns, causal=analysis.model.is_causal)
    chart(difference_heatmap(difference=difference, labels=[c.label for c in changes.columns],
                             title=f"Layer {layer}, head {head}: edited − original"), key="attn_edit_map")
    st.caption("Tokens are lined up between the two texts; a changed stretch is one row and column (its key weights "
               "summed, its query rows averaged), shown as “before → after”, with ∅ for a token added or removed. "
               "Grey rows: a token that exists on one side only has no row to compare"
               + ("; grey above the diagonal: a decoder never looks ahead." if analysis.model.is_causal else "."))
    if analysis.model.is_causal:
        st.subheader("Next token, before and after the edit")
        shift_ui(analysis.model, analysis.token_ids, edited.token_ids, shown, key="attn_edit_shift")


def heads_ui(changes: edits.HeadChanges, table, *, causal: bool) -> tuple[int, int]:
    """The ranked table of heads and a picker over the most changed ones; returns the (layer, head) to draw."""
    top = table.iloc[0]
    st.markdown(f"Most changed: **layer {top['layer']}, head {top['head']}** (change {top['change']:.3f}); its "
                f"query {code_token(top['most changed query'])} moved most ({top['its change']:.3f}). "
                f"Mean over all {len(table)} heads: {changes.distance.mean():.3f}.")
    st.dataframe(table, key="attn_edit_table", hide_index=True, height=300, column_config={
        "change": st.column_config.ProgressColumn("change", min_value=0.0, max_value=1.0, format="%.3f"),
        "its change": st.column_config.ProgressColumn("its change", min_value=0.0, max_value=1.0, format="%.3f")})
    st.caption("Change of a head: for every token present in both texts, how much of its attention moved "
               "(total variation ½·Σ|edited − original| over the lined-up tokens: 0 = the same weights, 1 = no "
               "overlap), averaged over those tokens" + (". A decoder's tokens before the edit cannot see it (their "
               "rows are the same), so the average starts at the edit." if causal else "."))
    options = [f"layer {layer}, head {head}" for layer, head in changes.ranked()[:HEAD_CHOICES]]
    chosen = linked("attn_edit_head", one_of(options), options[0], lambda: st.selectbox(
        "Head to draw (the most changed first)", options, key="attn_edit_head"))
    layer, head = (int(part.split()[-1]) for part in chosen.split(","))
    return layer, head


def shift_ui(info: ModelInfo, ids_before, ids_after, shown: dict, *, key: str) -> None:
    """A decoder's next-token distribution after the text and after the edited text: bars and KL divergence."""
    shift = edits.distribution_shift(glue.next_token_logits(info.key, ids_before),
                                     glue.next_token_logits(info.key, ids_after))
    labels = cached.token_labels(info.key, shift.token_ids)
    chart(shift_bars(labels=labels, before=shift.before, after=shift.after,
                     title="Next-token probability: original (grey) and edited (orange)"), key=key)
    names = dict(zip(shift.token_ids.tolist(), labels, strict=True))
    st.markdown(f"KL(original ‖ edited) = **{shift.kl_bits:.3f} bits**. Most probable next token: "
                f"{code_token(names[shift.top_before])} → {code_token(names[shift.top_after])}.")
    st.caption("Bars: the 5 most probable tokens of each text (the union). KL divergence measures how much the whole "
               "distribution moved (0 = the same; it adds up the change over every token of the vocabulary).")
    shown["edit_next_token"] = {"tokens": list(labels), "before": shift.before, "after": shift.after,
                                "kl_bits": shift.kl_bits}


def next_token_edit_ui(info: ModelInfo, shown: dict) -> None:
    """The Next-token page's section: how the next-token distribution moves when one word of the prompt changes."""
    st.header(TITLE)
    if not info.is_causal:
        st.caption("For an encoder this section is left out: it would compare fill-in-the-blank guesses, which the "
                   "bundled encoder cannot make. The Attention and Word senses pages compare an edit for any model.")
        return
    try:
        original = clean_text(selection().text).text
    except EmptyText:
        st.caption("Type a text in the sidebar to compare it with an edit.")
        return
    edited_text = edit_box_ui("next_edit", info, original)
    if edited_text is not None:
        split = cached.split_text(info.key, edited_text)
        if split.dropped:
            st.warning(f"The edited text was cut to {len(split.ids):,} tokens.", icon=":material/content_cut:")
        shift_ui(info, cached.split_text(info.key, original).ids, split.ids, shown, key="next_edit_shift")


def senses_edit_ui(found: Sentences, shown: dict) -> None:
    """The Word senses page's section: the followed word's cosine curves with S1 as typed and with S1 edited."""
    st.header(TITLE)
    original, word = found.analyses[0], found.word.strip()
    st.caption(f"Edits S1 and follows “{plain(word, 40) or '…'}” (the word above) before and after.")
    edited_text = edit_box_ui("sim_edit", original.model, original.text, keep=word)
    if edited_text is None:
        return
    edited = edited_analysis(original.model.key, edited_text, None)
    curves = edits.sense_curves(original, edited, found.analyses[1:], word)
    if not curves:
        st.info(f"“{plain(word, 40)}” must be in S1 and in its edited text to follow it (type another word to "
                "follow above, or keep it in the edit).", icon=":material/search:")
        return
    named, dashed, groups = {"S1 vs edited S1": curves["edit"]}, {"S1 vs edited S1": True}, {"S1 vs edited S1": 0}
    for (when, index), values in ((k, v) for k, v in curves.items() if k != "edit"):
        name = f"S1 vs S{index + 2}" if when == "before" else f"edited S1 vs S{index + 2}"
        named[name], dashed[name], groups[name] = values, when == "after", index + 1
    chart(sense_lines(curves=named, edited=dashed, groups=groups,
                      title=f"Cosine of “{visible(word)}”: solid before the edit, dashed after"), key="sim_edit_lines")
    last = [f"S{index + 2} {curves[('before', index)][-1]:.2f} → {curves[('after', index)][-1]:.2f}"
            for when, index in (k for k in curves if k != "edit" and k[0] == "before")]
    st.markdown(f"At the last layer, “{plain(word, 40)}” in S1 against S1 edited: **{curves['edit'][-1]:.3f}**"
                + (f"; against the other sentences, before → after: {', '.join(last)}." if last else "."))
    shown["edit"] = {"edited_text": edited.text, "curves": {name: values for name, values in named.items()}}
