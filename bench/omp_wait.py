"""Why viz/__init__.py sets GOMP_SPINCOUNT=1000: a short forward pass and a generation step, per OpenMP wait policy.

For each policy (libgomp's default, ACTIVE, PASSIVE, spin counts) a fresh process (the policy is read when torch
loads) runs `analyze()` of the bundled decoder on new 14-token sentences with 2 torch threads, and one cached
generation step at a 128-token prompt, and reports the median wall and CPU seconds of 8 calls (CPU = the process's
user+system time, all threads). Twice: on the machine as it is, and with two busy processes beside it (one per core,
like the students' browsers on the server's cores). Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python omp_wait.py
> results/threads.md`.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

POLICIES = {"libgomp default (unset)": {}, "ACTIVE": {"OMP_WAIT_POLICY": "ACTIVE"},
            "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
            "GOMP_SPINCOUNT=1000 (the app's)": {"GOMP_SPINCOUNT": "1000"},
            "GOMP_SPINCOUNT=10000": {"GOMP_SPINCOUNT": "10000"},
            "GOMP_SPINCOUNT=30000": {"GOMP_SPINCOUNT": "30000"}}
CALLS = 8


def measure() -> dict:
    """In the child: median wall and CPU seconds of CALLS analyses of new sentences."""
    import torch  # noqa: F401  (loaded first, so the environment's policy is the one in force)

    from viz.model import analyze, load_model, resolve_model
    from viz.model.generation import Step, advance, start

    loaded = load_model(resolve_model("bundled:smollm2"))
    torch.set_num_threads(2)
    analyze(loaded, "A first sentence to warm the model up.")
    def timed(action) -> tuple[float, float]:
        walls, cpus = [], []
        for index in range(CALLS):
            wall, cpu = time.perf_counter(), time.process_time()
            action(index)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        return statistics.median(walls), statistics.median(cpus)

    result = {}
    result["wall_s"], result["cpu_s"] = timed(
        lambda index: analyze(loaded, f"The quiet painter near the market sang every morning, number {index}."))
    run = start(loaded, list(range(1000, 1128)))  # a 128-token prompt
    step = Step(int(run.prediction.logits.argmax()), 0.0, "argmax")
    result["step_wall_s"], result["step_cpu_s"] = timed(lambda index: advance(loaded, run, step).cache.crop(-1))
    return result


def busy(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def run_policy(settings: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} | settings
    code = "import json, omp_wait; print(json.dumps(omp_wait.measure()))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(
        f"Forward pass of the bundled decoder, 14 tokens, 2 torch threads, median of {CALLS} "
        f"({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average at start "
        f"{os.getloadavg()[0]:.1f}).\n"
    )
    print("| OpenMP wait policy | beside | forward wall s | forward CPU s | cached step wall s | cached step CPU s |")
    print("|---|---|---|---|---|---|")
    for beside in ("nothing of ours", "2 busy processes"):
        stop = multiprocessing.Event()
        workers = [multiprocessing.Process(target=busy, args=(stop,)) for _ in range(2 if "busy" in beside else 0)]
        for worker in workers:
            worker.start()
        for name, value in POLICIES.items():
            result = run_policy(value)
            print(f"| {name} | {beside} | {result['wall_s']:.3f} | {result['cpu_s']:.3f} | "
                  f"{result['step_wall_s']:.4f} | {result['step_cpu_s']:.4f} |", flush=True)
        stop.set()
        for worker in workers:
            worker.join()


if __name__ == "__main__":
    main()
