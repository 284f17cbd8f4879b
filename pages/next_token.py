"""Next token: probability bars with temperature and top-k/top-p, step-by-step generation, attention, logit lens."""

import time

import numpy as np
import streamlit as st

from viz.figures.common import visible
from viz.figures.next_token import logit_lens_grid, probability_bars, token_cells, top_bars
from viz.model.fill_mask import fill_mask_logits, masked_lm
from viz.model.generation import LENS_POSITIONS, generate, logit_lens, prediction_at, start, start_token_id, undo
from viz.model.token_text import candidate_labels, sequence_text, split_text, token_labels
from viz.sampling import distribution, settled_layer
from viz.text import EmptyText, clean_text
from viz.ui import analysis_or_stop, current_model, linked, selection, url_bool, url_choice, url_float, url_int
from viz.ui_classroom import secondary, tour_ui
from viz.ui_export import chart, export_ui

RUN = "next_generation"  # session_state: this browser session's Generation (its key/value cache included)
HISTORY = "next_history"
SHADED_TOKENS = 96  # attention shading shows at most the last 96 tokens
MODES = ["sampling", "argmax"]
MEAN = "mean of all heads"


def encoder_page(loaded) -> None:
    """Encoders read the whole text at once: say so, and offer fill-in-the-blank when the checkpoint can."""
    info = loaded.info
    st.info(f"**{info.name}** is an encoder: it reads the whole text at once, in both directions, and does not "
            "predict a next token. Pick the SmolLM2 decoder in the sidebar to see next-token predictions.",
            icon="ℹ️")
    mlm = masked_lm(loaded)
    if mlm is None:
        st.caption("Its checkpoint has no masked-language-model head either, so it cannot fill in a blank. "
                   "Online, an encoder trained to fill blanks (for example `bert-base-uncased`) can.")
        return
    analysis = analysis_or_stop(loaded, selection().text)
    shown = export_ui("next_token", model=info, analyses=[analysis], title="Next token")
    mask_id = loaded.tokenizer.mask_token_id
    choices = [i for i in range(analysis.n_tokens) if not analysis.special[i] or analysis.token_ids[i] == mask_id]
    if not choices:
        st.info("The text has no word to hide.")
        return
    masks = [i for i in choices if analysis.token_ids[i] == mask_id]
    default = masks[0] if masks else choices[-1]
    st.subheader("Fill in the blank")
    position = st.selectbox("Hide this token and let the model guess it", choices, index=choices.index(default),
                            format_func=lambda i: f"{i}: {visible(analysis.tokens[i])}", key="next_mask_position")
    dist = distribution(fill_mask_logits(mlm, analysis.token_ids, position, mask_id))
    ids = dist.ranked(10)
    labels = loaded.tokenizer.convert_ids_to_tokens(ids.tolist())
    chart(probability_bars(dist, token_ids=ids, labels=labels), key="next_mask_bars")
    shown["fill_mask"] = {"position": position, "token_ids": ids, "tokens": labels,
                          "probabilities": dist.probabilities[ids]}
    st.caption(f"Entropy {dist.entropy_bits:.2f} bits. The model sees {loaded.tokenizer.mask_token} at position "
               f"{position} and scores every token of its vocabulary for that place.")


def prompt_ids(loaded) -> list[int]:
    """The token ids of the sidebar text (cut to the model's limit); the start token when the text is empty."""
    try:
        cleaned = clean_text(selection().text)
    except EmptyText:
        token_id = start_token_id(loaded.tokenizer)
        st.info(f"The text is empty. A decoder needs at least one token to predict from, so it starts from its "
                f"beginning-of-text token `{loaded.tokenizer.convert_ids_to_tokens(token_id)}`.", icon="✍️")
        return [token_id]
    for notice in cleaned.notices:
        st.warning(notice, icon="✂️")
    split = split_text(loaded.tokenizer, cleaned.text, max_tokens=loaded.info.max_tokens)
    if split.dropped:
        st.warning(f"The text has {len(split.ids) + split.dropped:,} tokens; this model reads at most "
                   f"{loaded.info.max_tokens:,} here, so the last {split.dropped:,} were dropped.", icon="✂️")
    return list(split.ids)


def current_generation(loaded, ids: list[int]):
    """This session's generation run for (model, prompt); restarted when either changes."""
    run = st.session_state.get(RUN)
    if run is None or run.model_key != loaded.info.key or list(run.ids[:run.prompt_length]) != ids \
            or run.prompt_length != len(ids) or not run.valid:
        with st.spinner("Reading the prompt…"):
            run = start(loaded, ids)
        st.session_state[RUN] = run
        st.session_state[HISTORY] = None
    return run


def sampling_controls() -> dict:
    """Temperature, top-k, top-p and how many bars; returns them as keyword arguments."""
    columns = st.columns(4)
    temperature = linked("next_temperature", lambda: columns[0].slider(
        "Temperature", 0.1, 2.0, step=0.05, key="next_temperature",
        help="Logits are divided by it before softmax: below 1 sharpens, above 1 flattens the distribution."),
        lambda: url_float("next_temperature", low=0.1, high=2.0, default=1.0, what="temperature"))
    top_k = linked("next_top_k", lambda: columns[1].number_input(
        "Top-k (0 = off)", 0, 100_000, key="next_top_k", help="Only the k most probable tokens can be sampled."),
        lambda: url_int("next_top_k", low=0, high=100_000, default=0, what="top-k"))
    top_p = linked("next_top_p", lambda: columns[2].slider(
        "Top-p (1 = off)", 0.0, 1.0, step=0.01, key="next_top_p",
        help="Only the most probable tokens whose probabilities add up to p can be sampled."),
        lambda: url_float("next_top_p", low=0.0, high=1.0, default=1.0, what="top-p"))
    bars = secondary("next_bars", lambda: linked("next_bars", lambda: columns[3].slider(
        "Bars shown", 3, 30, key="next_bars"), lambda: url_int("next_bars", low=3, high=30, default=10,
                                                               what="bars shown")), 10)
    return {"temperature": temperature, "top_k": int(top_k) or None, "top_p": top_p, "bars": bars}


def generation_controls(loaded, run, settings: dict):
    """Next step, run N steps, undo, start over; returns the (possibly new) run."""
    columns = st.columns([1.3, 1, 1, 1, 1, 1, 1])
    mode = linked("next_mode", lambda: columns[0].radio(
        "Next token by", MODES, key="next_mode", horizontal=True,
        help="argmax always takes the most probable token (temperature and filters then do not matter); "
             "sampling draws one at random by its probability."),
        lambda: url_choice("next_mode", MODES, default=MODES[0], what="next token by"))
    seed = int(linked("next_seed", lambda: columns[1].number_input(
        "Seed", 0, 2**31 - 1, key="next_seed", help="The same seed gives the same tokens again, step for step."),
        lambda: url_int("next_seed", low=0, high=2**31 - 1, default=0, what="seed")))
    steps = int(linked("next_steps", lambda: columns[2].number_input("Steps", 1, 200, key="next_steps"),
                       lambda: url_int("next_steps", low=1, high=200, default=10, what="steps")))
    settings.update(mode=mode, seed=seed, steps=steps)  # for the export
    at_limit = len(run.ids) >= loaded.info.max_tokens
    step_clicked = columns[3].button("Next step", key="next_step", type="primary", disabled=at_limit)
    run_clicked = columns[4].button(f"Run {steps} steps", key="next_run", disabled=at_limit)
    undo_clicked = columns[5].button("Undo", key="next_undo", disabled=not run.steps)
    reset_clicked = columns[6].button("Start over", key="next_reset", disabled=not run.steps)
    started, before = time.perf_counter(), len(run.steps)
    if step_clicked or run_clicked:
        count = steps if run_clicked else 1
        progress = st.progress(0.0, text="generating…") if run_clicked else None

        def stored(new_run, done: int) -> None:  # keep the newest run even if the user interrupts the loop
            st.session_state[RUN] = new_run
            if progress is not None:
                progress.progress(done / count, text=f"step {done} of {count}")

        run = generate(loaded, run, count, greedy=mode == "argmax", seed=seed, temperature=settings["temperature"],
                       top_k=settings["top_k"], top_p=settings["top_p"], on_step=stored)
    elif undo_clicked:
        run = undo(loaded, run)
    elif reset_clicked:
        run = start(loaded, run.ids[:run.prompt_length])
    if step_clicked or run_clicked or undo_clicked or reset_clicked:
        st.session_state[RUN] = run
        st.session_state[HISTORY] = None
        st.session_state["next_last_action"] = (time.perf_counter() - started, len(run.steps) - before)
        st.rerun()  # draw the buttons again for the new state (Undo enabled, limits checked)
    if len(run.ids) >= loaded.info.max_tokens:
        st.warning(f"The text has reached {loaded.info.max_tokens:,} tokens, the most this app feeds "
                   f"{loaded.info.name}. Undo, start over, or shorten the text to generate more.", icon="🛑")
    return run


def history_section(loaded, run, labels: list[str], shown: dict) -> int | None:
    """The generated tokens as a clickable row; returns the chosen step, or None for the newest prediction."""
    st.code(sequence_text(loaded.tokenizer, run.ids), language=None, wrap_lines=True)
    if not run.steps:
        st.caption("Press **Next step** to let the model add one token.")
        return None
    generated = labels[run.prompt_length:]
    shown["history"] = {"token_ids": list(run.generated), "tokens": generated,
                        "probabilities": [step.probability for step in run.steps],
                        "methods": [step.method for step in run.steps]}
    if st.session_state.get(HISTORY) not in range(len(run.steps)):
        st.session_state[HISTORY] = None
    chart(token_cells(labels=generated, values=[step.probability for step in run.steps],
                      positions=range(run.prompt_length, len(run.ids)), value_name="probability",
                      title="How probable each generated token was (temperature 1)", per_row=16,
                      zmax=1.0, marked=st.session_state.get(HISTORY)), key="next_history_row")
    chosen = st.pills("Generated tokens: click one to see the bars it was chosen from", list(range(len(run.steps))),
                      format_func=lambda i: visible(generated[i]), key=HISTORY, selection_mode="single")
    ends = {loaded.tokenizer.eos_token_id} - {None}
    if run.generated[-1] in ends:
        st.info("The model produced its end-of-text token: it considers the text finished.", icon="🏁")
    seconds, added = st.session_state.get("next_last_action", (0.0, 0))
    if added > 0:
        st.caption(f"{added} step(s) in {seconds * 1000:.0f} ms ({seconds * 1000 / added:.0f} ms per step): each "
                   "step feeds only the new token through the key/value cache.")
    return chosen


def bars_section(loaded, run, prediction, settings: dict, chosen_step: int | None, shown: dict):
    """The probability bars for the shown prediction, with entropy and filter summary; returns the distribution."""
    dist = distribution(prediction.logits, temperature=settings["temperature"], top_k=settings["top_k"],
                        top_p=settings["top_p"])
    ids = dist.ranked(settings["bars"])
    chosen_id = run.steps[chosen_step].token_id if chosen_step is not None else None
    if chosen_id is not None and chosen_id not in ids:
        ids = np.append(ids, chosen_id)  # the sampled token ranked below the bars: show it too
    labels = candidate_labels(loaded.tokenizer, run.ids[:prediction.length], ids.tolist())
    left, right = st.columns([3, 1])
    chart(probability_bars(dist, token_ids=ids, labels=labels, top_k=settings["top_k"], top_p=settings["top_p"],
                           chosen_id=chosen_id), key="next_bars_chart", where=left)
    shown["next_token"] = {"after_position": prediction.length - 1, "token_ids": ids, "tokens": labels,
                           "probabilities": dist.probabilities[ids], "after_top_k_top_p": dist.sampling[ids],
                           "entropy_bits": dist.entropy_bits, "kept": dist.n_kept}
    right.metric("Entropy", f"{dist.entropy_bits:.2f} bits",
                 help="0 bits: the model is certain; log2(vocabulary) bits: every token equally likely.")
    every = dist.n_kept == dist.probabilities.shape[0]
    right.metric("Kept by top-k / top-p", f"all {dist.n_kept:,}" if every else f"{dist.n_kept:,}",
                 help=f"How many of the {dist.probabilities.shape[0]:,} tokens sampling can still pick; "
                      "argmax ignores the filters.")
    right.metric("Most probable", visible(labels[0]), f"{dist.probabilities[ids[0]]:.1%}", delta_color="off")
    if chosen_step is not None:
        step = run.steps[chosen_step]
        right.caption(f"Step {chosen_step + 1} took {visible(token_labels(loaded.tokenizer, [step.token_id])[0])} "
                      f"(outlined), {step.method}.")
    if settings["top_k"] and settings["top_k"] > settings["bars"]:
        st.caption(f"Top-k = {settings['top_k']} keeps tokens beyond the {settings['bars']} shown.")
    return dist


def attention_section(loaded, run, prediction, dist, labels: list[str], shown: dict) -> None:
    """How the newest position attended to earlier tokens, next to its top-5 predictions."""
    info = loaded.info
    st.subheader("Which earlier words did it look at?")
    columns = st.columns([1, 1, 1])
    last, heads = info.n_layers - 1, [MEAN, *range(info.n_heads)]
    layer = linked("next_attn_layer", lambda: columns[0].slider("Layer", 0, last, key="next_attn_layer"),
                   lambda: url_int("next_attn_layer", low=0, high=last, default=last, what="layer"),
                   valid=lambda value: 0 <= value <= last)
    head = linked("next_attn_head", lambda: columns[1].selectbox("Heads", heads, key="next_attn_head"),
                  lambda: url_choice("next_attn_head", heads, default=MEAN, what="heads"), valid=heads.__contains__)
    skip_first = secondary("next_attn_skip_first", lambda: linked("next_attn_skip_first", lambda: columns[2].toggle(
        "Colour scale without the first token", key="next_attn_skip_first",
        help="Many heads park most attention on the first token; leaving it out of the scale shows how the rest is "
             "shared. Hover shows the true values."),
        lambda: url_bool("next_attn_skip_first", default=True, what="colour scale without the first token")), True)
    rows = prediction.attention[layer]  # (H, length)
    weights = rows.mean(axis=0) if head == MEAN else rows[int(head)]
    start_at = max(0, prediction.length - SHADED_TOKENS)
    part = weights[start_at:]
    scale = part[1:] if skip_first and start_at == 0 and len(part) > 2 else part
    left, right = st.columns([3, 1])
    heads = head if head == MEAN else f"head {head}"
    chart(token_cells(
        labels=labels[start_at:prediction.length], values=part, positions=range(start_at, prediction.length),
        value_name="attention", per_row=12, zmax=float(scale.max()), marked=len(part) - 1,
        title=f"Attention of position {prediction.length - 1} (▶) in layer {layer}, {heads}",
    ), key="next_attention", where=left)
    shown["attention"] = {"query_position": prediction.length - 1, "layer": layer, "head": head,
                          "weights": weights}
    top = dist.ranked(5)
    chart(top_bars(labels=candidate_labels(loaded.tokenizer, run.ids[:prediction.length], top.tolist()),
                   probabilities=dist.probabilities[top], title="Top-5 next tokens"), key="next_top5", where=right)
    if start_at:
        st.caption(f"Showing the last {SHADED_TOKENS} of {prediction.length} tokens; the earlier ones received "
                   f"{weights[:start_at].sum():.1%} of this attention.")


def lens_section(loaded, run, labels: list[str], shown: dict) -> None:
    """The logit lens over the last positions of the current text."""
    st.subheader("Logit lens: when does the model settle on its guess?")
    columns = st.columns([1, 3])
    if not linked("next_lens_on", lambda: columns[0].toggle(
            "Show the logit lens", key="next_lens_on", help="It unembeds every layer at every shown position (about a "
            "second on a small CPU); switch it off to click through steps faster."),
            lambda: url_bool("next_lens_on", default=True, what="logit lens")):
        return
    default = min(10, LENS_POSITIONS)
    width = secondary("next_lens_positions", lambda: linked("next_lens_positions", lambda: columns[1].slider(
        "Positions shown (the last ones)", 1, LENS_POSITIONS, key="next_lens_positions",
        help="Each position costs one unembedding per layer."),
        lambda: url_int("next_lens_positions", low=1, high=LENS_POSITIONS, default=default, what="positions")), default)
    key = (run.model_key, run.ids, width)
    cached = st.session_state.get("next_lens")
    if cached is None or cached[0] != key:
        cached = (key, logit_lens(loaded, run, width))
        st.session_state["next_lens"] = cached
    lens = cached[1]
    flat = candidate_labels(loaded.tokenizer, (), lens.top_ids.ravel().tolist())
    top_labels = np.array(flat, dtype=object).reshape(lens.top_ids.shape).tolist()
    chart(logit_lens_grid(top_labels=top_labels, top_probabilities=lens.top_probabilities,
                          input_labels=[labels[p] for p in lens.positions], positions=lens.positions),
          key="next_lens_grid")
    shown["logit_lens"] = {"positions": lens.positions, "layers": ["embeddings", *range(1, len(top_labels))],
                           "top_ids": lens.top_ids, "top_tokens": top_labels,
                           "top_probabilities": lens.top_probabilities}
    column = lens.top_ids.shape[1] - 1
    layer = settled_layer(lens.top_ids, column)
    position = int(lens.positions[column])
    st.caption(f"Each cell applies the model's final norm and unembedding to one layer's hidden state (row 0: the "
               f"embeddings, row {loaded.info.n_layers}: the model's output). After position {position} "
               f"(“{visible(labels[position])}”) the final guess “{visible(top_labels[-1][column])}” is the top guess "
               f"from {'the embeddings' if layer == 0 else f'layer {layer}'} on.")


def tokenizer_section(loaded, ids: list[int], labels: list[str]) -> None:
    """How the prompt was split into tokens, beside another spelling of it."""
    st.subheader("Tokenizer: how the text was split")
    text = selection().text.strip()
    if st.session_state.get("next_compare_for") != text:
        st.session_state["next_compare_for"] = text
        st.session_state["next_compare"] = text[:1].swapcase() + text[1:]
    other = st.text_input("Compare with another spelling", key="next_compare", max_chars=2_000)
    left, right = st.columns(2)
    left.dataframe({"token": [visible(t) for t in labels[:len(ids)]], "id": ids}, key="next_tokens_table")
    notes = []
    if other.strip():
        split = split_text(loaded.tokenizer, other.strip(), max_tokens=loaded.info.max_tokens)
        right.dataframe({"token": [visible(t) for t in split.labels], "id": list(split.ids)}, key="next_compare_table")
        own = split_text(loaded.tokenizer, text, max_tokens=loaded.info.max_tokens) if text else None
        for word, pieces in (own.split_words if own else ()) + split.split_words:
            notes.append(f"“{word}” takes {len(pieces)} tokens: {' + '.join(visible(p) for p in pieces)}")
    st.caption("  \n".join(dict.fromkeys(notes)) or "Every word here is a single token.")


loaded = current_model()
st.title("Next token")
tour_ui("next_token")
if not loaded.info.is_causal:
    encoder_page(loaded)
    st.stop()
ids = prompt_ids(loaded)
run = current_generation(loaded, ids)
shown = export_ui("next_token", model=loaded.info, title="Next token")
settings = sampling_controls()
run = generation_controls(loaded, run, settings)
labels = token_labels(loaded.tokenizer, run.ids)
shown.update({"settings": settings, "prompt_length": run.prompt_length, "token_ids": list(run.ids),
              "tokens": labels, "text": sequence_text(loaded.tokenizer, run.ids)})
chosen_step = history_section(loaded, run, labels, shown)
prediction = run.prediction if chosen_step is None else prediction_at(loaded, run, run.prompt_length + chosen_step)
dist = bars_section(loaded, run, prediction, settings, chosen_step, shown)
attention_section(loaded, run, prediction, dist, labels, shown)
lens_section(loaded, run, labels, shown)
tokenizer_section(loaded, ids, labels)
