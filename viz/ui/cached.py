"""Every model call a page needs, cached and shared by all browser sessions of this process.

Pages pass a model key (ModelInfo.key) and plain values; they get numpy arrays, Analysis/QKV records or small
dataclasses back, never a model or a tokenizer. A result that depends only on (model, text, settings) is computed
once, under a per-key lock, and kept read-only in a bytes-bounded cache (budgets below, in MB = 10^6 bytes; each
can be changed with ATTNVIZ_<NAME>_CACHE_MB). Per-session state (a generation run) lives in viz/ui/session.py.

Fair under load: every computation runs inside model_work(), which lets at most MODEL_WORKERS of them run at once
(default: one per core). One running alone uses every core; while others run, each uses THREADS_PER_CALL threads
(default 1). Without it every session's call asks torch and BLAS for all cores, and ten calls at once oversubscribe
two cores; with it a long text occupies one core while short requests keep going on the other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import streamlit as st
import torch
from threadpoolctl import threadpool_limits

from viz.analysis import QKV, Analysis, ModelInfo
from viz.cache import LARGE_BYTES, BytesLRU, give_back_freed_memory, size_in_bytes
from viz.model import (
    LoadedModel,
    analyze,
    attention_qkv,
    embeddings,
    fill_mask,
    load_model,
    positions,
    resolve_model,
    token_text,
)
from viz.model.registry import smollm_converted_folder
from viz.projection import WordStates, collect_word_states

# Sized for issue 13's "≤ 2 GB after every page at 512 tokens with both bundled models": the server with both models
# holds ~1.27 GB, so all caches together get 560 MB, leaving ~170 MB for a long forward pass's temporaries (~100 MB)
# and sessions' own state. A 506-token decoder analysis holds 174 MB (float16 attentions), so one long decoder text
# at a time (beside a long encoder text, 43 MB); a class's 10–30-token analyses are < 1 MB. Q, K, V of one layer is
# 4.5 MB at 506 tokens, a rollout 31 MB. "prompts": Next token's read prompts (viz/ui/session.py), 2.3 MB at 20
# tokens and 25 MB at 506 (key/value cache, hidden states of the lens window), kept apart so that a class's prompts
# never push out the rollouts and attributions in "derived", which take seconds to recompute.
BUDGETS_MB = {"analysis": 300, "qkv": 50, "derived": 80, "prompts": 30, "word_states": 50, "model_parts": 50}
CORES = os.cpu_count() or 1
MODEL_WORKERS = int(os.environ.get("ATTNVIZ_MODEL_WORKERS", CORES))
THREADS_PER_CALL = int(os.environ.get("ATTNVIZ_THREADS_PER_CALL", "1"))  # while other computations run
_holding = threading.local()  # how deep this thread is inside model_work() (nested calls hold one slot)
_running = [0]  # computations holding a slot now
_running_lock = threading.Lock()


@st.cache_resource(show_spinner=False)
def _work_slots() -> threading.BoundedSemaphore:
    torch.set_num_threads(THREADS_PER_CALL)  # process-wide, set once, before the first computation
    threadpool_limits(THREADS_PER_CALL)  # numpy's BLAS too
    return threading.BoundedSemaphore(MODEL_WORKERS)


@contextmanager
def model_work() -> Iterator[None]:
    """Hold one of the MODEL_WORKERS slots while computing; a call nested inside another uses the outer one's."""
    depth = getattr(_holding, "depth", 0)
    if depth:
        _holding.depth = depth + 1
        try:
            yield
        finally:
            _holding.depth = depth
        return
    with _work_slots():
        with _running_lock:
            _running[0] += 1
            # alone, a computation may use every core (a single student's generation steps run ~1.6x faster);
            # as soon as another one runs, each gets THREADS_PER_CALL, so the two never oversubscribe the CPU
            torch.set_num_threads(CORES if _running[0] == 1 else THREADS_PER_CALL)
        _holding.depth = 1
        try:
            yield
        finally:
            _holding.depth = 0
            with _running_lock:
                _running[0] -= 1


@st.cache_resource(show_spinner=False)
def _caches() -> dict[str, BytesLRU]:
    megabytes = {name: int(os.environ.get(f"ATTNVIZ_{name.upper()}_CACHE_MB", mb)) for name, mb in BUDGETS_MB.items()}
    return {name: BytesLRU(mb * 10**6, size_of=size_in_bytes) for name, mb in megabytes.items()}


def shared(cache: str, key: tuple, compute: Callable[[], object]):
    """compute() once per key in the named cache, shared read-only by every session (arrays made read-only)."""
    def compute_read_only():
        with model_work():
            value = compute()
        arrays = _arrays(value)
        for array in arrays:
            array.setflags(write=False)
        if sum(array.nbytes for array in arrays) > LARGE_BYTES:
            give_back_freed_memory()
        return value
    return _caches()[cache].get_or_compute(key, compute_read_only)


def _arrays(value) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, list | tuple):
        return [array for item in value for array in _arrays(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [a for name in value.__dataclass_fields__ for a in _arrays(getattr(value, name))]
    return []


@st.cache_resource(show_spinner=False, max_entries=4)
def _loaded(model_key: str) -> LoadedModel:
    return load_model(resolve_model(model_key))


def model(model_key: str) -> LoadedModel:
    """The shared model (glue only: pages never hold one); raises UnknownModel or ModelLoadError."""
    return _loaded(model_key)


def model_info(choice: str) -> ModelInfo:
    """Load the model a person picked or typed (once per process), with a spinner; its ModelInfo."""
    key = resolve_model(choice).key
    first_conversion = key == "bundled:smollm2" and not (smollm_converted_folder() / "model.safetensors").exists()
    message = ("Preparing the bundled SmolLM2 decoder: converting its GGUF file once (about 30 s)…"
               if first_conversion else f"Loading {choice}…")
    with st.spinner(message, show_time=True):
        return _loaded(key).info


def analysis(model_key: str, text: str, text_pair: str | None = None) -> Analysis:
    """The analysis of (model, text, pair); raises EmptyText when there is nothing to analyse."""
    return shared("analysis", (model_key, text, text_pair or ""),
                  lambda: analyze(_loaded(model_key), text, text_pair))


def _analysis_key(source: Analysis) -> tuple:
    return source.model.key, source.text, source.text_pair or "", source.n_tokens


def derived(source: Analysis, name: str, compute: Callable[[Analysis], object]):
    """compute(analysis) once per (analysis, name), e.g. a head summary or a rollout."""
    return shared("derived", (*_analysis_key(source), name), lambda: compute(source))


def qkv(source: Analysis, layer: int) -> QKV:
    """Q, K, V of one layer of an analysis, recomputed from the model's weights."""
    return shared("qkv", (*_analysis_key(source), layer),
                  lambda: attention_qkv(_loaded(source.model.key), source, layer))


def word_states(model_key: str, sentences: Sequence[str], word: str, progress=None) -> WordStates:
    """One word's vectors across many sentences (batched passes); progress(done, total) while computing."""
    key = (model_key, tuple(sentences), word.strip().lower())
    return shared("word_states", key, lambda: collect_word_states(
        embeddings.sentence_states(_loaded(model_key), sentences, progress=progress), word))


def _part(model_key: str, name: str, *args, compute):
    return shared("model_parts", (model_key, name, *args), compute)


def embedding_rows(model_key: str, token_ids: Sequence[int]) -> np.ndarray:
    """Rows of the input embedding table: (N,) ids -> (N, D)."""
    ids = tuple(int(i) for i in token_ids)
    return _part(model_key, "rows", ids, compute=lambda: embeddings.input_embedding_rows(_loaded(model_key), ids))


def vocabulary_entries(model_key: str, token_ids: Sequence[int]) -> tuple[str, ...]:
    """The tokenizer's own spelling of each id (with the bytes where that spelling is a byte code)."""
    ids = tuple(int(i) for i in token_ids)
    return _part(model_key, "entries", ids,
                 compute=lambda: tuple(embeddings.vocabulary_entries(_loaded(model_key), ids)))


def typed_words(model_key: str, words: Sequence[str]) -> tuple[embeddings.TypedWord, ...]:
    """Typed words as the input embedding sees them (pieces, ids, mean row); empty words left out."""
    words = tuple(w.strip() for w in words)
    return _part(model_key, "typed", words, compute=lambda: tuple(
        w for w in (embeddings.typed_word(_loaded(model_key), word) for word in words) if w is not None))


def nearest_vocabulary(model_key: str, word: str, k: int) -> tuple[dict, ...]:
    """The k vocabulary entries whose input-embedding rows point most nearly like the typed word's."""
    from viz.similarity import nearest_rows

    def compute():
        loaded = _loaded(model_key)
        found = typed_words(model_key, [word])
        if not found:
            return ()
        matrix = embeddings.input_embedding_matrix(loaded)
        return tuple({"token": token_text.token_labels(loaded.tokenizer, [i])[0], "id": i, "cosine": round(score, 4)}
                     for i, score in nearest_rows(matrix, found[0].vector, k=k))
    return _part(model_key, "nearest", word.strip(), k, compute=compute)


def token_labels(model_key: str, token_ids: Sequence[int]) -> tuple[str, ...]:
    """Display labels of token ids (a lone byte piece as \\xNN, never '�')."""
    ids = tuple(int(i) for i in token_ids)
    return _part(model_key, "labels", ids, compute=lambda: tuple(token_text.token_labels(_loaded(model_key).tokenizer,
                                                                                          ids)))


def candidate_labels(model_key: str, context_ids: Sequence[int], candidate_ids: Sequence[int]) -> tuple[str, ...]:
    """Labels of candidate next tokens after a context (a byte piece completing a character shows the character)."""
    tail = tuple(int(i) for i in context_ids)[-token_text.MAX_CHARACTER_PIECES:]  # all a label can depend on
    candidates = tuple(int(i) for i in candidate_ids)
    return _part(model_key, "candidates", tail, candidates, compute=lambda: tuple(
        token_text.candidate_labels(_loaded(model_key).tokenizer, tail, candidates)))


def sequence_text(model_key: str, token_ids: Sequence[int]) -> str:
    """The text of a whole token sequence."""
    return token_text.sequence_text(_loaded(model_key).tokenizer, [int(i) for i in token_ids])


def split_text(model_key: str, text: str) -> token_text.TokenSplit:
    """How the model's tokenizer cuts `text` (special tokens included, cut to the model's limit)."""
    def compute():
        loaded = _loaded(model_key)
        return token_text.split_text(loaded.tokenizer, text, max_tokens=loaded.info.max_tokens)
    return _part(model_key, "split", text, compute=compute)


def special_token(model_key: str, which: str) -> tuple[int, str] | None:
    """(id, text) of the tokenizer's "start" (beginning-, else end-of-text), "end" or "mask" token, or None."""
    tokenizer = _loaded(model_key).tokenizer
    ids = {"start": [tokenizer.bos_token_id, tokenizer.eos_token_id], "end": [tokenizer.eos_token_id],
           "mask": [tokenizer.mask_token_id]}[which]
    token_id = next((int(i) for i in ids if i is not None), None)
    return None if token_id is None else (token_id, str(tokenizer.convert_ids_to_tokens(token_id)))


def can_fill_mask(model_key: str) -> bool:
    """Whether the encoder's checkpoint has a masked-LM head (it can fill in a blank)."""
    return fill_mask.masked_lm(_loaded(model_key)) is not None


def fill_mask_logits(model_key: str, token_ids: Sequence[int], position: int) -> np.ndarray:
    """Scores (V,) for the token at `position` hidden behind the mask token."""
    ids = tuple(int(i) for i in token_ids)

    def compute():
        loaded = _loaded(model_key)
        return fill_mask.fill_mask_logits(fill_mask.masked_lm(loaded), ids, position, loaded.tokenizer.mask_token_id)
    return _part(model_key, "fill", ids, position, compute=compute)


def position_table(model_key: str, n_positions: int) -> tuple[np.ndarray | None, int]:
    """(learned position rows (P, D) or None, how many positions the table holds)."""
    def compute():
        loaded = _loaded(model_key)
        return positions.learned_positions(loaded, n_positions), positions.position_table_size(loaded)
    return _part(model_key, "positions", n_positions, compute=compute)


def rotary(model_key: str) -> positions.RotaryInfo | None:
    """The rotary frequencies of a Llama-family model, or None."""
    return _part(model_key, "rotary", compute=lambda: positions.rotary_info(_loaded(model_key)))


def output_projection(model_key: str, layer: int) -> positions.OutputProjection:
    """Name and shape of a layer's output projection."""
    return _part(model_key, "projection", layer, compute=lambda: positions.output_projection(_loaded(model_key),
                                                                                               layer))


def project_heads(source: Analysis, layer: int, query: int, concatenated: np.ndarray) -> np.ndarray:
    """The output projection applied to the concatenated head outputs (H*d,) of one query: (D,)."""
    return shared("derived", (*_analysis_key(source), "projected", layer, query), lambda: positions.project_heads(
        _loaded(source.model.key), layer, concatenated))
