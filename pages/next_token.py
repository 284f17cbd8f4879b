"""Next token: probability bars with temperature and top-k/top-p, step-by-step generation, attention, logit lens."""

import streamlit as st

from viz.analysis import ModelInfo
from viz.figures.common import code_token, visible
from viz.figures.next_token import probability_bars
from viz.sampling import distribution
from viz.text import EmptyText, clean_text
from viz.ui import cached, session
from viz.ui.classroom import chart_first, presentation, settings_box, tour_ui
from viz.ui.export import chart, export_ui
from viz.ui.links import linked, one_of, text
from viz.ui.sidebar import analysis_or_stop, current_model, selection
from viz.views.attribution import explain_ui
from viz.views.edits import next_token_edit_ui
from viz.views.next_token import attention_ui, bars_ui, generation_ui, history_ui, lens_ui, sampling_ui


def encoder_ui(info: ModelInfo) -> None:
    """Encoders read the whole text at once: say so, and offer fill-in-the-blank when the checkpoint can."""
    st.info(f"**{info.name}** is an encoder: it reads the whole text at once, in both directions, and does not "
            "predict a next token. Pick the SmolLM2 decoder in the sidebar to see next-token predictions.",
            icon=":material/info:")
    if not cached.can_fill_mask(info.key):
        st.caption("Its checkpoint has no masked-language-model head either, so it cannot fill in a blank. "
                   "Online, an encoder trained to fill blanks (for example `bert-base-uncased`) can.")
        return
    analysis = analysis_or_stop(info.key, selection().text)
    shown = export_ui("next_token", model=info, analyses=[analysis], title="Next token")
    mask_id, mask_text = cached.special_token(info.key, "mask")
    choices = [i for i in range(analysis.n_tokens) if not analysis.special[i] or analysis.token_ids[i] == mask_id]
    if not choices:
        st.info("The text has no word to hide.")
        return
    masks = [i for i in choices if analysis.token_ids[i] == mask_id]
    st.subheader("Fill in the blank")
    position = mask_position_ui(analysis.tokens, choices, masks[0] if masks else choices[-1])
    dist = distribution(cached.fill_mask_logits(info.key, analysis.token_ids, position))
    ids = dist.ranked(10)
    labels = list(cached.token_labels(info.key, ids))
    chart(probability_bars(dist, token_ids=ids, labels=labels), key="next_mask_bars")
    shown["fill_mask"] = {"position": position, "token_ids": ids, "tokens": labels,
                          "probabilities": dist.probabilities[ids]}
    st.caption(f"Entropy {dist.entropy_bits:.2f} bits. The model sees {mask_text} at position "
               f"{position} and scores every token of its vocabulary for that place.")


def mask_position_ui(tokens, choices: list[int], default: int) -> int:
    """The token to hide; a new text starts again from `default` (its mask token, else its last word)."""
    if st.session_state.get("_next_mask_tokens") not in (None, tuple(tokens)):
        st.session_state["next_mask_position"] = default
    st.session_state["_next_mask_tokens"] = tuple(tokens)
    return linked("next_mask_position", one_of(choices), default, lambda: st.selectbox(
        "Hide this token and let the model guess it", choices, key="next_mask_position",
        format_func=lambda i: f"{i}: {visible(tokens[i])}"))


def prompt_ids_ui(info: ModelInfo) -> list[int]:
    """The token ids of the sidebar text (cut to the model's limit); the start token when the text is empty."""
    try:
        cleaned = clean_text(selection().text)
    except EmptyText:
        token_id, token = cached.special_token(info.key, "start")
        st.info(f"The text is empty. A decoder needs at least one token to predict from, so it starts from its "
                f"beginning-of-text token {code_token(token)}.", icon=":material/edit:")
        return [token_id]
    for notice in cleaned.notices:
        st.warning(notice, icon=":material/content_cut:")
    split = cached.split_text(info.key, cleaned.text)
    if split.dropped:
        st.warning(f"The text has {len(split.ids) + split.dropped:,} tokens; this model reads at most "
                   f"{info.max_tokens:,} here, so the last {split.dropped:,} were dropped.",
                   icon=":material/content_cut:")
    return list(split.ids)


def compare_ui(own: str) -> str:
    """The other spelling to compare with; a new text starts again from it with its first letter's case swapped."""
    swapped = (own[:1].swapcase() + own[1:])[:2_000]
    if st.session_state.get("next_compare_for") not in (None, own):
        st.session_state["next_compare"] = swapped
    st.session_state["next_compare_for"] = own
    return linked("next_compare", text(2_000), swapped, lambda: st.text_input(
        "Compare with another spelling", key="next_compare", max_chars=2_000))


def splitting_ui(info: ModelInfo, ids: list[int], labels: list[str]) -> None:
    """How the prompt was split into tokens, beside another spelling of it."""
    st.subheader("Tokenizer: how the text was split")
    own = selection().text.strip()
    other = compare_ui(own)
    left, right = st.columns(2)
    left.dataframe({"token": [visible(t) for t in labels[:len(ids)]], "id": ids}, key="next_tokens_table")
    notes = []
    if other.strip():
        split = cached.split_text(info.key, other.strip())
        right.dataframe({"token": [visible(t) for t in split.labels], "id": list(split.ids)}, key="next_compare_table")
        mine = cached.split_text(info.key, own) if own else None
        for word, pieces in (mine.split_words if mine else ()) + split.split_words:
            notes.append(f"“{word}” takes {len(pieces)} tokens: {' + '.join(visible(p) for p in pieces)}")
    st.caption("  \n".join(dict.fromkeys(notes)) or "Every word here is a single token.")


info = current_model()
st.title("Next token")
tour_ui("next_token")
if not info.is_causal:
    encoder_ui(info)
    next_token_edit_ui(info, {})
    st.stop()
ids = prompt_ids_ui(info)
run = session.generation_run(info.key, ids)
shown = export_ui("next_token", model=info, title="Next token")
place, controls = chart_first()  # presentation mode: buttons, text and bars first, the settings below them
with controls, settings_box("Temperature, top-k, top-p · sampling or argmax, seed, steps"):
    settings = sampling_ui()
with place:
    run = generation_ui(info, run, settings)
    labels = list(cached.token_labels(info.key, run.ids))
    shown.update({"settings": settings, "prompt_length": run.prompt_length, "token_ids": list(run.ids),
                  "tokens": labels, "text": cached.sequence_text(info.key, run.ids)})
    st.text(shown["text"])
    first, second = st.container(), st.container()
    with second if presentation() else first:  # the generated tokens' row below the bars on a projector
        chosen_step = history_ui(info, run, labels, shown)
    prediction = run.prediction if chosen_step is None else session.prediction_at(run,
                                                                                   run.prompt_length + chosen_step)
    with first if presentation() else second:
        dist = bars_ui(info, run, prediction, settings, chosen_step, shown)
attention_ui(info, run, prediction, dist, labels, shown)
explain_ui(info, run, prediction, dist, labels, shown)
lens_ui(info, run, labels, shown)
splitting_ui(info, ids, labels)
next_token_edit_ui(info, shown)
