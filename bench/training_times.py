"""Training speed and when the induction head appears, for the Train page's default settings (and a seed or two).

Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python training_times.py [--seeds 0 1] [--json out.json]`. Trains on one
thread, as the app does, without saving. Prints per run: steps per second by the clock and per second of this
process's CPU time (the clock rate falls when other programs share the cores; the CPU rate is what an idle machine
reaches), seconds in all, the step where the repeat's loss drops under half the first occurrence's, the final losses
(mean of the last 50 steps), the best induction score of each layer against chance and against the best a head looking
only at positions could reach, the best previous-token score, the step at which a head of layer 1 on first passes
the induction threshold and the seconds until then; and whether a second run with the same seed gives the same curve.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np
import torch

from viz import training as task
from viz.model import training as trained


def measure(settings: task.TrainSettings) -> tuple[dict, np.ndarray]:
    """One training run's numbers, and its loss curve (S, 3)."""
    cpu_started = time.process_time()
    _, _, history = trained.train(settings)
    cpu_seconds = time.process_time() - cpu_started
    losses, induction = history.array("losses"), history.array("induction")
    appears = task.induction_head_step(np.array(history.steps), induction)
    seconds_per_step = history.seconds / history.done_steps
    final = losses[-50:].mean(axis=0)
    return {
        "key": settings.key, "steps per second": round(1 / seconds_per_step, 1),
        "steps per CPU second": round(history.done_steps / cpu_seconds, 1), "seconds": round(history.seconds, 1),
        "repeat loss drops at step": task.loss_drop_step(losses),
        "loss first occurrence": round(float(final[1]), 3), "loss repeat": round(float(final[2]), 3),
        "best induction score per layer": [round(float(layer.max()), 3) for layer in induction[-1]],
        "induction chance": round(task.chance_induction(len(history.probe), history.places), 3),
        "position-only ceiling": round(task.positional_ceiling(history.places), 3),
        "best previous-token score per layer": [round(float(layer.max()), 3)
                                                for layer in history.array("previous")[-1]],
        "previous-token chance": round(task.chance_scores(len(history.probe), 2)[0], 3),
        "induction threshold": task.INDUCTION_THRESHOLD, "induction head at step": appears,
        "seconds until induction head": None if appears is None else round(appears * seconds_per_step, 1),
        "CPU seconds until induction head": None if appears is None else round(
            appears * cpu_seconds / history.done_steps, 1),
    }, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", help="also write the rows to this file")
    arguments = parser.parse_args()
    torch.set_num_threads(1)  # as the app trains (viz/ui/cached.py)
    rows = []
    for seed in arguments.seeds:
        row, losses = measure(replace(task.TrainSettings(), seed=seed))
        if seed == arguments.seeds[0]:
            _, again = measure(replace(task.TrainSettings(), seed=seed))
            row["same seed, same curve"] = bool(np.array_equal(losses, again))
        rows.append(row)
        print(json.dumps(row))
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
