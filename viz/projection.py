"""Projecting hidden states to 2-D/3-D layer by layer (PCA, t-SNE) and measuring how well word senses separate.

Pure numpy/scikit-learn. Shapes: L layers, N points (tokens or sentences), D width, k output dimensions.

Basis choice: every vector is first scaled to length 1 (the geometry cosine similarity sees), then PCA is
fitted separately at each layer, and each axis is flipped if needed to point the same way as at the layer
before. Hidden-state lengths change by orders of magnitude across layers (a decoder's first token reaches
lengths in the tens of thousands), so one shared basis would show most layers as a single dot; per-layer
axes show each layer's own best view, and the sign alignment keeps the animation from jumping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score

from viz.analysis import Analysis
from viz.similarity import Occurrence, find_occurrences, word_vectors

# Up to this many points one numpy SVD per layer is faster than scikit-learn's PCA (its checks and ARPACK cost
# ~2 ms a layer: 31 layers of a 10-token sentence took 0.05 s, the SVDs 0.01 s)
SMALL_PCA_POINTS = 64


@dataclass(frozen=True, eq=False)
class Points:
    """Vectors to project, with what each one is. states (L+1, N, D); the other fields have N entries."""

    states: np.ndarray
    sentence: np.ndarray  # (N,) index of the sentence each point comes from
    token: tuple[str, ...]  # token (or word) text
    position: np.ndarray  # (N,) token position in its sentence
    highlight: np.ndarray  # (N,) bool, True for the chosen word
    label: tuple[str, ...] = ()  # sense label per point, when known


@dataclass(frozen=True, eq=False)
class Projection:
    """Coordinates per layer and the share of variance each axis explains: coords (L+1, N, k), explained (L+1, k)."""

    coords: np.ndarray
    explained: np.ndarray


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each vector along the last axis scaled to length 1 (zero vectors stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def token_points(analyses: Sequence[Analysis], occurrences: Sequence[Occurrence], *,
                 skip_special: bool = True) -> Points:
    """Every token of every analysis as a point, occurrences of the chosen word highlighted."""
    chosen = {(o.sentence, p) for o in occurrences for p in o.positions}
    states, sentence, token, position = [], [], [], []
    for index, analysis in enumerate(analyses):
        keep = [p for p in range(analysis.n_tokens) if not (skip_special and analysis.special[p])]
        states.append(analysis.hidden_states[:, keep])
        sentence += [index] * len(keep)
        token += [analysis.tokens[p] for p in keep]
        position += keep
    return Points(
        states=np.concatenate(states, axis=1), sentence=np.array(sentence), token=tuple(token),
        position=np.array(position),
        highlight=np.array([(s, p) in chosen for s, p in zip(sentence, position, strict=True)], dtype=bool),
    )


def occurrence_points(analyses: Sequence[Analysis], occurrences: Sequence[Occurrence],
                      labels: Sequence[str] = ()) -> Points:
    """One point per occurrence (its pieces averaged); labels, if given, are per sentence."""
    states = np.stack([word_vectors(analyses[o.sentence].hidden_states, o.positions) for o in occurrences], axis=1)
    return Points(
        states=states, sentence=np.array([o.sentence for o in occurrences]),
        token=tuple(o.word for o in occurrences), position=np.array([o.positions[0] for o in occurrences]),
        highlight=np.ones(len(occurrences), dtype=bool),
        label=tuple(labels[o.sentence] for o in occurrences) if labels else (),
    )


def pca_layer(vectors: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA of unit-length vectors (N, D) -> coordinates (N, k) and explained variance ratios (k,)."""
    vectors = unit_rows(vectors)
    n_points = len(vectors)
    usable = min(n_components, n_points - 1, vectors.shape[1])
    coords = np.zeros((n_points, n_components))
    explained = np.zeros(n_components)
    if usable >= 1 and np.ptp(vectors, axis=0).max() > 1e-9 and n_points <= SMALL_PCA_POINTS:
        coords[:, :usable], explained[:usable] = _pca_by_svd(vectors, usable)
    elif usable >= 1 and np.ptp(vectors, axis=0).max() > 1e-9:
        # ARPACK finds just the few axes wanted: about 30x faster than a full SVD at 500 tokens, same result
        solver = "arpack" if usable < min(vectors.shape) else "full"
        pca = PCA(n_components=usable, svd_solver=solver, random_state=0).fit(vectors)
        coords[:, :usable] = pca.transform(vectors)
        explained[:usable] = pca.explained_variance_ratio_
    return coords, explained


def _pca_by_svd(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's PCA result from one numpy SVD, with its sign rule (svd_flip, u_based_decision=False): the
    largest-magnitude entry of each axis is positive. (N, D) -> coordinates (N, k), explained variance ratios (k,)."""
    centred = vectors - vectors.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)  # axes (min(N, D), D)
    signs = np.sign(axes[np.arange(len(axes)), np.argmax(np.abs(axes), axis=1)])
    axes = axes[:k] * np.where(signs[:k] == 0, 1.0, signs[:k])[:, None]
    variance = singular**2
    return centred @ axes.T, variance[:k] / variance.sum()


def pca_over_layers(states: np.ndarray, n_components: int = 2) -> Projection:
    """Per-layer PCA with axes sign-aligned to the previous layer: states (L+1, N, D) -> Projection."""
    coords, explained = [], []
    for layer_states in states:
        layer_coords, layer_explained = pca_layer(layer_states, n_components)
        if coords:
            flip = np.sum(layer_coords * coords[-1], axis=0) < 0  # (k,) axes pointing the other way
            layer_coords[:, flip] *= -1
        coords.append(layer_coords)
        explained.append(layer_explained)
    return Projection(np.stack(coords), np.stack(explained))


def tsne_layer(vectors: np.ndarray, *, seed: int, n_components: int = 2) -> np.ndarray:
    """t-SNE of unit-length vectors (N, D) -> (N, k), with cosine distances and a fixed random seed."""
    n_points = len(vectors)
    if n_points < 4:
        raise ValueError("t-SNE needs at least 4 points.")
    perplexity = float(min(30.0, max(2.0, (n_points - 1) / 3)))
    tsne = TSNE(n_components=n_components, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed, max_iter=500)
    return tsne.fit_transform(unit_rows(vectors))


def separation_by_layer(states: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """How well labelled senses separate at each layer: states (L+1, N, D) -> {score name: (L+1,)}.

    "silhouette" is scikit-learn's silhouette score with cosine distance (-1 … 1, higher = better separated);
    "nearest-centroid accuracy" is the share of points closer (cosine) to their own sense's mean, leaving the
    point itself out of that mean, than to any other sense's mean (0 … 1).
    """
    labels = np.asarray(labels)
    names = np.unique(labels)
    if len(names) < 2 or len(names) > len(labels) - 1:
        raise ValueError("Separation needs at least two senses and more sentences than senses.")
    return {
        "silhouette": np.array([silhouette_score(layer, labels, metric="cosine") for layer in states]),
        "nearest-centroid accuracy": np.array([_centroid_accuracy(unit_rows(layer), labels) for layer in states]),
    }


def _centroid_accuracy(vectors: np.ndarray, labels: np.ndarray) -> float:
    names = np.unique(labels)
    sums = np.stack([vectors[labels == name].sum(axis=0) for name in names])  # (S, D)
    correct = 0
    for vector, label in zip(vectors, labels, strict=True):
        centroids = sums.copy()
        centroids[names == label] -= vector  # leave the point out of its own sense's mean
        scores = unit_rows(centroids) @ vector
        if np.abs(centroids[names == label]).max() < 1e-12:
            scores[names == label] = -np.inf  # a sense with one sentence has nothing left to compare with
        correct += names[np.argmax(scores)] == label
    return correct / len(labels)


@dataclass(frozen=True, eq=False)
class WordStates:
    """One word's vector in each of many sentences, at every layer; the rest of each pass is dropped.

    states (L+1, N, D) for the N sentences that hold the word (first occurrence, pieces averaged);
    sentence (N,) their indices among all sentences; written (N,) the word as written there.
    """

    states: np.ndarray
    sentence: np.ndarray
    written: tuple[str, ...]
    missing: tuple[int, ...]  # sentences without the word
    cut: tuple[int, ...] = ()  # sentences cut at the token limit

    @property
    def nbytes(self) -> int:
        return self.states.nbytes + self.sentence.nbytes


def collect_word_states(passes, word: str) -> WordStates:
    """Keep only the word's vectors from an iterable of per-sentence passes (tokens, word_ids, hidden_states)."""
    vectors, sentence, written, missing, cut = [], [], [], [], []
    for index, one in enumerate(passes):
        found = find_occurrences([one], word)
        if getattr(one, "dropped_tokens", 0):
            cut.append(index)
        if not found:
            missing.append(index)
            continue
        vectors.append(word_vectors(one.hidden_states, found[0].positions).astype(np.float32))
        sentence.append(index)
        written.append(found[0].word)
    states = np.stack(vectors, axis=1) if vectors else np.zeros((0, 0, 0), dtype=np.float32)
    return WordStates(states, np.array(sentence, dtype=int), tuple(written), tuple(missing), tuple(cut))
