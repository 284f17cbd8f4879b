"""Word-sense computations: finding words in analyses, cosine maps within/across sentences and layers, neighbours.

Pure numpy/scikit-learn (no torch, no streamlit). Shapes: L layers, T tokens, D width, V vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import cosine_similarity

from viz.analysis import Analysis
from viz.compute import cosine_matrix

# Seed 000's toy 4-number "embeddings" (car is the same vector as cat there, on purpose or not).
TOY_VECTORS: dict[str, tuple[float, ...]] = {
    "cat": (0.5, 0.3, -0.1, 0.9),
    "dog": (0.6, 0.4, -0.2, 0.8),
    "car": (0.5, 0.3, -0.1, 0.9),
    "banana": (0.1, -0.8, 0.2, 0.4),
}
FLOAT32_BYTES = 4

LAYER_ZERO = {
    "bert": "the embedding layer's output: the token's row of the word-embedding table plus a position embedding "
            "and a segment (token-type) embedding, then LayerNorm. The same word at the same position gives the "
            "same vector; at another position it differs a little.",
    "distilbert": "the embedding layer's output: the token's row of the word-embedding table plus a position "
                  "embedding, then LayerNorm. The same word at another position differs a little.",
    "gpt2": "the token's row of the word-embedding table plus a learned position embedding. The same word at "
            "another position differs a little.",
    "llama": "the token's row of the word-embedding table and nothing else: this model adds position inside "
             "attention (rotary embedding), so the same token has exactly the same layer-0 vector anywhere.",
}


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a word: which sentence, how it is written there, which token positions hold its pieces."""

    sentence: int
    word: str
    positions: tuple[int, ...]


def sentence_label(index: int, sentences: Sequence[str], limit: int = 45) -> str:
    """'S2: the sentence', shortened to `limit` characters."""
    text = sentences[index]
    return f"S{index + 1}: {text if len(text) <= limit else text[: limit - 1] + '…'}"


def closest_question(name: str, reference: int, by_layer: Mapping[int, Sequence[float]],
                     sentences: Sequence[str]) -> dict:
    """Predict-then-reveal for the per-layer chart: where is the word (quoted `name`) closest to the reference's?

    by_layer maps a sentence index to the word's cosine with the reference sentence's word, layer by layer."""
    last = {i: values[-1] for i, values in by_layer.items()}
    if len(last) == 1:
        ((other, values),) = by_layer.items()
        return {"question": f"Compared with layer 1, is {name} in S{other + 1} more or less like {name} in "
                            f"S{reference + 1} at the last layer?", "key": "sim_reveal",
                "options": ["more alike", "less alike"],
                "answer": "less alike" if values[-1] < values[1] else "more alike"}
    return {"question": f"At the last layer, in which sentence is {name} most like {name} in S{reference + 1}?",
            "key": "sim_reveal", "options": [sentence_label(i, sentences) for i in last],
            "answer": sentence_label(max(last, key=last.get), sentences)}


def layer_zero_note(family: str) -> str:
    """What hidden_states[0] is for a model family, in one or two sentences."""
    return LAYER_ZERO.get(family, "the input embeddings, before the first transformer layer.")


def piece_text(token: str) -> str:
    """A token's text without the WordPiece '##' marker or surrounding spaces."""
    return token.strip().removeprefix("##")


def words(tokens: Sequence[str], word_ids: Sequence[int | None]) -> list[tuple[str, tuple[int, ...]]]:
    """The words of one analysis in order: (word text, positions of its pieces); special tokens are skipped."""
    spans: dict[int, list[int]] = {}
    for position, word_id in enumerate(word_ids):
        if word_id is not None:
            spans.setdefault(word_id, []).append(position)
    return [("".join(_joined_piece(tokens[p]) for p in positions), tuple(positions)) for positions in spans.values()]


def token_table(tokens: Sequence[str], word_ids: Sequence[int | None], special: Sequence[bool]) -> pd.DataFrame:
    """One row per token: the token, the word it belongs to, which piece of that word it is, and whether special."""
    word_of = {p: (w, len(positions), k) for w, positions in words(tokens, word_ids) for k, p in enumerate(positions)}
    return pd.DataFrame({
        "token": list(tokens),
        "word": [word_of[p][0] if p in word_of else "" for p in range(len(tokens))],
        "piece": [f"{word_of[p][2] + 1} of {word_of[p][1]}" if p in word_of else "" for p in range(len(tokens))],
        "special": ["✓ special" if s else "" for s in special],
    }).rename_axis("position")


def _joined_piece(token: str) -> str:
    """A piece's share of its word's text: a character split over byte pieces ('吃(1/2)', '吃(2/2)') counts once."""
    text = piece_text(token)
    if match := re.fullmatch(r"(.+)\((\d)/(\d)\)", text):
        return match[1] if match[2] == "1" else ""
    return text


def find_occurrences(analyses: Sequence[Analysis], word: str) -> list[Occurrence]:
    """Every occurrence of word (case-insensitive, whole words, pieces joined) in every analysis."""
    wanted = word.strip().lower()
    return [
        Occurrence(index, text, positions)
        for index, analysis in enumerate(analyses)
        for text, positions in words(analysis.tokens, analysis.word_ids)
        if wanted and text.lower() == wanted
    ]


def sentences_without(analyses: Sequence[Analysis], occurrences: Sequence[Occurrence]) -> list[int]:
    """Indices of the analyses that hold no occurrence."""
    found = {occurrence.sentence for occurrence in occurrences}
    return [index for index in range(len(analyses)) if index not in found]


def first_per_sentence(occurrences: Sequence[Occurrence]) -> dict[int, Occurrence]:
    """The first occurrence in each sentence, keyed by sentence index."""
    first: dict[int, Occurrence] = {}
    for occurrence in occurrences:
        first.setdefault(occurrence.sentence, occurrence)
    return first


def word_vectors(hidden_states: np.ndarray, positions: Sequence[int]) -> np.ndarray:
    """A word's vector at every layer, the mean of its pieces: hidden_states (L+1, T, D) -> (L+1, D)."""
    return hidden_states[:, list(positions)].astype(np.float64).mean(axis=1)


def similarity_across_layers(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of two words' vectors layer by layer: (L+1, D), (L+1, D) -> (L+1,)."""
    return np.diagonal(cosine_matrix(a, b)).copy()


def word_similarity_by_layer(analyses: Sequence[Analysis], occurrences: Sequence[Occurrence],
                             reference: int) -> dict[int, np.ndarray]:
    """Cosine by layer of the word in sentence `reference` against its first occurrence in every other sentence.

    Returns {other sentence index: (L+1,)}; empty when the reference sentence lacks the word.
    """
    first = first_per_sentence(occurrences)
    if reference not in first:
        return {}
    anchor = word_vectors(analyses[reference].hidden_states, first[reference].positions)
    return {
        index: similarity_across_layers(anchor, word_vectors(analyses[index].hidden_states, occurrence.positions))
        for index, occurrence in first.items() if index != reference
    }


def token_similarity(hidden_states: np.ndarray, layer: int) -> np.ndarray:
    """Token x token cosine within one sentence at one layer: (L+1, T, D) -> (T, T)."""
    return cosine_matrix(hidden_states[layer])


def cross_similarity(states_a: np.ndarray, states_b: np.ndarray, layer: int) -> np.ndarray:
    """Every token of sentence A against every token of sentence B at one layer: -> (Ta, Tb)."""
    return cosine_matrix(states_a[layer], states_b[layer])


def nearest_tokens(analyses: Sequence[Analysis], occurrence: Occurrence, layer: int, *, k: int = 10,
                   skip_special: bool = True) -> list[dict]:
    """The k tokens of all analyses most similar (cosine) to an occurrence's vector at one layer, itself excluded."""
    query = word_vectors(analyses[occurrence.sentence].hidden_states[layer:layer + 1], occurrence.positions)
    rows = []
    for index, analysis in enumerate(analyses):
        scores = cosine_matrix(query, analysis.hidden_states[layer])[0]  # (T,)
        for position, score in enumerate(scores):
            itself = index == occurrence.sentence and position in occurrence.positions
            if itself or (skip_special and analysis.special[position]):
                continue
            rows.append({"cosine": float(score), "token": analysis.tokens[position], "sentence": index + 1,
                         "position": position, "same word": piece_text(analysis.tokens[position]).lower()
                         == occurrence.word.lower()})
    rows.sort(key=lambda row: -row["cosine"])
    return [{"rank": rank + 1, **row} for rank, row in enumerate(rows[:k])]


def toy_cosine(vectors: Mapping[str, Sequence[float]]) -> np.ndarray:
    """Cosine of every pair of named vectors with scikit-learn's cosine_similarity, as in seed 000: (N, N)."""
    return cosine_similarity(np.array([list(v) for v in vectors.values()], dtype=np.float64))


def parse_vector_rows(rows: Sequence[Sequence]) -> tuple[dict[str, tuple[float, ...]], list[str]]:
    """Turn edited table rows [word, x1, x2, …] into {word: vector}; returns (vectors, problems found)."""
    vectors, problems = {}, []
    for row in rows:
        name = str(row[0]).strip() if row and row[0] is not None else ""
        if not name or name.lower() == "nan":
            continue
        try:
            values = tuple(float(x) for x in row[1:])
        except (TypeError, ValueError):
            problems.append(f"'{name}' has a value that is not a number.")
            continue
        if any(not np.isfinite(v) for v in values):
            problems.append(f"'{name}' has an empty or infinite value.")
        elif not any(values):
            problems.append(f"'{name}' is all zeros, so it has no direction and no cosine.")
        elif name in vectors:
            problems.append(f"'{name}' appears twice; the first row is used.")
        else:
            vectors[name] = values
    return vectors, problems


def one_hot_cost(vocab_size: int, width: int, n_tokens: int, bytes_per_number: int = FLOAT32_BYTES) -> dict:
    """Numbers and bytes needed for one-hot (V wide) versus dense (D wide) vectors, for the vocabulary and a text."""
    return {
        "vocab_one_hot_numbers": vocab_size * vocab_size,
        "vocab_dense_numbers": vocab_size * width,
        "vocab_one_hot_bytes": vocab_size * vocab_size * bytes_per_number,
        "vocab_dense_bytes": vocab_size * width * bytes_per_number,
        "text_one_hot_numbers": n_tokens * vocab_size,
        "text_dense_numbers": n_tokens * width,
        "ratio": vocab_size / width,
        "one_hot_zero_share": (vocab_size - 1) / vocab_size,
    }


def human_bytes(size: float) -> str:
    """Bytes as a short readable string (decimal units): 3.7 GB, 47 MB."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"


def nearest_rows(matrix: np.ndarray, query: np.ndarray, *, k: int = 10, chunk: int = 8192) -> list[tuple[int, float]]:
    """Indices and cosines of the k rows of matrix (V, D) nearest to query (D,), in chunks to bound memory."""
    scores = np.concatenate([cosine_matrix(query[None], matrix[start:start + chunk])[0]
                             for start in range(0, len(matrix), chunk)])
    top = np.argsort(-scores)[:k]
    return [(int(i), float(scores[i])) for i in top]
