"""Gradient attribution with Captum: how much each input token contributed to one number the model computed.

Two numbers are explained: a decoder's logit of one next token, and an encoder's cosine between one word's
last-layer vectors in two sentences. Both are attributed to the input embeddings (T, D) and summed over D,
by integrated gradients and by gradient × input. The integrated-gradients baseline is the same input with every
token replaced by the padding (else end-of-text) token: an all-zero baseline fails for Llama-family models, whose
RMSNorm is blind to scale, so the whole path's change would crowd into its first step (measured: completeness off
by more than the logit itself at 64 steps). Gradients are taken with
respect to the embeddings only: the shared model's weights never need (or keep) gradients, and nothing is
hooked onto it. Shapes: T tokens, D width.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients

from viz.model.loading import LoadedModel

IG_STEPS = 32  # integration steps; the completeness check below says how far off this many steps is
MAX_TOKENS = 128  # attribution costs IG_STEPS forward and backward passes: longer inputs are cut to their end


@dataclass(frozen=True, eq=False)
class Attribution:
    """Per-token contributions (T,) to one output number, by two methods, with Captum's completeness check.

    integrated_gradients sums to (output − baseline_output) up to `delta`; grad_times_input is the first-order
    estimate at the input alone.
    """

    token_ids: np.ndarray
    integrated_gradients: np.ndarray
    grad_times_input: np.ndarray
    output: float  # the number explained, at the real input
    baseline_output: float  # the same number with every input token replaced by the padding token
    delta: float  # Captum's convergence delta: sum(integrated_gradients) − (output − baseline_output)
    steps: int


def _attribute(forward: Callable[[torch.Tensor], torch.Tensor], embeddings: torch.Tensor, baseline: torch.Tensor,
               token_ids, steps: int) -> Attribution:
    """Both attributions of forward(embeddings (1, T, D)) -> (1,) to each token."""
    integrated, delta = IntegratedGradients(forward).attribute(
        embeddings, baselines=baseline, n_steps=steps, internal_batch_size=8, return_convergence_delta=True)
    times_input = InputXGradient(forward).attribute(embeddings.clone().requires_grad_(True))
    with torch.no_grad():
        output, baseline_output = float(forward(embeddings)[0]), float(forward(baseline)[0])
    return Attribution(
        token_ids=np.asarray(token_ids, dtype=np.int64),
        integrated_gradients=integrated[0].sum(-1).detach().double().numpy(),
        grad_times_input=times_input[0].sum(-1).detach().double().numpy(),
        output=output, baseline_output=baseline_output, delta=float(delta[0]), steps=steps)


def _embed(loaded: LoadedModel, token_ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings of the input and of the baseline (every token the padding token), both (1, T, D)."""
    tokenizer = loaded.tokenizer
    neutral = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
    table = loaded.model.get_input_embeddings()
    with torch.no_grad():
        return (table(torch.tensor([list(token_ids)])).float(),
                table(torch.full((1, len(token_ids)), int(neutral))).float())


def next_token_attribution(loaded: LoadedModel, token_ids: Sequence[int], target_id: int, *,
                           steps: int = IG_STEPS) -> Attribution:
    """How much each of the (last MAX_TOKENS) tokens contributed to the logit of `target_id` after them."""
    ids = [int(i) for i in token_ids][-MAX_TOKENS:]

    def logit(embeddings: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B,)
        out = loaded.model(inputs_embeds=embeddings, use_cache=False, logits_to_keep=1)
        return out.logits[:, -1, target_id]

    return _attribute(logit, *_embed(loaded, ids), ids, steps)


def word_vector(loaded: LoadedModel, token_ids: Sequence[int], positions: Sequence[int]) -> np.ndarray:
    """The last layer's vector (D,) of a word: the mean over its pieces' positions."""
    with torch.no_grad():
        hidden = loaded.model(input_ids=torch.tensor([list(token_ids)])).last_hidden_state  # (1, T, D)
    return hidden[0, list(positions)].mean(0).float().numpy()


def cosine_attribution(loaded: LoadedModel, token_ids: Sequence[int], positions: Sequence[int],
                       other_vector: np.ndarray, *, steps: int = IG_STEPS) -> Attribution:
    """How much each token of a sentence pulled its word's last-layer vector towards (+) or away from (−) another.

    The number explained is cosine(word vector here, other_vector), other_vector (D,) held fixed.
    """
    ids = [int(i) for i in token_ids][:MAX_TOKENS]
    other = torch.from_numpy(np.asarray(other_vector, dtype=np.float32))[None]  # (1, D)
    where = [p for p in positions if p < len(ids)]

    def cosine(embeddings: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B,)
        mask = torch.ones(embeddings.shape[:2], dtype=torch.long)
        hidden = loaded.model(inputs_embeds=embeddings, attention_mask=mask).last_hidden_state
        return torch.nn.functional.cosine_similarity(hidden[:, where].mean(1), other, dim=-1)

    return _attribute(cosine, *_embed(loaded, ids), ids, steps)
