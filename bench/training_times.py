"""Training speed and when the induction head appears, for the Train page's default settings (and a seed or two).

Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python training_times.py [--seeds 0 1] [--json out.json]`. Trains on one
thread, as the app does, without saving. Prints per run: steps per second, seconds in all, the final losses of
the first occurrence and of the repeat (mean of the last 50 steps), the best induction and previous-token score
against chance, the step at which a head's induction score first passes the threshold and the seconds until then;
and whether a second run with the same seed gives the same loss curve.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np
import torch

from viz import training as task
from viz.model import training as trained


def measure(settings: task.TrainSettings) -> tuple[dict, np.ndarray]:
    """One training run's numbers, and its loss curve (S, 3)."""
    _, _, history = trained.train(settings)
    losses, induction = history.array("losses"), history.array("induction")
    chance_previous = task.chance_scores(len(history.probe), 2)[0]
    chance_induction = task.chance_induction(len(history.probe), history.pattern_lengths)
    appears = task.induction_head_step(np.array(history.steps), induction)
    seconds_per_step = history.seconds / history.done_steps
    final = losses[-50:].mean(axis=0)
    return {
        "key": settings.key, "steps per second": round(1 / seconds_per_step, 1), "seconds": round(history.seconds, 1),
        "loss first occurrence": round(float(final[1]), 3), "loss repeat": round(float(final[2]), 3),
        "best induction score, layer 1 on": round(float(induction[-1, 1:].max()), 3),
        "best induction score, layer 0": round(float(induction[-1, 0].max()), 3),
        "induction chance": round(chance_induction, 3),
        "best previous-token score": round(float(history.array("previous")[-1].max()), 3),
        "previous-token chance": round(chance_previous, 3),
        "induction head at step": appears,
        "seconds until induction head": None if appears is None else round(appears * seconds_per_step, 1),
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
