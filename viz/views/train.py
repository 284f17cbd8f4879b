"""Sections of the Train page: the settings, the queue and live progress, and what the finished run shows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from viz import training as task
from viz.figures.attention import attention_heatmap, head_overview
from viz.figures.training import loss_curve, score_curves
from viz.presets import PRESETS
from viz.text import escape_markdown
from viz.ui.export import chart
from viz.ui.links import linked, number, one_of, text, whole
from viz.ui.training import DONE, FAILED, QUEUED, RUNNING, STOPPED, Run, trainer, watcher_id

TASK_LABELS = {task.INDUCTION: "Repeat the pattern (induction)", task.TEXT: "Your text (next character)"}
WIDTHS, CONTEXTS = (32, 64, 96, 128, 192, 256), (8, 16, 24, 32, 48, 64, 96, 128)
RATES = (0.0003, 0.001, 0.003, 0.01, 0.03)
DEFAULT_TEXT = "\n".join(dict.fromkeys(sentence for p in PRESETS for sentence in (p.text, p.text_b)
                                       if sentence and sentence.isascii()))
SUMMARY_STEPS = 50  # the final losses shown are the mean of the last this many steps
PARTS = {task.INDUCTION: ("all tokens", "first occurrence (unpredictable)", "repeat (predictable by copying)"),
         task.TEXT: ("all characters", "first half of each window", "second half of each window")}


def _slider(label: str, key: str, options, default, where=st, **extra):
    return linked(key, one_of(options), default, lambda: where.select_slider(label, options, key=key, **extra))


def settings_ui() -> tuple[task.TrainSettings, str | None]:
    """The task, sizes and training settings (each in the link); stops the page with a message past the bounds."""
    chosen = linked("train_task", one_of(task.TASKS), task.INDUCTION, lambda: st.radio(
        "Task", task.TASKS, key="train_task", format_func=TASK_LABELS.get, horizontal=True))
    columns = st.columns(4)
    layers = linked("train_layers", whole(1, 4), 2, lambda: columns[0].slider("Layers", 1, 4, key="train_layers"))
    heads = linked("train_heads", whole(1, 8), 4, lambda: columns[1].slider("Heads", 1, 8, key="train_heads"))
    width = _slider("Width", "train_width", WIDTHS, 64, columns[2])
    context = _slider("Context length", "train_context", CONTEXTS, 32, columns[3])
    columns = st.columns(4)
    steps = linked("train_steps", whole(10, 3000), 600, lambda: columns[0].number_input(
        "Steps", 10, 3000, step=50, key="train_steps", help=f"Training steps of {task.BATCH} sequences each."))
    rate = _slider("Learning rate", "train_lr", RATES, 0.003, columns[1])
    seed = linked("train_seed", whole(0, 9999), 0, lambda: columns[2].number_input(
        "Seed", 0, 9999, key="train_seed", help="Same seed, same settings: the same loss curve on this machine."))
    settings = task.TrainSettings(chosen, layers, heads, width, context, steps, rate, seed)
    pasted = None
    if chosen == task.TEXT:
        temperature = linked("train_temperature", number(0.1, 2.0), 0.8, lambda: columns[3].slider(
            "Sample temperature", 0.1, 2.0, step=0.1, key="train_temperature"))
        pasted = linked("train_text", text(task.MAX_TEXT_CHARS), DEFAULT_TEXT, lambda: st.text_area(
            "Text to learn from", key="train_text", height=150, max_chars=task.MAX_TEXT_CHARS,
            help=f"{task.MIN_TEXT_CHARS}–{task.MAX_TEXT_CHARS:,} characters; the model learns to predict each "
                 "next character."))
        settings = _with_text(settings, pasted, temperature)
    try:
        return task.check_settings(settings), (task.check_text(pasted) if pasted is not None else None)
    except task.BadSettings as error:
        st.warning(str(error), icon=":material/front_hand:")
        st.stop()


def _with_text(settings: task.TrainSettings, pasted: str, temperature: float) -> task.TrainSettings:
    cleaned = pasted.replace("\r\n", "\n").strip()
    return replace(settings, text_id=task.text_id(cleaned), temperature=round(float(temperature), 2))


def before_ui(settings: task.TrainSettings) -> None:
    """What to look for before training: the attention of a perfect induction head on a probe sequence."""
    if settings.task != task.INDUCTION:
        st.caption("The model reads the text one character at a time (a space is the token ▁) and learns to "
                   "predict the next character. Samples of its writing appear at every checkpoint.")
        return
    half = settings.context // 2
    tokens = [task.START, *(f"t{i}" for i in range(1, half + 1)), *(f"t{i}" for i in range(1, half + 1))]
    st.markdown("Each training sequence holds a random pattern followed by the same pattern again, somewhere among "
                "random tokens (its length and place change from sequence to sequence). The first copy "
                "cannot be predicted; the repeat can, by a head that looks back to *the token that followed this "
                "token last time*: an **induction head** (Olsson et al., 2022). Here is what it would look like:")
    chart(attention_heatmap(weights=task.induction_pattern(len(tokens), half), tokens=tokens, causal=True,
                            title="A perfect induction head on a pattern and its repeat", value_name="weight"),
          key="train_ideal")


def progress_ui(run: Run) -> None:
    """The queue position or the progress bar, steps per second and the live loss; Stop for this session."""
    history, settings = run.history, run.settings
    if run.status == QUEUED:
        st.info(f"Waiting in the queue: {trainer().waiting_before(settings)} training(s) before this one "
                "(one training at a time on this machine).", icon=":material/hourglass_top:")
    else:
        done = history.done_steps if history else 0
        st.progress(done / settings.steps, text=f"Step {done} of {settings.steps} · {run.steps_per_second:.1f} "
                                                 f"steps/s · {len(run.watchers)} watching")
        if history and history.losses:
            st.plotly_chart(loss_curve(losses=history.array("losses"), names=PARTS[settings.task],
                                       total_steps=settings.steps), key="train_live_loss")
    if st.button("Stop", key="train_stop", icon=":material/stop:",
                 help="Stop watching; the training stops when nobody else watches it."):
        trainer().leave(settings, watcher_id())
        st.rerun()


def _open_in_pages(run: Run) -> None:
    """Make the trained model the sidebar's model, with a probe sequence as the text (a callback: before widgets)."""
    st.session_state["model_choice"], st.session_state["model_id"] = "other", run.settings.key
    st.session_state["text"] = "".join(run.history.probe[1:]).replace(task.SPACE, " ")
    st.session_state["text_b"], st.session_state["preset"] = "", "(your own text)"


def results_ui(run: Run, shown: dict) -> None:
    """The finished (or stopped) run: losses, head scores, snapshots to scrub through, samples, open elsewhere."""
    history, settings = run.history, run.settings
    losses, steps = history.array("losses"), np.array(history.steps)
    induction = history.array("induction") if history.induction else None
    appears = task.induction_head_step(steps, induction) if induction is not None else None
    chance = (task.chance_scores(len(history.probe), 2)[0],
              task.chance_induction(len(history.probe), history.places) if induction is not None else 0.0)
    chart(loss_curve(losses=losses, names=PARTS[settings.task], marked_step=appears), key="train_loss")
    last = losses[-SUMMARY_STEPS:].mean(axis=0)
    summary = f"Last {min(SUMMARY_STEPS, len(losses))} steps: {PARTS[settings.task][1]} {last[1]:.2f}, " \
              f"{PARTS[settings.task][2]} {last[2]:.2f} (chance: ln {len(task.INDUCTION_SYMBOLS)} = " \
              f"{np.log(len(task.INDUCTION_SYMBOLS)):.2f})." if settings.task == task.INDUCTION else \
        f"Last {min(SUMMARY_STEPS, len(losses))} steps: loss {last[0]:.2f}."
    st.caption(f"{history.done_steps} steps in {history.seconds:.0f} s "
               f"({history.done_steps / max(history.seconds, 1e-9):.1f} steps/s). {summary}")
    chart(score_curves(steps=steps, previous=history.array("previous"), induction=induction, chance=chance,
                       marked_step=appears, threshold=task.INDUCTION_THRESHOLD if induction is not None else None),
          key="train_scores")
    if induction is not None:
        _induction_words(induction, appears, chance[1], task.positional_ceiling(history.places))
    shown.update({"settings": settings.key, "losses": losses, "checkpoint_steps": steps,
                  "previous_token_scores": history.array("previous"), "induction_scores": induction,
                  "induction_step": appears})
    snapshots_ui(history, induction)
    for step, sample in zip(history.steps, history.samples, strict=False):
        st.markdown(f"- step {step}: `{escape_markdown(sample, 200)}`")
    if run.status == DONE:
        st.button("Open in the other pages", key="train_open", icon=":material/open_in_new:", type="primary",
                  on_click=_open_in_pages, args=(run,),
                  help="Makes this model the sidebar's model (its key names its settings), with a probe text.")


def _induction_words(induction: np.ndarray, appears: int | None, chance: float, positional: float) -> None:
    """What the induction score measures, the best head of layer 1 on, and the step its induction head appeared."""
    layer, head = task.best_head(induction[-1], from_layer=task.INDUCTION_FROM_LAYER)
    one_layer = induction.shape[1] <= task.INDUCTION_FROM_LAYER
    st.markdown(
        "**Induction score**: how much of its attention a head puts, from each token of the repeat, on *the token "
        "that came right after that token's earlier occurrence* (averaged over test sequences the model never saw). "
        f"Spread evenly, attention gives {chance:.3f}; a head that looked only at positions could reach at most "
        f"{positional:.2f} on these sequences. A head of layer 0 cannot know which token came before another, so "
        "induction heads are looked for from layer 1 on.")
    score = induction[-1, layer, head]
    if appears is not None:
        st.success(f"**An induction head appeared at step {appears}**: from then on a head of layer 1 or later puts "
                   f"more than {task.INDUCTION_THRESHOLD:.0%} of its attention on the token after the earlier "
                   f"occurrence (the dashed green line). At the end the best is layer {layer}, head {head}, with "
                   f"{score:.2f}: it reads the next token off the first copy of the pattern.",
                   icon=":material/emoji_objects:")
    elif one_layer:
        st.info("An induction head needs two layers (one to note each token's previous token, one to look it up): "
                "train with 2 layers or more.", icon=":material/layers:")
    else:
        st.info(f"No head of layer 1 or later passed {task.INDUCTION_THRESHOLD} yet (the best: layer {layer}, head "
                f"{head}, {score:.2f}). Try more steps, another seed, or two layers or more.",
                icon=":material/hourglass_empty:")


def snapshots_ui(history, induction: np.ndarray | None) -> None:
    """A slider over the checkpoints: every head's attention on the probe sequence at that step."""
    steps = list(history.steps)
    chosen = linked("train_checkpoint", one_of(steps), steps[-1], lambda: st.select_slider(
        "Scrub through training (checkpoint step)", steps, key="train_checkpoint"))
    snapshot = history.snapshots[steps.index(chosen)]  # (L, H, T, T)
    layer, head = task.best_head(induction[-1], from_layer=task.INDUCTION_FROM_LAYER) if induction is not None \
        else (0, 0)
    chart(head_overview(thumbnails=snapshot, layer=layer, head=head, n_tokens=len(history.probe)),
          key="train_all_heads", csv=False, width="content")
    chart(attention_heatmap(weights=snapshot[layer, head], tokens=list(history.probe), causal=True,
                            title=f"Layer {layer}, head {head} at step {chosen}"), key="train_head")


def status_ui(run: Run | None) -> None:
    """A word on a run this session does not watch, a stop or a failure."""
    if run is None:
        return
    if run.status == FAILED:
        st.error(f"The training failed: {run.error}", icon=":material/warning:")
    elif run.status == STOPPED:
        st.info("This training was stopped (nobody was watching it any more). Press Train to start it again; "
                "a stopped run is not saved.", icon=":material/stop_circle:")
    elif run.status in (QUEUED, RUNNING):
        st.info(f"Someone else is training these settings right now ({run.status}). Press Train to watch the "
                "same run.", icon=":material/visibility:")
