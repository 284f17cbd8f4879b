"""Encoder–decoder models (Marian, T5, BART): one forward pass as a Seq2SeqAnalysis, and greedy generation.

Nothing is stored on the shared model. A step is a pure function of (model, source, outputs so far), so the
Translation page shares its results between sessions; only the list of outputs belongs to a session.
Shapes: S source tokens, T decoder positions, K candidates, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from viz.model.forward import readable_tokens
from viz.model.loading import LoadedModel
from viz.seq2seq import PENDING, Seq2SeqAnalysis, decoder_input_ids
from viz.text import clean_text

MAX_OUTPUT_TOKENS = 128  # the longest output the page generates or reads (BertViz draws up to 128 tokens)
CANDIDATES = 10  # next-token candidates kept after the last position (K)


def start_id(loaded: LoadedModel) -> int:
    """The token the decoder starts from (Marian and T5: padding; BART: end-of-text)."""
    model = loaded.model
    for token_id in (model.config.decoder_start_token_id, model.generation_config.decoder_start_token_id,
                     loaded.tokenizer.pad_token_id, loaded.tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError(f"{loaded.info.name} names no decoder start token")


def end_id(loaded: LoadedModel) -> int | None:
    return loaded.tokenizer.eos_token_id


def output_limit(loaded: LoadedModel) -> int:
    """How many output tokens the page lets the decoder write for this model."""
    return max(1, min(MAX_OUTPUT_TOKENS, loaded.info.max_tokens - 1))


def source_ids(loaded: LoadedModel, text: str) -> tuple[tuple[int, ...], tuple[str, ...], int]:
    """(token ids of the cleaned source, notices, tokens dropped at the model's limit); raises EmptyText."""
    cleaned = clean_text(text)
    ids = loaded.tokenizer(cleaned.text)["input_ids"]
    limit = loaded.info.max_tokens
    dropped = max(0, len(ids) - limit)
    notices = list(cleaned.notices)
    if dropped:
        ids = loaded.tokenizer(cleaned.text, truncation=True, max_length=limit)["input_ids"]
        notices.append(f"The source has {limit + dropped:,} tokens; the app reads at most {limit:,} with this "
                       f"model, so the last {dropped:,} were dropped.")
    return tuple(int(i) for i in ids), tuple(notices), dropped


def typed_outputs(loaded: LoadedModel, text: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """A translation the user typed as output token ids (ending with end-of-text), and notices; raises EmptyText."""
    cleaned = clean_text(text)
    ids = [int(i) for i in loaded.tokenizer(text_target=cleaned.text)["input_ids"]]
    notices = list(cleaned.notices)
    limit = output_limit(loaded)
    if len(ids) > limit:
        notices.append(f"The translation has {len(ids):,} tokens; the app reads the first {limit:,}.")
        ids = ids[:limit]
    return tuple(ids), tuple(notices)


def _banned(loaded: LoadedModel) -> set[int]:
    """Tokens greedy decoding never picks: padding (Marian and T5 start from it; it is never an output)."""
    return {loaded.tokenizer.pad_token_id} - {None, end_id(loaded)}


def _greedy_choice(logits: torch.Tensor, banned: set[int]) -> int:
    scores = logits.clone()
    for token_id in banned:
        scores[token_id] = -torch.inf
    return int(torch.argmax(scores))


def analyze_translation(loaded: LoadedModel, source: str, outputs: Sequence[int] = (), *,
                        forced: bool = False) -> Seq2SeqAnalysis:
    """One pass over the source and the outputs so far, with every attention; raises EmptyText for no source."""
    source_token_ids, notices, dropped = source_ids(loaded, source)
    outputs = tuple(int(i) for i in outputs)
    inputs = decoder_input_ids(start_id(loaded), outputs, end_id(loaded))
    with torch.inference_mode():
        out = loaded.model(input_ids=torch.tensor([source_token_ids]), decoder_input_ids=torch.tensor([inputs]),
                           output_attentions=True, output_hidden_states=True, use_cache=False)
    logits = out.logits[0].float()  # (T, V)
    probabilities = torch.softmax(logits, dim=-1)
    pending = len(inputs) > len(outputs)  # the last position's token is not chosen yet
    written = (*outputs, _greedy_choice(logits[-1], _banned(loaded))) if pending else outputs
    output_probabilities = probabilities[torch.arange(len(inputs)), torch.tensor(written)].numpy()
    top = torch.topk(probabilities[-1], k=min(CANDIDATES, probabilities.shape[-1]))
    encoder_states = torch.stack(out.encoder_hidden_states)[:, 0]
    encoder_states[-1] = out.encoder_last_hidden_state[0]  # what cross-attention reads: after any final norm
    tokenizer = loaded.tokenizer
    labels = readable_tokens(tokenizer, list(written))
    return Seq2SeqAnalysis(
        model=loaded.info, source_text=clean_text(source).text,
        source_tokens=readable_tokens(tokenizer, list(source_token_ids)),
        source_ids=np.array(source_token_ids), target_tokens=readable_tokens(tokenizer, list(inputs)),
        target_ids=np.array(inputs), output_tokens=labels,
        output_ids=np.array([*outputs, PENDING] if pending else outputs),
        output_probabilities=output_probabilities.astype(np.float32),
        encoder_attentions=torch.stack(out.encoder_attentions)[:, 0].float().numpy(),
        decoder_attentions=torch.stack(out.decoder_attentions)[:, 0].float().numpy(),
        cross_attentions=torch.stack(out.cross_attentions)[:, 0].float().numpy(),
        encoder_hidden_states=encoder_states.float().numpy(),
        decoder_hidden_states=torch.stack(out.decoder_hidden_states)[:, 0].float().numpy(),
        next_ids=top.indices.numpy(), next_probabilities=top.values.numpy().astype(np.float32),
        next_tokens=readable_tokens(tokenizer, top.indices.tolist()), forced=forced,
        finished=not pending, dropped_tokens=dropped, notices=notices,
    )


def greedy_outputs(loaded: LoadedModel, source: str, outputs: Sequence[int], count: int) -> tuple[int, ...]:
    """The outputs after up to `count` more greedy steps (the encoder read once, a key/value cache per step).

    Stops after the end-of-text token or at output_limit().
    """
    source_token_ids, _, _ = source_ids(loaded, source)
    outputs = tuple(int(i) for i in outputs)
    end, banned, limit = end_id(loaded), _banned(loaded), output_limit(loaded)
    if (outputs and outputs[-1] == end) or len(outputs) >= limit or count < 1:
        return outputs
    model = loaded.model
    with torch.inference_mode():
        encoded = model.get_encoder()(input_ids=torch.tensor([source_token_ids]))
        feed = torch.tensor([decoder_input_ids(start_id(loaded), outputs, end)])
        cache = None
        for _ in range(count):
            out = model(encoder_outputs=encoded, decoder_input_ids=feed, past_key_values=cache, use_cache=True)
            token = _greedy_choice(out.logits[0, -1].float(), banned)
            outputs = (*outputs, token)
            if token == end or len(outputs) >= limit:
                break
            cache, feed = out.past_key_values, torch.tensor([[token]])
    return outputs


def output_text(loaded: LoadedModel, outputs: Sequence[int]) -> str:
    """The text of the output tokens, special tokens left out."""
    return loaded.tokenizer.decode([int(i) for i in outputs], skip_special_tokens=True)
