"""The one analysis type every page and figure reads: plain numpy arrays with named shapes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ENCODER = "encoder"
CAUSAL = "causal"
# Analyses keep attention weights as float16 (half of float32's memory: 138 MB, not 276, for the bundled decoder at
# 506 tokens). Each kept weight is within this fraction of the model's float32 weight (2.4e-4 at most, since weights
# are at most 1), so a recomputation compared with kept weights agrees to about that, not to float32's 1e-7.
STORED_ATTENTION_ERROR = 2.0**-11


@dataclass(frozen=True)
class ModelInfo:
    """What a page needs to know about the loaded model, without touching torch."""

    key: str  # registry key, e.g. "bundled:minilm" or "gpt2"
    name: str  # human name shown on the page
    family: str  # "bert", "distilbert", "gpt2" or "llama"
    kind: str  # ENCODER or CAUSAL
    n_layers: int
    n_heads: int  # query heads per layer
    n_kv_heads: int  # key/value heads per layer (fewer than n_heads with grouped-query attention)
    head_dim: int  # d, the width of one head
    width: int  # D, the hidden size
    vocab_size: int
    max_tokens: int  # longest input the app analyses with this model
    special_tokens: tuple[str, ...] = ()

    @property
    def is_causal(self) -> bool:
        return self.kind == CAUSAL


@dataclass(frozen=True, eq=False)
class Analysis:
    """One forward pass over one input.

    Shapes: L layers, H heads, T tokens, D width, V vocabulary.
    token_ids (T,), special (T,) bool, attentions (L, H, T, T) rows summing to 1, float16 as analyze() keeps them
    for sharing (within STORED_ATTENTION_ERROR of the model's weights; convert a layer or head to float32 before
    doing arithmetic on it) or float32 when asked for, hidden_states (L+1, T, D) float32 with index 0 the input
    embeddings. Next-token scores are not kept here (T x V floats, ~100 MB at 512 tokens for the decoder): the
    Next-token page computes what it shows.
    """

    model: ModelInfo
    text: str
    text_pair: str | None
    tokens: tuple[str, ...]  # display text of each token
    token_ids: np.ndarray
    word_ids: tuple[int | None, ...]  # index of the word each token belongs to; None for special tokens
    special: np.ndarray
    attentions: np.ndarray
    hidden_states: np.ndarray
    sentence_b_start: int | None = None  # first token of the second sentence, in pair mode
    dropped_tokens: int = 0  # tokens cut off because the input was longer than model.max_tokens
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n_layers, n_heads, n_tokens = self.model.n_layers, self.model.n_heads, len(self.tokens)
        expected = {
            "token_ids": (self.token_ids, (n_tokens,)),
            "special": (self.special, (n_tokens,)),
            "attentions": (self.attentions, (n_layers, n_heads, n_tokens, n_tokens)),
            "hidden_states": (self.hidden_states, (n_layers + 1, n_tokens, self.model.width)),
        }
        for name, (array, shape) in expected.items():
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
        if len(self.word_ids) != n_tokens:
            raise ValueError("word_ids must have one entry per token")
        for array in (self.token_ids, self.special, self.attentions, self.hidden_states):
            array.setflags(write=False)

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def nbytes(self) -> int:
        arrays = (self.token_ids, self.special, self.attentions, self.hidden_states)
        return sum(a.nbytes for a in arrays)

    def find_token(self, word: str, occurrence: int = 0) -> int | None:
        """Index of the first token of `word` (case-insensitive), or None when absent."""
        wanted = word.strip().lower()
        hits = [i for i, t in enumerate(self.tokens) if t.strip().lower().removeprefix("##") == wanted]
        return hits[occurrence] if len(hits) > occurrence else None


@dataclass(frozen=True, eq=False)
class QKV:
    """Query, key and value vectors of one layer, as they meet in softmax(q·k * scale + mask).

    Shapes: H query heads, T tokens, d head width.
    queries (H, T, d) and keys (H, T, d) after any rotary position embedding; values (H, T, d);
    keys and values are already repeated to line up with query heads; kv_head (H,) says which
    key/value head each query head reads. mask (T, T) is 0 where attention is allowed, -inf where masked.
    """

    layer: int
    queries: np.ndarray
    keys: np.ndarray
    values: np.ndarray
    kv_head: np.ndarray
    scale: float
    mask: np.ndarray
    rotary: bool  # True when queries and keys carry rotary position embedding
