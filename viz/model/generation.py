"""Step-by-step generation with the key/value cache, and the logit lens, for the Next-token page.

A Generation belongs to one browser session (the page keeps it in st.session_state); nothing is stored on the
shared model. Each step feeds one token through the cache, so a step costs one token, not the whole text.
Shapes: L layers, H heads, T tokens so far, W lens positions, D width, V vocabulary.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from viz.cache import LARGE_BYTES, give_back_freed_memory
from viz.model.loading import LoadedModel
from viz.sampling import choose_token, distribution, step_generator, token_probability

LENS_CHUNK_BYTES = 32 * 10**6  # next-token scores the logit lens holds at a time
TRIM_AFTER_TOKENS = 128  # a prompt this long leaves MBs of freed temporaries in the heap
LENS_POSITIONS = 16  # the logit lens shows the last W positions; a grid with text in cells gets unreadable beyond


@dataclass(frozen=True, eq=False)
class Prediction:
    """What the model predicts after its first `length` tokens.

    logits (V,) float32 next-token scores; attention (L, H, length) float32: how the newest position
    (length - 1) attended to every position up to itself, in every layer and head.
    """

    length: int
    logits: np.ndarray
    attention: np.ndarray


@dataclass(frozen=True)
class Step:
    """One generated token and how it was chosen."""

    token_id: int
    probability: float  # its probability in the distribution it was chosen from
    method: str  # "argmax" or "sampled (T=…, top-k=…, top-p=…, seed=…)"


@dataclass(frozen=True, eq=False)
class Generation:
    """A prompt plus the tokens generated so far, with the key/value cache over all of them.

    ids: prompt then generated token ids (T,); cache: the model's key/value cache over ids (it is updated in
    place by the next step, so only the newest Generation of a run is valid); prediction: after all ids;
    hidden (L+1, W, D): hidden states of the last W positions (row 0 the embeddings), for the logit lens.
    """

    model_key: str
    ids: tuple[int, ...]
    prompt_length: int
    cache: Any
    prediction: Prediction
    hidden: np.ndarray
    steps: tuple[Step, ...] = ()

    @property
    def generated(self) -> tuple[int, ...]:
        return self.ids[self.prompt_length:]

    @property
    def nbytes(self) -> int:
        """Bytes held: the key/value cache, the hidden states and the prediction (for the shared caches' budgets)."""
        tensors = [value for layer in getattr(self.cache, "layers", ()) for value in vars(layer).values()
                   if isinstance(value, torch.Tensor)]
        return (sum(t.nbytes for t in tensors) + self.hidden.nbytes + self.prediction.logits.nbytes
                + self.prediction.attention.nbytes)

    @property
    def valid(self) -> bool:
        """False when the cache no longer matches ids (a newer step of this run has already used it)."""
        return self.cache is not None and self.cache.get_seq_length() == len(self.ids)


def start_token_id(tokenizer) -> int:
    """The token a decoder starts from when the text is empty: beginning-of-text, else end-of-text."""
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("this tokenizer has neither a beginning- nor an end-of-text token")


def start(loaded: LoadedModel, prompt_ids) -> Generation:
    """Read the prompt once, keeping its key/value cache; the last W positions also return their details."""
    ids = tuple(int(i) for i in prompt_ids)
    if not ids:
        raise ValueError("a decoder needs at least one token; start from start_token_id()")
    head = max(0, len(ids) - LENS_POSITIONS)
    cache = None
    if head:
        cache = _forward(loaded, ids[:head], None, details=False).past_key_values
    generation = _with_tail(loaded, loaded.info.key, ids, len(ids), cache, head, ())
    if head >= TRIM_AFTER_TOKENS:
        # each layer's (H, T, T) scores were freed into the heap: measured at 506 tokens, the process stayed 100 MB
        # larger after start() though the run holds 36 MB
        give_back_freed_memory()
    return generation


def own_copy(generation: Generation) -> Generation:
    """A run that may grow: the same tokens and prediction with its own copy of the key/value cache (a step updates
    the cache in place, so a run read once for a prompt and shared must never be advanced itself)."""
    return replace(generation, cache=copy.deepcopy(generation.cache))


def advance(loaded: LoadedModel, generation: Generation, step: Step) -> Generation:
    """Append one token: one forward pass of that single token through the cache."""
    out = _forward(loaded, (step.token_id,), generation.cache, details=True)
    ids = (*generation.ids, step.token_id)
    hidden = np.concatenate([generation.hidden, _hidden(out)], axis=1)[:, -LENS_POSITIONS:]
    return replace(generation, ids=ids, cache=out.past_key_values, prediction=_prediction(out, len(ids)),
                   hidden=hidden, steps=(*generation.steps, step))


def generate(loaded: LoadedModel, generation: Generation, count: int, *, greedy: bool, seed: int = 0,
             temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0, on_step=None) -> Generation:
    """Up to `count` more tokens, one cached step each; stops after end-of-text or at the model's token limit.

    Sampled steps draw with step_generator(seed, step number), so a seed replays the same run; on_step(generation,
    done) is called after every step (to store the run and draw progress).
    """
    ends = {loaded.tokenizer.eos_token_id} - {None}
    for done in range(count):
        if len(generation.ids) >= loaded.info.max_tokens or (done and generation.generated[-1] in ends):
            break
        logits = generation.prediction.logits
        if greedy:  # no filtered distribution needed: it would only cost a sort of the vocabulary per step
            token, method = int(np.argmax(logits)), "argmax"
        else:
            dist = distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p)
            token = choose_token(dist, greedy=False, rng=step_generator(seed, len(generation.generated)))
            method = (f"sampled at temperature {dist.temperature:g}, top-k {top_k or 'off'}, top-p {top_p:g}, "
                      f"seed {seed}")
        probability = token_probability(logits, token)  # the model's own, at temperature 1
        generation = advance(loaded, generation, Step(token, probability, method))
        if on_step is not None:
            on_step(generation, done + 1)
    return generation


def undo(loaded: LoadedModel, generation: Generation) -> Generation:
    """Drop the newest generated token; re-reads at most the last W tokens through the trimmed cache."""
    if not generation.steps:
        return generation
    ids = generation.ids[:-1]
    keep = max(0, len(ids) - LENS_POSITIONS)
    cache = generation.cache
    cache.crop(-(len(generation.ids) - keep))
    return _with_tail(loaded, generation.model_key, ids, generation.prompt_length, cache if keep else None, keep,
                      generation.steps[:-1])


def prediction_at(loaded: LoadedModel, generation: Generation, length: int) -> Prediction:
    """The prediction after the first `length` tokens, from a trimmed copy of the cache plus one token."""
    if not 1 <= length <= len(generation.ids):
        raise IndexError(f"length {length} is outside 1..{len(generation.ids)}")
    if length == len(generation.ids):
        return generation.prediction
    cache = None
    if length > 1:
        cache = copy.deepcopy(generation.cache)
        cache.crop(-(len(generation.ids) - (length - 1)))
    out = _forward(loaded, (generation.ids[length - 1],), cache, details=True)
    return _prediction(out, length)


def full_rerun_logits(loaded: LoadedModel, ids) -> np.ndarray:
    """Next-token logits (V,) from running the model over all ids at once, without any cache."""
    with torch.inference_mode():
        out = loaded.model(input_ids=torch.tensor([list(ids)]), use_cache=False)
    return out.logits[0, -1].float().numpy()


@dataclass(frozen=True, eq=False)
class Lens:
    """The logit lens: the top next-token guess read out after every layer at the last W positions.

    top_ids (L+1, W) int, top_probabilities (L+1, W) float32; row 0 reads the embeddings, row L the model's output;
    positions (W,) the token positions of the columns.
    """

    top_ids: np.ndarray
    top_probabilities: np.ndarray
    positions: np.ndarray


def logit_lens(loaded: LoadedModel, generation: Generation, positions: int = LENS_POSITIONS) -> Lens:
    """Final norm + unembedding applied to the hidden state of every layer at the last W = `positions` positions.

    The unembedding runs on a few layers at a time, about LENS_CHUNK_BYTES of scores each: all (L+1) x W x V at
    once were 98 MB for the bundled decoder at W = 16, twice that inside logsumexp, while one layer at a time read
    the unembedding matrix L+1 times and took 2.5x the CPU (32 MB chunks cost what one call did). The top
    probability is exp(max logit - logsumexp), so no softmax over the vocabulary is stored.
    """
    model = loaded.model
    width = max(1, min(positions, generation.hidden.shape[1]))
    hidden = torch.from_numpy(np.array(generation.hidden[:, -width:]))  # (L+1, W, D)
    n_rows, last = hidden.shape[0], hidden.shape[0] - 1
    top_ids = np.empty((n_rows, width), dtype=np.int64)
    top_probabilities = np.empty((n_rows, width), dtype=np.float32)
    norm, unembed = _final_norm(model), model.get_output_embeddings()
    chunk = max(1, LENS_CHUNK_BYTES // (width * unembed.weight.shape[0] * 4))  # layers per unembedding call
    with torch.inference_mode():
        for first in range(0, n_rows, chunk):
            rows = range(first, min(first + chunk, n_rows))
            # the model's own last hidden state has already passed the final norm
            states = torch.cat([hidden[r:r + 1] if r == last else norm(hidden[r:r + 1]) for r in rows])  # (C, W, D)
            logits = unembed(states).float()  # (C, W, V)
            top_logits, ids = logits.max(dim=-1)  # (C, W)
            top_ids[rows.start:rows.stop] = ids.numpy()
            top_probabilities[rows.start:rows.stop] = torch.exp(top_logits - torch.logsumexp(logits, dim=-1)).numpy()
            del logits
    if chunk * width * unembed.weight.shape[0] * 4 >= LARGE_BYTES:
        give_back_freed_memory()  # the chunks' scores were freed into the heap (~70 MB kept at W = 10 without this)
    return Lens(top_ids=top_ids, top_probabilities=top_probabilities,
                positions=np.arange(len(generation.ids) - width, len(generation.ids)))


def _final_norm(model):
    for path in ("model.norm", "transformer.ln_f"):
        module = model
        for name in path.split("."):
            module = getattr(module, name, None)
        if module is not None:
            return module
    raise ValueError(f"no final norm found on {type(model).__name__}")


def _forward(loaded: LoadedModel, ids, cache, *, details: bool):
    with torch.inference_mode():
        return loaded.model(
            input_ids=torch.tensor([list(ids)]), past_key_values=cache, use_cache=True, logits_to_keep=1,
            output_attentions=details, output_hidden_states=details,
        )


def _with_tail(loaded, model_key, ids, prompt_length, cache, keep, steps) -> Generation:
    """Feed ids[keep:] through a cache holding ids[:keep], with attentions and hidden states."""
    out = _forward(loaded, ids[keep:], cache, details=True)
    return Generation(model_key=model_key, ids=ids, prompt_length=prompt_length, cache=out.past_key_values,
                      prediction=_prediction(out, len(ids)), hidden=_hidden(out)[:, -LENS_POSITIONS:],
                      steps=steps)


def _prediction(out, length: int) -> Prediction:
    attention = torch.stack([a[0, :, -1, :] for a in out.attentions]).float().numpy()  # (L, H, length)
    return Prediction(length=length, logits=out.logits[0, -1].float().numpy(), attention=attention)


def _hidden(out) -> np.ndarray:
    return torch.stack([h[0] for h in out.hidden_states]).float().numpy()  # (L+1, new tokens, D)
