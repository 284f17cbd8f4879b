"""Sections of the Next-token page: sampling settings, generation buttons, history, bars, attention, logit lens."""

from __future__ import annotations

import numpy as np
import streamlit as st

from viz.analysis import ModelInfo
from viz.figures.common import visible
from viz.figures.next_token import logit_lens_grid, probability_bars, token_cells, top_bars
from viz.sampling import Distribution, distribution, settled_layer, shading_window
from viz.ui import cached, session
from viz.ui.classroom import secondary
from viz.ui.export import chart
from viz.ui.links import ON_OFF, linked, number, one_of, whole
from viz.ui.widgets import number_ui

HISTORY = "next_history"
SHADED_TOKENS = 96  # attention shading shows at most the last 96 tokens
MODES = ["sampling", "argmax"]
MEAN = "mean of all heads"


def sampling_ui() -> dict:
    """Temperature, top-k, top-p and how many bars; argmax or sampling, seed and steps; returns them as a dict."""
    columns = st.columns(4)
    temperature = linked("next_temperature", number(0.1, 2.0), 1.0, lambda: columns[0].slider(
        "Temperature", 0.1, 2.0, step=0.05, key="next_temperature",
        help="Logits are divided by it before softmax: below 1 sharpens, above 1 flattens the distribution."))
    top_k = linked("next_top_k", whole(0, 100_000), 0, lambda: columns[1].number_input(
        "Top-k (0 = off)", 0, 100_000, key="next_top_k", help="Only the k most probable tokens can be sampled."))
    top_p = linked("next_top_p", number(0.0, 1.0), 1.0, lambda: columns[2].slider(
        "Top-p (1 = off)", 0.0, 1.0, step=0.01, key="next_top_p",
        help="Only the most probable tokens whose probabilities add up to p can be sampled."))
    bars = linked("next_bars", whole(3, 30), 10, secondary(lambda: columns[3].slider(
        "Bars shown", 3, 30, key="next_bars")))
    columns = st.columns(4)
    mode = linked("next_mode", one_of(MODES), MODES[0], lambda: columns[0].radio(
        "Next token by", MODES, key="next_mode", horizontal=True,
        help="argmax always takes the most probable token (temperature and filters then do not matter); "
             "sampling draws one at random by its probability."))
    seed = int(linked("next_seed", whole(0, 2**31 - 1), 0, lambda: columns[1].number_input(
        "Seed", 0, 2**31 - 1, key="next_seed", help="The same seed gives the same tokens again, step for step.")))
    steps = int(linked("next_steps", whole(1, 200), 10, lambda: columns[2].number_input(
        "Steps", 1, 200, key="next_steps", help="How many tokens the Run button adds.")))
    return {"temperature": temperature, "top_k": int(top_k) or None, "top_p": top_p, "bars": bars, "mode": mode,
            "seed": seed, "steps": steps}


def generation_ui(info: ModelInfo, run: session.Generation, settings: dict) -> session.Generation:
    """Next step, run N steps, undo, start over (one row, labels never cut); returns the run (a button applies
    itself and reruns the page)."""
    at_limit, steps = len(run.ids) >= info.max_tokens, settings["steps"]
    row = st.container(horizontal=True, key="next_buttons")
    step_clicked = row.button("Next step", key="next_step", type="primary", disabled=at_limit,
                              icon=":material/skip_next:")
    run_clicked = row.button(f"Run {steps} steps", key="next_run", disabled=at_limit, icon=":material/fast_forward:")
    undo_clicked = row.button("Undo", key="next_undo", disabled=not run.steps, icon=":material/undo:")
    reset_clicked = row.button("Start over", key="next_reset", disabled=not run.steps, icon=":material/restart_alt:")
    if step_clicked or run_clicked:
        _generate(run, steps if run_clicked else 1, settings, with_progress=run_clicked)
    elif undo_clicked:
        session.undo(run)
    elif reset_clicked:
        session.start_over(run)
    if step_clicked or run_clicked or undo_clicked or reset_clicked:
        st.session_state[HISTORY] = None
        st.rerun()  # draw the buttons again for the new state (Undo enabled, limits checked)
    if at_limit:
        st.warning(f"The text has reached {info.max_tokens:,} tokens, the most this app feeds "
                   f"{info.name}. Undo, start over, or shorten the text to generate more.", icon=":material/block:")
    return run


def _generate(run: session.Generation, count: int, settings: dict, *, with_progress: bool) -> None:
    """`count` steps with the page's settings, with a progress bar when with_progress."""
    bar = st.progress(0.0, text="generating…") if with_progress else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"step {done} of {total}")

    session.generate(run, count, greedy=settings["mode"] == "argmax", seed=settings["seed"],
                     temperature=settings["temperature"], top_k=settings["top_k"], top_p=settings["top_p"],
                     progress=progress)


def history_ui(info: ModelInfo, run: session.Generation, labels: list[str], shown: dict) -> int | None:
    """The generated tokens as a clickable row; returns the chosen step, or None for the newest prediction.

    (The page shows the whole text above it.)"""
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
    end = cached.special_token(info.key, "end")
    if end is not None and run.generated[-1] == end[0]:
        st.info("The model produced its end-of-text token: it considers the text finished.", icon=":material/flag:")
    seconds, added = session.last_action()
    if added > 0:
        st.caption(f"{added} step(s) in {seconds * 1000:.0f} ms ({seconds * 1000 / added:.0f} ms per step): each "
                   "step feeds only the new token through the key/value cache.")
    return chosen


def bars_ui(info: ModelInfo, run: session.Generation, prediction: session.Prediction, settings: dict,
            chosen_step: int | None, shown: dict) -> Distribution:
    """The probability bars for the shown prediction, with entropy and filter summary; returns the distribution."""
    dist = distribution(prediction.logits, temperature=settings["temperature"], top_k=settings["top_k"],
                        top_p=settings["top_p"])
    ids = dist.ranked(settings["bars"])
    chosen_id = run.steps[chosen_step].token_id if chosen_step is not None else None
    if chosen_id is not None and chosen_id not in ids:
        ids = np.append(ids, chosen_id)  # the sampled token ranked below the bars: show it too
    labels = list(cached.candidate_labels(info.key, run.ids[:prediction.length], ids.tolist()))
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
        right.caption(f"Step {chosen_step + 1} took {visible(cached.token_labels(info.key, [step.token_id])[0])} "
                      f"(outlined), {step.method}.")
    if settings["top_k"] and settings["top_k"] > settings["bars"]:
        st.caption(f"Top-k = {settings['top_k']} keeps tokens beyond the {settings['bars']} shown.")
    return dist


def attention_ui(info: ModelInfo, run: session.Generation, prediction: session.Prediction, dist: Distribution,
                 labels: list[str], shown: dict) -> None:
    """How the newest position attended to earlier tokens, next to its top-5 predictions."""
    st.subheader("Which earlier words did it look at?")
    columns = st.columns([1, 1, 1])
    last, heads = info.n_layers - 1, [MEAN, *range(info.n_heads)]
    layer = number_ui(columns[0], "Layer", key="next_attn_layer", last=last, default=last)
    head = linked("next_attn_head", one_of(heads), MEAN,
                  lambda: columns[1].selectbox("Heads", heads, key="next_attn_head"))
    skip_first = linked("next_attn_skip_first", ON_OFF, True, secondary(lambda: columns[2].toggle(
        "Colour scale without the first token", key="next_attn_skip_first",
        help="Many heads park most attention on the first token; leaving it out of the scale shows how the rest is "
             "shared. Hover shows the true values.")))
    rows = prediction.attention[layer]  # (H, length)
    weights = rows.mean(axis=0) if head == MEAN else rows[int(head)]
    start_at, zmax = shading_window(weights, limit=SHADED_TOKENS, skip_first=skip_first)
    part = weights[start_at:]
    left, right = st.columns([3, 1])
    heads = head if head == MEAN else f"head {head}"
    chart(token_cells(
        labels=labels[start_at:prediction.length], values=part, positions=range(start_at, prediction.length),
        value_name="attention", per_row=12, zmax=zmax, marked=len(part) - 1,
        title=f"Attention of position {prediction.length - 1} (▶) in layer {layer}, {heads}",
    ), key="next_attention", where=left)
    shown["attention"] = {"query_position": prediction.length - 1, "layer": layer, "head": head,
                          "weights": weights}
    top = dist.ranked(5)
    chart(top_bars(labels=cached.candidate_labels(info.key, run.ids[:prediction.length], top.tolist()),
                   probabilities=dist.probabilities[top], title="Top-5 next tokens"), key="next_top5", where=right)
    if start_at:
        st.caption(f"Showing the last {SHADED_TOKENS} of {prediction.length} tokens; the earlier ones received "
                   f"{weights[:start_at].sum():.1%} of this attention.")


def lens_ui(info: ModelInfo, run: session.Generation, labels: list[str], shown: dict) -> None:
    """The logit lens over the last positions of the current text."""
    st.subheader("Logit lens: when does the model settle on its guess?")
    columns = st.columns([1, 3])
    if not linked("next_lens_on", ON_OFF, True, lambda: columns[0].toggle(
            "Show the logit lens", key="next_lens_on", help="It unembeds every layer at every shown position (about a "
            "second on a small CPU); switch it off to click through steps faster.")):
        return
    width = linked("next_lens_positions", whole(1, session.LENS_POSITIONS), min(10, session.LENS_POSITIONS),
                   secondary(lambda: columns[1].slider(
                       "Positions shown (the last ones)", 1, session.LENS_POSITIONS, key="next_lens_positions",
                       help="Each position costs one unembedding per layer.")))
    lens = session.logit_lens(run, width)
    flat = cached.candidate_labels(info.key, (), lens.top_ids.ravel().tolist())
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
               f"embeddings, row {info.n_layers}: the model's output). After position {position} "
               f"(“{visible(labels[position])}”) the final guess “{visible(top_labels[-1][column])}” is the top guess "
               f"from {'the embeddings' if layer == 0 else f'layer {layer}'} on.")
