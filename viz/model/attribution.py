"""Gradient attribution with Captum: how much each input token contributed to one number the model computed.

Two numbers are explained: a decoder's logit of one next token, and an encoder's cosine between one word's
last-layer vectors in two sentences. Both are attributed to the input embeddings (T, D) and summed over D,
by integrated gradients (Captum's IntegratedGradients) and by gradient × input (Captum's InputXGradient).
Gradients are taken with respect to the embeddings only: the shared model's weights never need (or keep)
gradients, and nothing is hooked onto it. Shapes: T tokens, D width.

The baseline. Every token is replaced by the padding (else end-of-text) token, except the special tokens
([CLS], [SEP]) and, in a decoder, the first token, which keep their own embeddings. Why:
- an all-zero baseline fails for Llama-family models: RMSNorm is blind to scale, so the whole path's change
  crowds into its first step;
- replacing the decoder's first token as well makes the path cross a cliff: SmolLM2 parks most attention on
  its first position (the "attention sink"), and halfway between two first-token embeddings that sink breaks.
  Measured on "London was" (201 forward passes along the path): the logit of " a" goes 19.1 → 27.4 → 2.1 →
  27.4 → 22.8, jumping by up to 27 between neighbouring points, so no quadrature converges (|delta| grew from
  9.7 at 16 steps to 49.9 at 64, for an output − baseline of 3.7). With the first token kept the same path
  changes by at most 0.7 between neighbouring points. The cost: the first token's integrated-gradients share is
  zero by construction (the page says so; gradient × input still shows it).

Completeness: |delta| / |output − baseline output|, delta = sum of the shares − (output − baseline output).
Decoder (SmolLM2, float32, first token kept), logit of the top next token after 8 preset prompts of 2–13 tokens,
`bench/attribution_times.py --convergence`:

| method            | steps | median | worst | median abs delta |
| ---               | ---:  | ---:   | ---:  | ---:             |
| gausslegendre     | 16    | 2.32   | 15.3  | 6.94             |
| gausslegendre     | 32    | 0.32   | 29.7  | 0.87             |
| gausslegendre     | 64    | 0.23   | 1.91  | 0.70             |
| gausslegendre     | 128   | 0.025  | 1.33  | 0.018            |
| riemann_trapezoid | 16    | 0.87   | 12.0  | 4.26             |
| riemann_trapezoid | 32    | 0.51   | 4.57  | 1.82             |
| riemann_trapezoid | 64    | 0.063  | 4.09  | 0.090            |
| riemann_trapezoid | 128   | 0.009  | 8.17  | 0.040            |

Worst at 128 steps: "students celebrate the graduation with a big" (top token " bon", difference −1.35, so
|delta| ≈ 1.8: not converged); small differences inflate the ratio too ("London was": 0.32). Chosen:
Gauss–Legendre (Captum's default: the smaller worst case and median |delta|) at DECODER_IG_STEPS = 128; the page
shows delta beside the difference and says in words when the shares do not add up (more than 5% off).
float64 does not help: a float64 copy gives the same ratios to 4 digits at 32 steps (0.1819 on "The dog looked
at the boy and", 0.4564 on "London was"), so the error is the quadrature's on a path with sharp turns, not
rounding. Encoder (MiniLM), cosine of "party" across
the two party presets: 1e-4 at 16 steps, 2e-5 at IG_STEPS = 32 (LayerNorm after the position embeddings makes the
path smooth). Seconds per attribution: bench/results/attribution.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients

from viz.model.loading import LoadedModel

IG_STEPS = 32  # integration steps for the encoder's cosine: |delta| / |output − baseline| 2e-5 (docstring)
DECODER_IG_STEPS = 128  # for the decoder's logit, which is far from linear along the path (table in the docstring)
IG_METHOD = "gausslegendre"  # Captum's default quadrature; see the table in the module docstring
MAX_TOKENS = 64  # an attribution costs its steps × a forward and backward pass: longer inputs are cut
BATCH = 8  # points of the path per forward/backward pass (and per progress-bar update): bounds the memory


@dataclass(frozen=True, eq=False)
class Attribution:
    """Per-token contributions (T,) to one output number, by two methods, with Captum's completeness check.

    integrated_gradients sums to (output − baseline_output) up to `delta`; grad_times_input is the first-order
    estimate at the input alone. kept (T,) marks the tokens the baseline leaves as they are (their
    integrated-gradients share is 0 by construction).
    """

    token_ids: np.ndarray
    integrated_gradients: np.ndarray
    grad_times_input: np.ndarray
    kept: np.ndarray
    output: float  # the number explained, at the real input
    baseline_output: float  # the same number at the baseline
    delta: float  # Captum's convergence delta: sum(integrated_gradients) − (output − baseline_output)
    steps: int
    method: str

    @property
    def relative_delta(self) -> float:
        """|delta| / |output − baseline_output|: 0 when the attributions add up exactly."""
        return abs(self.delta) / max(abs(self.output - self.baseline_output), 1e-12)


Progress = Callable[[int, int], None]


def _counting(forward: Callable, total: int, progress: Progress | None) -> Callable:
    """forward, calling progress(points done, total) after each batch (Captum has no progress callback)."""
    done = [0]

    def counted(*inputs: torch.Tensor) -> torch.Tensor:
        out = forward(*inputs)
        done[0] += inputs[0].shape[0]
        if progress is not None:
            progress(min(done[0], total), total)
        return out
    return counted


def _attribute(forward: Callable, inputs: tuple[torch.Tensor, ...], baselines: tuple[torch.Tensor, ...], *,
               steps: int, method: str, progress: Progress | None) -> tuple[list, list, float, float, float]:
    """Both attributions of forward(*inputs (1, T_i, D)) -> (1,): (IG per input, grad×input per input, delta,
    output, baseline output); each attribution summed over D to (T_i,)."""
    counted = _counting(forward, steps + 4, progress)  # the path, then the input, the baseline, grad × input
    integrated, delta = IntegratedGradients(counted).attribute(
        inputs, baselines=baselines, n_steps=steps, method=method, internal_batch_size=BATCH,
        return_convergence_delta=True)
    times_input = InputXGradient(counted).attribute(tuple(x.clone().requires_grad_(True) for x in inputs))
    with torch.no_grad():
        output, baseline_output = float(forward(*inputs)[0]), float(forward(*baselines)[0])
    if progress is not None:
        progress(steps + 4, steps + 4)

    def per_token(attributions):
        return [a[0].sum(-1).detach().double().numpy() for a in attributions]
    return per_token(integrated), per_token(times_input), float(delta[0]), output, baseline_output


def kept_positions(loaded: LoadedModel, token_ids: Sequence[int]) -> np.ndarray:
    """(T,) True where the baseline keeps the token: special tokens, and a decoder's first token."""
    special = set(loaded.tokenizer.all_special_ids)
    kept = np.array([int(i) in special for i in token_ids], dtype=bool)
    if loaded.info.is_causal and len(kept):
        kept[0] = True  # the attention sink: see the module docstring
    return kept


def _embed(loaded: LoadedModel, token_ids: Sequence[int], also_kept: Sequence[int] = ()
           ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Embeddings of the input and of the baseline, both (1, T, D) in the model's dtype, and the kept mask (T,)
    (kept_positions, plus the positions `also_kept`)."""
    tokenizer = loaded.tokenizer
    neutral = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
    kept = kept_positions(loaded, token_ids)
    kept[list(also_kept)] = True
    baseline_ids = [int(i) if keep else int(neutral) for i, keep in zip(token_ids, kept, strict=True)]
    table = loaded.model.get_input_embeddings()
    with torch.no_grad():
        return table(torch.tensor([list(token_ids)])), table(torch.tensor([baseline_ids])), kept


def _record(ids, kept, integrated, times_input, delta, output, baseline_output, steps, method) -> Attribution:
    return Attribution(token_ids=np.asarray(ids, dtype=np.int64), integrated_gradients=integrated,
                       grad_times_input=times_input, kept=kept, output=output, baseline_output=baseline_output,
                       delta=delta, steps=steps, method=method)


def next_token_attribution(loaded: LoadedModel, token_ids: Sequence[int], target_id: int, *,
                           steps: int = DECODER_IG_STEPS, method: str = IG_METHOD,
                           progress: Progress | None = None) -> Attribution:
    """How much each of the (last MAX_TOKENS) tokens contributed to the logit of `target_id` after them."""
    ids = [int(i) for i in token_ids][-MAX_TOKENS:]

    def logit(embeddings: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B,)
        out = loaded.model(inputs_embeds=embeddings, use_cache=False, logits_to_keep=1)
        return out.logits[:, -1, target_id]

    embeddings, baseline, kept = _embed(loaded, ids)
    (integrated,), (times_input,), *rest = _attribute(logit, (embeddings,), (baseline,), steps=steps, method=method,
                                                      progress=progress)
    return _record(ids, kept, integrated, times_input, *rest, steps, method)


def word_vector(loaded: LoadedModel, token_ids: Sequence[int], positions: Sequence[int]) -> np.ndarray:
    """The last layer's vector (D,) of a word: the mean over its pieces' positions."""
    with torch.no_grad():
        hidden = loaded.model(input_ids=torch.tensor([list(token_ids)])).last_hidden_state  # (1, T, D)
    return hidden[0, list(positions)].mean(0).float().numpy()


def _word_state(loaded: LoadedModel, embeddings: torch.Tensor, where: list[int]) -> torch.Tensor:
    """(B, T, D) input embeddings -> (B, D) the word's last-layer vector (mean over its pieces)."""
    mask = torch.ones(embeddings.shape[:2], dtype=torch.long)
    return loaded.model(inputs_embeds=embeddings, attention_mask=mask).last_hidden_state[:, where].mean(1)


def cosine_pair_attribution(loaded: LoadedModel, ids_a: Sequence[int], positions_a: Sequence[int],
                            ids_b: Sequence[int], positions_b: Sequence[int], *, steps: int = IG_STEPS,
                            method: str = IG_METHOD, progress: Progress | None = None
                            ) -> tuple[Attribution, Attribution]:
    """How much each token of two sentences pulled one word's last-layer vectors together (+) or apart (−).

    The number explained is cosine(word in A, word in B). The baseline keeps the word itself (and the special
    tokens) and replaces the rest by padding: the word in an empty context, where both vectors are alike (the
    cosine is exactly 1 when the word sits at the same position of equally long sentences). Integrated gradients
    run along one path that moves both sentences at once, so the two records' integrated gradients together add
    up to (output − baseline_output), up to delta (both records carry the same output, baseline output, delta).
    """
    ids_a, ids_b = [int(i) for i in ids_a][:MAX_TOKENS], [int(i) for i in ids_b][:MAX_TOKENS]
    where_a, where_b = [p for p in positions_a if p < len(ids_a)], [p for p in positions_b if p < len(ids_b)]
    if not where_a or not where_b:
        raise ValueError(f"the word must lie within the first {MAX_TOKENS} tokens of both sentences")

    def cosine(embeddings_a: torch.Tensor, embeddings_b: torch.Tensor) -> torch.Tensor:  # (B, T_a, D), (B, T_b, D)
        return torch.nn.functional.cosine_similarity(_word_state(loaded, embeddings_a, where_a),
                                                     _word_state(loaded, embeddings_b, where_b), dim=-1)

    embeddings_a, baseline_a, kept_a = _embed(loaded, ids_a, where_a)
    embeddings_b, baseline_b, kept_b = _embed(loaded, ids_b, where_b)
    integrated, times_input, *rest = _attribute(cosine, (embeddings_a, embeddings_b), (baseline_a, baseline_b),
                                                steps=steps, method=method, progress=progress)
    return (_record(ids_a, kept_a, integrated[0], times_input[0], *rest, steps, method),
            _record(ids_b, kept_b, integrated[1], times_input[1], *rest, steps, method))
