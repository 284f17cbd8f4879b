"""Training time, held-out accuracy and the alignment head of the offline date model, for a seed or two.

Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python date_model_times.py [--seeds 0 1] [--threads 1 2]`. Trains the
default settings (viz/model/date_model.DateSettings) without saving, on the given torch thread counts; prints per
run: wall and CPU seconds of training, the final loss, the held-out exact-match accuracy (1,000 dates never seen in
training), the best cross-attention head, how often its alignment holds and the chance level; and whether the loss
curve equals the first run's of the same seed (other thread counts may round differently).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace

from viz import dates
from viz.model import date_model


def measure(seed: int, threads: int) -> tuple[dict, list[float]]:
    """One run's numbers and its loss curve."""
    date_model.TRAIN_THREADS = threads
    settings = replace(date_model.DateSettings(), seed=seed)
    model, tokenizer, losses, (wall, cpu) = date_model.train(settings)
    report = date_model.evaluate(model, tokenizer, dates.examples(seed, date_model.HELD_OUT, held_out=True))
    alignment = report["alignment"]
    return {"seed": seed, "threads": threads, "steps": settings.steps, "train wall s": round(wall, 1),
            "train CPU s": round(cpu, 1), "final loss": round(sum(losses[-50:]) / 50, 4),
            "held-out accuracy": report["accuracy"], "best head": alignment["best"],
            "holds": round(alignment["holds"], 3),
            "by field": {name: round(value, 3) for name, value in alignment["by_field"].items()},
            "chance": round(alignment["chance"], 3), "load average": round(os.getloadavg()[0], 1)}, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[date_model.TRAIN_THREADS])
    arguments = parser.parse_args()
    for seed in arguments.seeds:
        first = None
        for threads in arguments.threads:
            row, losses = measure(seed, threads)
            first = first or losses
            row["same curve as the first run"] = losses == first
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
