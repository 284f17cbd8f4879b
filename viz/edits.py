"""Change one word, see what moves: default edits, attention maps aligned across two token lists, their distance
per head, the shift of a next-token distribution and of a word's vector (pure numpy, no model).

Shapes: L layers, H heads, T tokens of the original, T' of the edited text, C aligned columns, V vocabulary.

Alignment (viz.attention_stats.align_tokens): equal tokens pair one to one; each differing stretch becomes ONE
column, e.g. "tired → narrow", or "∅ → very" for an inserted token and "very → ∅" for a removed one. An aligned
map sums the KEY weights of a column's tokens and averages the QUERY rows of its tokens (the app's whole-word
rule), so every row still sums to 1 on both sides and no renormalisation is needed: attention moved onto an
inserted token shows as weight on its column, which is 0 on the side without it. A column that is empty on one
side has no query row there: its row is NaN and left out of the distance. On a decoder the rows before the first
change cannot see it and are equal by construction, so the distance averages the rows from the first change on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

from viz.analysis import Analysis
from viz.attention_stats import AlignedColumn, align_tokens
from viz.compute import softmax
from viz.presets import PRESETS_BY_NAME
from viz.similarity import find_occurrences, first_per_sentence, similarity_across_layers, word_vectors

# The classic edit of each preset: (word, replacement). "tired" → "narrow" moves "it" from the animal to the street.
PRESET_EDITS = {
    "party (celebration)": ("graduation", "election"), "party (politics)": ("leader", "guest"),
    "it = animal": ("tired", "narrow"), "it = street": ("narrow", "tired"), "elephant": ("boat", "fridge"),
    "London": ("London", "Paris"), "Paris": ("Paris", "London"), "word order": ("clouds", "dogs"),
    "dog and boy": ("boy", "ball"), "Tom": ("cat", "dog"), "translation": ("吃饭", "睡觉"),
}
# For any other text: the last of these words found (in either direction) is swapped.
WORD_SWAPS = dict(re.findall(r"(\w+)/(\w+)", "tired/narrow he/she his/her him/her cat/dog boy/girl man/woman "
                                            "big/small good/bad hot/cold happy/sad day/night king/queen old/young"))
WORD_SWAPS |= {after: before for before, after in WORD_SWAPS.items()}
FUNCTION_WORDS = frozenset(re.findall(r"\w+", "a an the in on at of to by for with from and or but not is are was were "
                                                "be been it its this that these those i you we they my your our their"))
DECODER_FILLER = "something"  # a decoder has no mask token: its default edit puts this word in place of one
MAX_WORD_PAIRS = 250_000  # word_changes compares two differing middles word by word up to 500 × 500 words
MAX_SEGMENTS = 24  # above this many runs of lined-up tokens, head_changes gathers the aligned maps instead


@dataclass(frozen=True)
class Edit:
    """A proposed edit of a text: the edited text and one sentence saying what changed and why."""

    text: str
    description: str


def replace_word(text: str, word: str, replacement: str, *, last: bool = False) -> str | None:
    """`text` with the first (or last) whole-word `word` replaced; a plain substring where words are not spaced
    (Chinese); None when absent."""
    spans = [m.span() for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text)] or [
        m.span() for m in re.finditer(re.escape(word), text)]
    if not spans:
        return None
    start, end = spans[-1] if last else spans[0]
    return text[:start] + replacement + text[end:]


def default_edit(text: str, *, mask_token: str | None, keep: str = "") -> Edit:
    """The edit a box starts from: the preset's classic edit, else a word swap, else the last content word masked
    (encoder) or replaced by "something" (decoder). `keep` is a word never edited (the word a page follows)."""
    text, keep = text.strip(), keep.strip().lower()
    for name, (word, replacement) in PRESET_EDITS.items():
        preset = PRESETS_BY_NAME.get(name)
        if preset is not None and preset.text == text and word.lower() != keep:
            edited = replace_word(text, word, replacement)
            if edited is not None:
                return Edit(edited, f"“{word}” → “{replacement}”, this example's classic edit")
    words = [w for w in re.findall(r"\w+", text) if w.lower() != keep]
    for word in reversed(words):
        if word.lower() in WORD_SWAPS:
            swap = WORD_SWAPS[word.lower()]
            swap = swap.capitalize() if word[:1].isupper() else swap
            return Edit(replace_word(text, word, swap, last=True), f"“{word}” → “{swap}”, from the app's word swaps")
    if not words:
        return Edit(text, "no word to change")
    word = next((w for w in reversed(words) if w.lower() not in FUNCTION_WORDS), words[-1])  # a content word
    how = f"hidden behind the model's mask token {mask_token}" if mask_token else f"replaced by “{DECODER_FILLER}”"
    return Edit(replace_word(text, word, mask_token or DECODER_FILLER, last=True), f"the word “{word}” {how}")


def word_changes(original: str, edited: str) -> list[tuple[str, str]]:
    """The (before, after) stretches of text that differ, compared word by word (punctuation marks are words);
    "" where words were only added or only removed. Linear beyond a common start and end: a long middle that
    differs is one stretch (difflib on two different 20,000-character texts takes ~40 s)."""
    a, b = list(re.finditer(r"\w+|[^\w\s]", original)), list(re.finditer(r"\w+|[^\w\s]", edited))
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x[0] != y[0]), min(len(a), len(b)))
    end = next((i for i, (x, y) in enumerate(zip(reversed(a[start:]), reversed(b[start:]), strict=False))
                if x[0] != y[0]), min(len(a), len(b)) - start)
    a, b = a[start:len(a) - end], b[start:len(b) - end]

    def stretch(text: str, found: list[re.Match], first: int, last: int) -> str:
        return text[found[first].start():found[last - 1].end()] if last > first else ""
    if len(a) * len(b) > MAX_WORD_PAIRS:
        return [(stretch(original, a, 0, len(a)), stretch(edited, b, 0, len(b)))] if a or b else []
    matcher = SequenceMatcher(a=[m[0] for m in a], b=[m[0] for m in b], autojunk=False)
    return [(stretch(original, a, a0, a1), stretch(edited, b, b0, b1))
            for tag, a0, a1, b0, b1 in matcher.get_opcodes() if tag != "equal"]


def _reduce(weights: np.ndarray, columns: Sequence[AlignedColumn], side: str, axis: int, *, mean: bool,
            empty: float) -> np.ndarray:
    """Sum (or average) the positions of each column along `axis`; `empty` where a column has no position. Most
    columns hold one token: gathered in one step, only the longer ones summed (np.add.reduceat: 50-100x slower)."""
    spans = [getattr(column, side) for column in columns]
    full = [i for i, span in enumerate(spans) if span]
    moved = np.moveaxis(weights, axis, -1)
    out = np.full((*moved.shape[:-1], len(columns)), empty, dtype=weights.dtype)
    out[..., full] = moved[..., [spans[i][0] for i in full]]
    for i in (i for i in full if len(spans[i]) > 1):
        stretch = moved[..., spans[i][0]:spans[i][-1] + 1]  # a column's positions are consecutive
        out[..., i] = stretch.mean(axis=-1) if mean else stretch.sum(axis=-1)
    return np.moveaxis(out, -1, axis)


def aligned_attention(weights: np.ndarray, columns: Sequence[AlignedColumn], side: str) -> np.ndarray:
    """Attention on the aligned columns of side "a" or "b": (..., T, T) -> (..., C, C).

    Keys summed per column (0 where the column is empty on this side), queries averaged (NaN rows there)."""
    weights = np.asarray(weights, dtype=np.float32)
    keys = _reduce(weights, columns, side, -1, mean=False, empty=0.0)
    return _reduce(keys, columns, side, -2, mean=True, empty=np.nan)


def row_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Total variation distance ½·Σ|a − b| of each row: (..., C, C) twice -> (..., C) in [0, 1], NaN rows kept."""
    return 0.5 * np.abs(np.asarray(b, dtype=np.float64) - a).sum(axis=-1)


@dataclass(frozen=True, eq=False)
class HeadChanges:
    """How much each head's attention changed between two texts.

    distance (L, H): mean over the compared query columns of the rows' total variation distance (0 = same, 1 = no
    overlap); query (L, H) int: the column whose row changed most, query_distance (L, H) its distance;
    columns: the C aligned columns; compared (C,) bool: the query columns compared (a row on both sides, and on a
    decoder at or after the first change).
    """

    distance: np.ndarray
    query: np.ndarray
    query_distance: np.ndarray
    columns: tuple[AlignedColumn, ...]
    compared: np.ndarray

    def ranked(self) -> list[tuple[int, int]]:
        """(layer, head) pairs, most changed first (ties: lower layer, then lower head)."""
        order = np.argsort(-self.distance, axis=None, kind="stable")
        return [tuple(int(i) for i in np.unravel_index(flat, self.distance.shape)) for flat in order]


@dataclass(frozen=True)
class _Segment:
    """Aligned columns c0:c1, their positions on each side (None: empty); run: one token per column on both sides."""

    columns: slice
    a: slice | None
    b: slice | None
    run: bool


def _segments(columns: Sequence[AlignedColumn]) -> list[_Segment]:
    segments: list[_Segment] = []
    for i, column in enumerate(columns):
        one_to_one = len(column.a) == 1 and len(column.b) == 1
        last = segments[-1] if segments else None
        if one_to_one and last and last.run and last.a.stop == column.a[0] and last.b.stop == column.b[0]:
            segments[-1] = _Segment(slice(last.columns.start, i + 1), slice(last.a.start, column.a[0] + 1),
                                    slice(last.b.start, column.b[0] + 1), True)
        else:
            segments.append(_Segment(slice(i, i + 1), slice(column.a[0], column.a[-1] + 1) if column.a else None,
                                     slice(column.b[0], column.b[-1] + 1) if column.b else None, one_to_one))
    return segments


def _part(weights: np.ndarray, segment: _Segment, side: str, axis: int) -> np.ndarray:
    """A segment's slice of (H, R, T) weights along `axis` (-1 keys: summed per column; -2 queries: averaged)."""
    span = getattr(segment, side)
    if span is None:
        return np.zeros((*weights.shape[:-1], 1), dtype=weights.dtype)  # only keys reach here: no weight on it
    part = weights[..., span] if axis == -1 else weights[:, span]
    return part if segment.run else (part.sum(axis, keepdims=True) if axis == -1 else part.mean(axis, keepdims=True))


def _layer_row_distances(a: np.ndarray, b: np.ndarray, segments: Sequence[_Segment], wanted: np.ndarray) -> np.ndarray:
    """Total variation of every wanted aligned query row of one layer: (H, T, T), (H, T', T') -> (H, C), NaN
    elsewhere. Slices of the maps, never a gathered copy: ~40x faster than aligned_attention at 512 tokens."""
    out = np.full((a.shape[0], len(wanted)), np.nan)
    for query in segments:
        if query.a is None or query.b is None or not wanted[query.columns].any():
            continue
        rows_a, rows_b = _part(a, query, "a", -2), _part(b, query, "b", -2)
        out[:, query.columns] = 0.5 * sum(np.abs(_part(rows_a, key, "a", -1) - _part(rows_b, key, "b", -1)).sum(-1)
                                          for key in segments)
    return out


def head_changes(attentions_a: np.ndarray, attentions_b: np.ndarray, tokens_a: Sequence[str],
                 tokens_b: Sequence[str], *, causal: bool = False) -> HeadChanges:
    """Distances between the aligned maps of every head: attentions (L, H, T, T) and (L, H, T', T')."""
    columns = tuple(align_tokens(tokens_a, tokens_b))
    compared = np.array([bool(c.a) and bool(c.b) for c in columns])
    if causal:  # a decoder's rows before the first change cannot see it: equal by construction, left out
        compared[:next((i for i, c in enumerate(columns) if c.changed), len(columns))] = False
    if not compared.any():  # e.g. a decoder's text with its last token removed: compare every shared row
        compared[:] = [bool(c.a) and bool(c.b) for c in columns]
    segments = _segments(columns)
    n_layers, n_heads = attentions_a.shape[:2]
    distance, query_distance = np.zeros((n_layers, n_heads)), np.zeros((n_layers, n_heads))
    query = np.zeros((n_layers, n_heads), dtype=int)
    for layer in range(n_layers):  # one layer at a time keeps temporaries small at 512 tokens; float32, not float16
        a, b = np.asarray(attentions_a[layer], dtype=np.float32), np.asarray(attentions_b[layer], dtype=np.float32)
        if len(segments) <= MAX_SEGMENTS:
            rows = _layer_row_distances(a, b, segments, compared)
        else:  # texts that differ in many places: many small slices would cost more than one gathered copy
            rows = row_distances(aligned_attention(a, columns, "a"), aligned_attention(b, columns, "b"))
        rows = rows[:, compared]  # (H, compared)
        distance[layer] = rows.mean(axis=-1)
        best = rows.argmax(axis=-1)
        query[layer] = np.flatnonzero(compared)[best]
        query_distance[layer] = rows[np.arange(n_heads), best]
    return HeadChanges(distance, query, query_distance, columns, compared)


def head_change_table(changes: HeadChanges, *, decimals: int = 3) -> pd.DataFrame:
    """One row per (layer, head), most changed first: its distance and the query whose row moved most."""
    ranked = changes.ranked()
    return pd.DataFrame({
        "layer": [layer for layer, _ in ranked],
        "head": [head for _, head in ranked],
        "change": [round(float(changes.distance[p]), decimals) for p in ranked],
        "most changed query": [changes.columns[changes.query[p]].label for p in ranked],
        "its change": [round(float(changes.query_distance[p]), decimals) for p in ranked],
    })


def difference_map(weights_a: np.ndarray, weights_b: np.ndarray, columns: Sequence[AlignedColumn], *,
                   causal: bool = False) -> np.ndarray:
    """Edited − original attention of one head on the aligned columns: (T, T), (T', T') -> (C, C).

    NaN rows where a column has no query on one side; on a decoder NaN above the diagonal (a later column)."""
    difference = aligned_attention(weights_b, columns, "b") - aligned_attention(weights_a, columns, "a")
    if causal:
        difference[np.triu_indices(len(columns), k=1)] = np.nan
    return difference


def kl_bits(p: np.ndarray, q: np.ndarray) -> float:
    """Kullback–Leibler divergence KL(p ‖ q) = Σ p log2(p / q) in bits (0 log 0 = 0; inf where q = 0 < p)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    held = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[held] * (np.log2(p[held]) - np.log2(q[held]))))


@dataclass(frozen=True, eq=False)
class DistributionShift:
    """Two next-token distributions compared: token_ids (N,) the union of both top lists (before's order first),
    before (N,) and after (N,) their probabilities; kl_bits KL(before ‖ after); top_before, top_after the argmax ids."""

    token_ids: np.ndarray
    before: np.ndarray
    after: np.ndarray
    kl_bits: float
    top_before: int
    top_after: int


def distribution_shift(logits_before: np.ndarray, logits_after: np.ndarray, *, count: int = 5) -> DistributionShift:
    """Compare next-token distributions (temperature 1) from two logit vectors (V,) on their `count` top tokens."""
    p, q = softmax(logits_before), softmax(logits_after)  # float64
    top_p, top_q = np.argsort(-p, kind="stable")[:count], np.argsort(-q, kind="stable")[:count]
    ids = np.array(list(dict.fromkeys([*top_p.tolist(), *top_q.tolist()])), dtype=int)
    return DistributionShift(ids, p[ids], q[ids], max(kl_bits(p, q), 0.0), int(top_p[0]), int(top_q[0]))


def sense_curves(original: Analysis, edited: Analysis, others: Sequence[Analysis], word: str) -> dict[str, np.ndarray]:
    """The followed word's cosine by layer (L+1,): in the text vs in the edited text, and against its first use in
    each other sentence before and after the edit. Keys "edit", ("before", i) and ("after", i) for other sentence i
    (numbered from 0 in `others`); empty when the text or the edited text lacks the word."""
    first = first_per_sentence(find_occurrences([original, edited, *others], word))
    if 0 not in first or 1 not in first:
        return {}
    mine, theirs = (word_vectors(a.hidden_states, first[i].positions) for i, a in ((0, original), (1, edited)))
    curves = {"edit": similarity_across_layers(mine, theirs)}
    for index, other in enumerate(others):
        if index + 2 in first:
            vector = word_vectors(other.hidden_states, first[index + 2].positions)
            curves[("before", index)] = similarity_across_layers(mine, vector)
            curves[("after", index)] = similarity_across_layers(theirs, vector)
    return curves
