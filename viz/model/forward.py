"""One forward pass over the user's text, returned as an Analysis of plain numpy arrays."""

from __future__ import annotations

import numpy as np
import torch

from viz.analysis import Analysis
from viz.model.loading import LoadedModel
from viz.model.recorder import forward_with_attentions
from viz.model.token_text import token_labels
from viz.text import clean_text

# how the shared analyses keep attention weights: (L, H, T, T) float16 is 138 MB at 506 decoder tokens, not 276
ATTENTION_DTYPE = np.float16


def analyze(loaded: LoadedModel, text: str, text_pair: str | None = None, *,
            attention_dtype=ATTENTION_DTYPE) -> Analysis:
    """Run the model once with attentions and hidden states; raise EmptyText for empty input.

    The attentions are kept as `attention_dtype`: float16 for the analyses the pages share (half the memory; each
    weight within 2^-11 of itself, i.e. at most 2.4e-4 off, 6e-5 for weights under 1/8); tests that compare the
    model with its recomputation ask for float32."""
    info = loaded.info
    first = clean_text(text)
    second = clean_text(text_pair) if text_pair and text_pair.strip() else None
    notices = list(first.notices) + (list(second.notices) if second else [])
    encoding, word_ids, sentence_b_start, dropped = _tokenize(loaded, first.text, second.text if second else None)
    if dropped:
        notices.append(
            f"The input has {info.max_tokens + dropped:,} tokens; the app analyses at most {info.max_tokens:,} "
            f"with this model, so the last {dropped:,} were dropped."
        )
    ids = encoding["input_ids"]
    # a decoder's next-token scores are the Next-token page's business: ask for the last position's only (not T x V)
    extra = {"logits_to_keep": 1} if info.is_causal else {}
    out, attentions = forward_with_attentions(loaded, encoding, attention_dtype, output_hidden_states=True, **extra)
    hidden = _one_array(out.hidden_states)  # (L+1, T, D)
    del out
    token_ids = ids[0].numpy()
    # [UNK] stands for a real word of the input, so it is not marked special
    special_ids = set(loaded.tokenizer.all_special_ids) - {loaded.tokenizer.unk_token_id}
    return Analysis(
        model=info,
        text=first.text,
        text_pair=second.text if second else None,
        tokens=readable_tokens(loaded.tokenizer, token_ids.tolist()),
        token_ids=token_ids,
        word_ids=word_ids,
        special=np.array([int(i) in special_ids for i in token_ids], dtype=bool),
        attentions=attentions,
        hidden_states=hidden,
        sentence_b_start=sentence_b_start,
        dropped_tokens=dropped,
        notices=tuple(notices),
    )


def _one_array(states: tuple[torch.Tensor, ...]) -> np.ndarray:
    """The model's L+1 hidden states (1, T, D) as one float32 array (L+1, T, D)."""
    stacked = np.empty((len(states), *states[0].shape[1:]), dtype=np.float32)
    for index, state in enumerate(states):
        stacked[index] = state[0].float().numpy()
    return stacked


def _tokenize(loaded: LoadedModel, text: str, text_pair: str | None):
    """Tokens for the model, cut to its limit; returns (model inputs, word ids, sentence_b_start, dropped)."""
    tokenizer, info = loaded.tokenizer, loaded.info
    if info.is_causal and text_pair:
        text, text_pair, b_chars = f"{text} {text_pair}", None, len(text)  # decoders read one stream
    else:
        b_chars = None
    args = (text, text_pair) if text_pair else (text,)
    full_length = len(tokenizer(*args, add_special_tokens=True)["input_ids"])
    dropped = max(0, full_length - info.max_tokens)
    enc = tokenizer(
        *args, return_tensors="pt", truncation="longest_first" if dropped else False,
        max_length=info.max_tokens if dropped else None, return_offsets_mapping=True,
    )
    sequence_ids = enc.sequence_ids(0)
    word_ids = _unique_word_ids(enc.word_ids(0), sequence_ids)
    offsets = [tuple(o) for o in enc.pop("offset_mapping")[0].tolist()]
    if b_chars is not None:
        starts = [i for i, (_, end) in enumerate(offsets) if end > b_chars]
        b_start = starts[0] if starts else None
    else:
        b_start = sequence_ids.index(1) if 1 in sequence_ids else None
    model_inputs = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    if loaded.info.family == "distilbert":
        model_inputs.pop("token_type_ids", None)
    return model_inputs, word_ids, b_start, dropped


def _unique_word_ids(word_ids, sequence_ids) -> tuple[int | None, ...]:
    """Word index per token, numbered on across both sentences of a pair."""
    first_words = [w for w, s in zip(word_ids, sequence_ids, strict=True) if s == 0 and w is not None]
    first_sentence_words = max(first_words, default=-1)
    return tuple(
        None if w is None else (w + first_sentence_words + 1 if s == 1 else w)
        for w, s in zip(word_ids, sequence_ids, strict=False)
    )


def readable_tokens(tokenizer, ids: list[int]) -> tuple[str, ...]:
    """Display text of each token: byte pieces of one character show it as 'char(k/n)'; WordPiece keeps its ##."""
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    return tuple(piece if piece.startswith("##") else label
                 for piece, label in zip(pieces, token_labels(tokenizer, ids), strict=True))
