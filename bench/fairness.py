"""Fair under load: nine short requests alone, then the same nine beside one 512-token request, per thread policy.

Each request is one analysis of a new text by the bundled decoder through the app's shared cache (viz/ui/cached.py),
run in its own thread as Streamlit runs each session. Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python
fairness.py`; it starts one process per policy (the policy is read at start-up) and prints a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

SHORT, LONG_REPEATS = 9, 45
# A computation running alone always gets every core; THREADS_PER_CALL applies while others run (viz/ui/cached.py).
POLICIES = {"no gate, 2 threads per call (before)": {"ATTNVIZ_MODEL_WORKERS": "64", "ATTNVIZ_THREADS_PER_CALL": "2"},
            "no gate, 1 thread per call when sharing": {"ATTNVIZ_MODEL_WORKERS": "64", "ATTNVIZ_THREADS_PER_CALL": "1"},
            "1 slot, 2 threads": {"ATTNVIZ_MODEL_WORKERS": "1", "ATTNVIZ_THREADS_PER_CALL": "2"},
            "2 slots, 1 thread each when sharing (the app's)": {"ATTNVIZ_MODEL_WORKERS": "2",
                                                               "ATTNVIZ_THREADS_PER_CALL": "1"}}


def timed_requests(texts: list[str], model_key: str) -> list[float]:
    """Seconds each request took, all started at once, one thread each."""
    from viz.ui import cached

    seconds = [0.0] * len(texts)

    def one(index: int) -> None:
        started = time.perf_counter()
        cached.analysis(model_key, texts[index])
        seconds[index] = time.perf_counter() - started

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.9 * len(ordered)) - 1)]


def measure() -> dict:
    from viz.ui import cached

    key = "bundled:smollm2"
    cached.analysis(key, "warm the model up")
    short = [f"student {i} writes a short sentence about the party" for i in range(SHORT)]
    alone = timed_requests(short, key)
    long_text = " ".join(["the animal didn't cross the street because it was too tired"] * LONG_REPEATS)
    beside = timed_requests([long_text] + [s + " again" for s in short], key)
    return {"short alone p90": p90(alone), "short beside long p90": p90(beside[1:]), "long": beside[0]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(measure()))
        return
    print("| policy | 9 short alone: p90 s | 9 short beside one 512-token: p90 s | ratio | the 512-token one s |")
    print("|---|---|---|---|---|")
    for name, env in POLICIES.items():
        out = subprocess.run([sys.executable, __file__, "--one"], env={**os.environ, **env}, capture_output=True,
                             text=True, check=True).stdout.strip().splitlines()[-1]
        row = json.loads(out)
        print(f"| {name} | {row['short alone p90']:.2f} | {row['short beside long p90']:.2f} | "
              f"{row['short beside long p90'] / row['short alone p90']:.1f}× | {row['long']:.2f} |")


if __name__ == "__main__":
    main()
