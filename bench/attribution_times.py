"""Seconds per attribution on both bundled models, and how complete integrated gradients are at several settings.

Run: `cd bench && PYTHONPATH=.. ../.venv/bin/python attribution_times.py` prints a markdown table of seconds per
attribution (both models, about ten tokens, the app's settings). With `--convergence` it prints the table in
viz/model/attribution.py's docstring instead: |delta| / |output − baseline output| of the decoder's top-token logit
for 8 preset sentences, by Captum's quadrature method, number of steps and float32/float64.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import torch
from timing import best_of

from viz.model import attribution as attr
from viz.model import load_model, resolve_model
from viz.model.loading import LoadedModel

SENTENCES = (
    "London was", "Paris will", "The white elephant tried to get into the boat but it was too",
    "The dog looked at the boy and", "Tom is a cat. Tom's favorite food is",
    "The animal didn't cross the street because it was too", "Tim chased clouds all his",
    "students celebrate the graduation with a big",
)
PAIR = ("students celebrate the graduation with a big party", "deputy leader is highly respected in the party")
STEPS = (16, 32, 64, 128)
METHODS = ("gausslegendre", "riemann_trapezoid")


def top_token(loaded: LoadedModel, ids: list[int]) -> int:
    with torch.no_grad():
        return int(loaded.model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1].argmax())


def party_pair(loaded: LoadedModel) -> tuple:
    """(ids_a, positions_a, ids_b, positions_b) of "party" in the two preset sentences."""
    tokenizer = loaded.tokenizer
    party = tokenizer.convert_tokens_to_ids("party")
    a, b = (tokenizer(text)["input_ids"] for text in PAIR)
    return a, [a.index(party)], b, [b.index(party)]


def seconds_table(decoder: LoadedModel, encoder: LoadedModel) -> list[str]:
    """Best-of-2 seconds of one attribution at the app's settings (both methods), and the decoder at IG_STEPS."""
    rows = ["| model | what is explained | tokens | IG steps | seconds (best of 2) | |delta| / |output − baseline| |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    ids = decoder.tokenizer(SENTENCES[4])["input_ids"]
    target = top_token(decoder, ids)
    for steps in (attr.DECODER_IG_STEPS, attr.IG_STEPS):
        result = attr.next_token_attribution(decoder, ids, target, steps=steps)
        seconds = best_of(lambda steps=steps: attr.next_token_attribution(decoder, ids, target, steps=steps), 2)
        rows.append(f"| {decoder.info.name} | logit of the top next token | {len(ids)} | {steps} | "
                    f"{seconds:.2f} | {result.relative_delta:.4f} |")
    pair = party_pair(encoder)
    first, _ = attr.cosine_pair_attribution(encoder, *pair)
    seconds = best_of(lambda: attr.cosine_pair_attribution(encoder, *pair), 2)
    rows.append(f"| {encoder.info.name} | cosine of “party” across two sentences | {len(pair[0])} + {len(pair[2])} "
                f"| {attr.IG_STEPS} | {seconds:.2f} | {first.relative_delta:.2e} |")
    return rows


def double(loaded: LoadedModel) -> LoadedModel:
    """A float64 copy of a model (for the convergence table only)."""
    return LoadedModel(spec=loaded.spec, model=copy.deepcopy(loaded.model).double(), tokenizer=loaded.tokenizer,
                       info=loaded.info)


def convergence_table(decoder: LoadedModel) -> list[str]:
    """Median and worst |delta| / |output − baseline| over SENTENCES for each (dtype, method, steps)."""
    cases = [(decoder.tokenizer(text)["input_ids"], text) for text in SENTENCES]
    targets = [top_token(decoder, ids) for ids, _ in cases]
    rows = ["| dtype | method | steps | median | worst | worst sentence | median |delta| |",
            "| --- | --- | ---: | ---: | ---: | --- | ---: |"]
    settings = [("float32", method) for method in METHODS] + [("float64", METHODS[0])]
    for dtype, method in settings:
        model = decoder if dtype == "float32" else double(decoder)
        for steps in STEPS:
            results = [attr.next_token_attribution(model, ids, target, steps=steps, method=method)
                       for (ids, _), target in zip(cases, targets, strict=True)]
            ratios = np.array([r.relative_delta for r in results])
            worst = int(ratios.argmax())
            rows.append(f"| {dtype} | {method} | {steps} | {np.median(ratios):.3f} | {ratios[worst]:.3f} | "
                        f"{cases[worst][1]} | {np.median([abs(r.delta) for r in results]):.3f} |")
            print(rows[-1], file=sys.stderr, flush=True)  # progress: the whole table takes minutes
    return rows


def main() -> None:
    decoder = load_model(resolve_model("bundled:smollm2"))
    if "--convergence" in sys.argv:
        print(f"{decoder.info.name}: logit of the top next token, first token kept in the baseline; "
              f"torch threads: {torch.get_num_threads()}\n")
        print("\n".join(convergence_table(decoder)))
        return
    encoder = load_model(resolve_model("bundled:minilm"))
    print(f"Seconds per attribution (Captum integrated gradients + gradient × input, batches of {attr.BATCH} "
          f"path points); torch threads: {torch.get_num_threads()}\n")
    print("\n".join(seconds_table(decoder, encoder)))


if __name__ == "__main__":
    main()
