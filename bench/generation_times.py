"""Time one generation step with the key/value cache against a full re-run, at several prompt lengths.

Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python generation_times.py`. Prints seconds for the bundled
decoder: the best of a few runs, since other work on the machine only ever adds time.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from timing import best_of

from viz.model import load_model, resolve_model
from viz.model.generation import Step, advance, full_rerun_logits, generate, logit_lens, start

LENGTHS = (8, 16, 128, 512)
STEPS = 24  # generated tokens per end-to-end run
MODES = {
    "argmax": {"greedy": True},
    "sampled, top-k 50, T 0.8": {"greedy": False, "temperature": 0.8, "top_k": 50},
    "sampled, top-p 0.9, T 0.8": {"greedy": False, "temperature": 0.8, "top_p": 0.9},
}


def measure(loaded, length: int, repeats: int = 7) -> dict[str, float]:
    """Seconds for: one cached step, one full re-run of all tokens, reading the prompt, and the logit lens."""
    ids = np.random.default_rng(0).integers(100, 10_000, size=length).tolist()
    generation = start(loaded, ids)
    step = Step(int(np.argmax(generation.prediction.logits)), 0.0, "argmax")

    def cached_step():
        advance(loaded, generation, step).cache.crop(-1)  # the cache grows in place: trim it back for the next repeat

    return {
        "cached step": best_of(cached_step, repeats),
        "full re-run": best_of(lambda: full_rerun_logits(loaded, ids + [step.token_id]), repeats),
        "read prompt": best_of(lambda: start(loaded, ids), max(1, repeats // 2)),
        "logit lens": best_of(lambda: logit_lens(loaded, generation), max(1, repeats // 2)),
    }


def steps_per_second(loaded, length: int = 128, repeats: int = 3) -> dict[str, float]:
    """Cached steps per second as the Next-token page generates them: each step one forward pass of the new token,
    its attentions and hidden states for the shaded window, the distribution, the choice (best of `repeats`; the
    prompt is read before each timed run, outside it, since a run's cache grows in place)."""
    ids = np.random.default_rng(1).integers(100, 10_000, size=length).tolist()
    rates = {}
    for mode, options in MODES.items():
        seconds = []
        for _ in range(repeats):
            run = start(loaded, ids)
            started = time.perf_counter()
            done = generate(loaded, run, STEPS, seed=3, **options)
            seconds.append((time.perf_counter() - started) / len(done.steps))
        rates[mode] = 1 / min(seconds)
    return rates


def bandwidth_floor(loaded, repeats: int = 20) -> dict[str, float]:
    """Why a cached step cannot go much faster in float32: it multiplies one token's vector by every weight matrix,
    so it reads all of them from memory once per token. Returns the bytes of those matrices (the unembedding counted
    once, as a step uses it once), the memory bandwidth a float32 and a bfloat16 matrix-vector product reach here
    (a matrix as large as the model's widest layer, best of `repeats`), and the seconds per step that bandwidth
    alone sets."""
    linears = [m for m in loaded.model.modules() if isinstance(m, torch.nn.Linear)]
    weight_bytes = sum(m.weight.numel() * m.weight.element_size() for m in {id(m.weight): m for m in linears}.values())
    rows = max(m.weight.shape[0] for m in linears if m is not loaded.model.get_output_embeddings())
    matrix, vector = torch.randn(rows * 8, loaded.info.width), torch.randn(1, loaded.info.width)
    rates = {}
    with torch.inference_mode():
        for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
            weights, x = matrix.to(dtype), vector.to(dtype)
            seconds = best_of(lambda weights=weights, x=x: torch.nn.functional.linear(x, weights), repeats)
            rates[name] = weights.numel() * weights.element_size() / seconds
    return {"weight_mb": weight_bytes / 1e6, "float32_gb_s": rates["float32"] / 1e9,
            "bfloat16_gb_s": rates["bfloat16"] / 1e9, "floor_s": weight_bytes / rates["float32"]}


def main() -> None:
    loaded = load_model(resolve_model("bundled:smollm2"))
    print(f"{loaded.info.name}; seconds, best of several runs; torch threads: {torch.get_num_threads()}")
    print(
        f"{'tokens':>7} {'cached step':>12} {'full re-run':>12} {'speed-up':>9} {'read prompt':>12} {'logit lens':>11}"
    )
    for length in LENGTHS:
        row = measure(loaded, length)
        print(
            f"{length:>7} {row['cached step']:>12.4f} {row['full re-run']:>12.4f} "
            f"{row['full re-run'] / row['cached step']:>8.1f}x {row['read prompt']:>12.3f} "
            f"{row['logit lens']:>11.3f}"
        )
    floor = bandwidth_floor(loaded)
    print(
        f"\nA cached step reads {floor['weight_mb']:.0f} MB of float32 weights; a matrix-vector product reads "
        f"memory at {floor['float32_gb_s']:.1f} GB/s here (bfloat16 {floor['bfloat16_gb_s']:.1f} GB/s, half the "
        f"bytes), so reading the weights alone takes {floor['floor_s'] * 1000:.0f} ms per step "
        f"(at most {1 / floor['floor_s']:.0f} steps/s before any other work)"
    )
    rates = steps_per_second(loaded)
    print(
        f"\nEnd to end at a 128-token prompt ({STEPS} steps, best of 3): "
        + "; ".join(f"{mode} {rate:.1f} steps/s" for mode, rate in rates.items())
    )


if __name__ == "__main__":
    main()
