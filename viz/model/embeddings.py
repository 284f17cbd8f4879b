"""Model access for the tokens and word-sense pages: embedding-table rows, typed words, batched hidden states.

Shapes: V vocabulary, D width, L layers, T tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from viz.model.forward import readable_tokens
from viz.model.loading import LoadedModel
from viz.text import EmptyText, clean_text

WORD_CONTEXT = "the "  # a word is looked up as it appears after another word (decoders: with its leading space)


@dataclass(frozen=True, eq=False)
class TypedWord:
    """A word the user typed, as the model's input embedding sees it: pieces, ids and their mean row (D,)."""

    word: str
    pieces: tuple[str, ...]
    ids: tuple[int, ...]
    vector: np.ndarray


@dataclass(frozen=True, eq=False)
class SentenceStates:
    """Hidden states of one sentence from a batched pass: tokens, word_ids, special (T,), hidden_states (L+1, T, D)."""

    text: str
    tokens: tuple[str, ...]
    word_ids: tuple[int | None, ...]
    special: np.ndarray
    hidden_states: np.ndarray
    dropped_tokens: int = 0


def input_embedding_matrix(loaded: LoadedModel) -> np.ndarray:
    """The input embedding table (V, D) as a read-only float32 view (no copy)."""
    weight = loaded.model.get_input_embeddings().weight.detach()
    matrix = weight.float().numpy() if weight.dtype != torch.float32 else weight.numpy()
    matrix = matrix.view()
    matrix.setflags(write=False)
    return matrix


def input_embedding_rows(loaded: LoadedModel, token_ids: Sequence[int]) -> np.ndarray:
    """Rows of the input embedding table for token ids: (N,) -> (N, D) float32 copy."""
    return np.array(input_embedding_matrix(loaded)[np.asarray(token_ids, dtype=np.int64)])


def vocabulary_entries(loaded: LoadedModel, token_ids: Sequence[int]) -> list[str]:
    """The tokenizer's own spelling of each id, e.g. 'Ġparty' or '##is'; where that spelling is a byte code rather
    than the text (byte-level tokenizers and non-Latin scripts), the bytes too, e.g. 'æĪ (bytes e6 88)'."""
    from viz.model.token_text import token_bytes

    entries = []
    for token_id, entry in zip(token_ids, loaded.tokenizer.convert_ids_to_tokens([int(i) for i in token_ids]),
                               strict=True):
        data = token_bytes(loaded.tokenizer, int(token_id))
        text = data.decode("utf-8", errors="replace")
        spelled_in_bytes = "\ufffd" in text or (not text.isascii() and text.strip() not in str(entry))
        entries.append(f"{entry} (bytes {data.hex(' ')})" if spelled_in_bytes else str(entry))
    return entries


def typed_word(loaded: LoadedModel, word: str) -> TypedWord | None:
    """A typed word's pieces as they appear after another word, and the mean of their embedding rows; None if empty."""
    word = word.strip()
    if not word:
        return None
    tokenizer = loaded.tokenizer
    encoding = tokenizer(WORD_CONTEXT + word, add_special_tokens=False, return_offsets_mapping=True)
    start = len(WORD_CONTEXT)
    ids = [i for i, (_, end) in zip(encoding["input_ids"], encoding["offset_mapping"], strict=True) if end > start]
    if not ids:
        return None
    return TypedWord(
        word=word, pieces=readable_tokens(tokenizer, ids), ids=tuple(ids),
        vector=input_embedding_rows(loaded, ids).astype(np.float64).mean(axis=0),
    )


def sentence_states(loaded: LoadedModel, sentences: Sequence[str], *, batch_size: int = 16, max_tokens: int = 64,
                    progress: Callable[[int, int], None] | None = None) -> Iterator[SentenceStates]:
    """Hidden states of many sentences, batched forward passes (padding on the right), one sentence at a time.

    Sentences longer than max_tokens are cut. Empty sentences are skipped. progress(done, total) after each batch.
    """
    texts = []
    for sentence in sentences:
        try:
            texts.append(clean_text(sentence).text)
        except EmptyText:
            continue
    for start in range(0, len(texts), batch_size):
        yield from _batch_states(loaded, texts[start:start + batch_size], max_tokens)
        if progress:
            progress(min(start + batch_size, len(texts)), len(texts))


def _batch_states(loaded: LoadedModel, texts: list[str], max_tokens: int) -> list[SentenceStates]:
    tokenizer = loaded.tokenizer
    limit = min(max_tokens, loaded.info.max_tokens)
    full_lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    encodings = [tokenizer(text, truncation=True, max_length=limit) for text in texts]
    longest = max(len(e["input_ids"]) for e in encodings)
    ids = torch.full((len(texts), longest), pad_id or 0, dtype=torch.long)
    mask = torch.zeros((len(texts), longest), dtype=torch.long)
    for row, encoding in enumerate(encodings):
        ids[row, :len(encoding["input_ids"])] = torch.tensor(encoding["input_ids"])
        mask[row, :len(encoding["input_ids"])] = 1
    with torch.inference_mode():  # the base model only: a decoder's vocabulary head would cost more than the rest
        out = loaded.model.base_model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    hidden = torch.stack(out.hidden_states, dim=1).float().numpy()  # (B, L+1, T_max, D)
    special_ids = set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
    results = []
    for row, (text, encoding) in enumerate(zip(texts, encodings, strict=True)):
        length = len(encoding["input_ids"])
        token_ids = encoding["input_ids"]
        results.append(SentenceStates(
            text=text, tokens=readable_tokens(tokenizer, token_ids),
            word_ids=tuple(encoding.word_ids()),
            special=np.array([i in special_ids for i in token_ids], dtype=bool),
            hidden_states=hidden[row, :, :length].copy(), dropped_tokens=full_lengths[row] - length,
        ))
    return results
