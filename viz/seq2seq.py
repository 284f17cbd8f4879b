"""The encoder–decoder analysis type (translation) and the pure computations the Translation page draws from it.

Shapes: Le encoder layers, Ld decoder layers, He encoder heads, H decoder heads, S source tokens, T decoder
positions, D width, K candidate next tokens. Decoder position t reads target token t (position 0 the start token)
and writes (predicts) output token t; the cross-attention row t is what position t read of the source while
writing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viz.analysis import ModelInfo

SEQ2SEQ = "encoder-decoder"  # ModelInfo.kind of an encoder–decoder model
PENDING = -1  # output_ids entry of the last position when its token is not chosen yet
MEAN = "mean of the layer's heads"


def is_seq2seq(info: ModelInfo) -> bool:
    return info.kind == SEQ2SEQ


@dataclass(frozen=True, eq=False)
class Seq2SeqAnalysis:
    """One forward pass of an encoder–decoder over a source text and a target prefix.

    source_ids (S,), encoder_attentions (Le, He, S, S), encoder_hidden_states (Le+1, S, D) with index 0 the
    embeddings and the last the encoder output the cross-attention reads; target_ids (T,) the decoder's inputs
    (start token first), decoder_attentions (Ld, H, T, T) (masked: zero above the diagonal),
    cross_attentions (Ld, H, T, S), decoder_hidden_states (Ld+1, T, D); output_ids (T,) the token each position
    wrote (PENDING for the newest position when nothing is chosen yet), output_probabilities (T,) the model's
    probability of it (of its top candidate when pending); next_ids (K,) and next_probabilities (K,) the most
    probable tokens after the last position.
    """

    model: ModelInfo
    source_text: str
    source_tokens: tuple[str, ...]
    source_ids: np.ndarray
    target_tokens: tuple[str, ...]
    target_ids: np.ndarray
    output_tokens: tuple[str, ...]
    output_ids: np.ndarray
    output_probabilities: np.ndarray
    encoder_attentions: np.ndarray
    decoder_attentions: np.ndarray
    cross_attentions: np.ndarray
    encoder_hidden_states: np.ndarray
    decoder_hidden_states: np.ndarray
    next_ids: np.ndarray
    next_probabilities: np.ndarray
    next_tokens: tuple[str, ...]
    forced: bool = False  # True when the target is a translation the user typed, not the model's own
    finished: bool = False  # True when the output ends with the end-of-text token
    dropped_tokens: int = 0
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n_source, n_target = len(self.source_tokens), len(self.target_tokens)
        n_enc, n_heads_enc = self.encoder_attentions.shape[:2]
        n_dec, n_heads = self.model.n_layers, self.model.n_heads
        width, n_next = self.model.width, len(self.next_tokens)
        expected = {
            "source_ids": (self.source_ids, (n_source,)),
            "encoder_attentions": (self.encoder_attentions, (n_enc, n_heads_enc, n_source, n_source)),
            "encoder_hidden_states": (self.encoder_hidden_states, (n_enc + 1, n_source, width)),
            "target_ids": (self.target_ids, (n_target,)),
            "output_ids": (self.output_ids, (n_target,)),
            "output_probabilities": (self.output_probabilities, (n_target,)),
            "decoder_attentions": (self.decoder_attentions, (n_dec, n_heads, n_target, n_target)),
            "cross_attentions": (self.cross_attentions, (n_dec, n_heads, n_target, n_source)),
            "decoder_hidden_states": (self.decoder_hidden_states, (n_dec + 1, n_target, width)),
            "next_ids": (self.next_ids, (n_next,)),
            "next_probabilities": (self.next_probabilities, (n_next,)),
        }
        for name, (array, shape) in expected.items():
            if array.shape != shape:
                raise ValueError(f"{name} has shape {array.shape}, expected {shape}")
        if len(self.output_tokens) != n_target:
            raise ValueError("output_tokens must have one entry per decoder position")
        for array, _ in expected.values():
            array.setflags(write=False)

    @property
    def n_source(self) -> int:
        return len(self.source_tokens)

    @property
    def n_target(self) -> int:
        return len(self.target_tokens)

    @property
    def encoder_layers(self) -> int:
        return int(self.encoder_attentions.shape[0])

    @property
    def generated(self) -> tuple[int, ...]:
        """The output token ids chosen so far (the pending position left out)."""
        return tuple(int(i) for i in self.output_ids if i != PENDING)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.encoder_attentions, self.decoder_attentions, self.cross_attentions,
                                      self.encoder_hidden_states, self.decoder_hidden_states))


def cross_map(analysis: Seq2SeqAnalysis, *, layer: int, head: int | None) -> np.ndarray:
    """Cross-attention (T, S) of one head, or the mean of the layer's heads when head is None."""
    weights = analysis.cross_attentions[layer]
    return weights.mean(axis=0) if head is None else weights[head]


def newest_row(analysis: Seq2SeqAnalysis) -> int:
    """The position that wrote the newest chosen output token (the pending position when none is chosen yet)."""
    chosen = [t for t in range(analysis.n_target) if analysis.output_ids[t] != PENDING]
    return chosen[-1] if chosen else analysis.n_target - 1


def row_labels(analysis: Seq2SeqAnalysis) -> list[str]:
    """A label per decoder position: the output token it wrote, '?' marking the one not chosen yet."""
    return [f"{t}: → {token}" if analysis.output_ids[t] != PENDING else f"{t}: → ? ({token})"
            for t, token in enumerate(analysis.output_tokens)]


def decoder_input_ids(start_id: int, outputs: tuple[int, ...], end_id: int | None) -> tuple[int, ...]:
    """The decoder's inputs for output tokens so far: the start token, then every output but a final end token.

    (A finished output's last position wrote the end token; nothing reads it back.)
    """
    finished = bool(outputs) and end_id is not None and outputs[-1] == end_id
    return (start_id, *(outputs[:-1] if finished else outputs))


def strongest_source(weights: np.ndarray, count: int = 3) -> np.ndarray:
    """Positions of the `count` largest weights of one row (S,), strongest first."""
    order = np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    return order[:max(0, min(count, len(order)))]


def head_alignment(scores: np.ndarray) -> tuple[int, int, float]:
    """(layer, head, score) of the best-scoring head of an (Ld, H) score table."""
    scores = np.asarray(scores, dtype=np.float64)
    layer, head = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(layer), int(head), float(scores[layer, head])
