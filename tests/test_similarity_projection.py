"""Pure projection computations on synthetic arrays: per-layer PCA, sign alignment, t-SNE, sense separation."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from test_similarity_compute import fake_analysis, random_states

from viz import projection as proj
from viz import similarity as sim


def clusters(n_per=6, separation=5.0, width=16, seed=0):
    """Two labelled clusters of points in `width` dimensions, `separation` apart along one axis."""
    rng = np.random.default_rng(seed)
    centre = np.zeros(width)
    centre[0] = separation
    a = rng.normal(size=(n_per, width)) + centre + 3
    b = rng.normal(size=(n_per, width)) - centre + 3
    return np.concatenate([a, b]), ["a"] * n_per + ["b"] * n_per


def test_pca_layer_shapes_and_explained_variance_on_unit_vectors():
    vectors = np.random.default_rng(0).normal(size=(20, 8))
    coords, explained = proj.pca_layer(vectors, 3)
    assert coords.shape == (20, 3) and explained.shape == (3,)
    reference = PCA(n_components=3).fit(proj.unit_rows(vectors))
    np.testing.assert_allclose(explained, reference.explained_variance_ratio_, atol=1e-10)
    assert np.all(np.diff(explained) <= 1e-12) and explained.sum() < 1


def test_pca_layer_handles_too_few_or_identical_points():
    coords, explained = proj.pca_layer(np.ones((1, 5)), 2)
    assert coords.shape == (1, 2) and not coords.any() and not explained.any()
    coords, explained = proj.pca_layer(np.ones((4, 5)), 2)  # all the same direction
    assert not coords.any()
    coords, explained = proj.pca_layer(np.eye(3), 3)  # three points give at most two axes
    assert coords.shape == (3, 3) and explained[2] == 0 and not coords[:, 2].any()


def test_pca_over_layers_is_scale_free_and_sign_aligned():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(10, 6))
    states = np.stack([base, base * 1000.0, -base])  # same directions, huge scale, every vector flipped
    projection = proj.pca_over_layers(states, 2)
    assert projection.coords.shape == (3, 10, 2) and projection.explained.shape == (3, 2)
    np.testing.assert_allclose(projection.coords[0], projection.coords[1], atol=1e-8)
    # flipping every vector flips the picture; the alignment keeps the axes pointing the same way as before
    assert np.sum(projection.coords[2] * projection.coords[1], axis=0).min() >= 0


def test_separation_is_high_for_separated_senses_and_low_for_shuffled_labels():
    vectors, labels = clusters()
    shuffled = list(np.random.default_rng(1).permutation(labels))
    mixed = np.random.default_rng(2).normal(size=vectors.shape) + 3
    states = np.stack([mixed, vectors])  # layer 0: one cloud; layer 1: two clusters
    scores = proj.separation_by_layer(states, labels)
    assert scores["silhouette"].shape == (2,)
    assert scores["silhouette"][1] > 0.5 and scores["silhouette"][0] < 0.1
    assert scores["nearest-centroid accuracy"][1] == 1.0
    assert scores["nearest-centroid accuracy"][0] < 0.8
    assert proj.separation_by_layer(vectors[None], shuffled)["silhouette"][0] < 0.1


def test_separation_needs_two_senses():
    vectors, _ = clusters()
    with pytest.raises(ValueError, match="two senses"):
        proj.separation_by_layer(vectors[None], ["a"] * len(vectors))


def test_tsne_is_repeatable_with_a_seed():
    vectors, _ = clusters(n_per=8)
    first = proj.tsne_layer(vectors, seed=7)
    assert first.shape == (16, 2)
    np.testing.assert_allclose(first, proj.tsne_layer(vectors, seed=7))
    with pytest.raises(ValueError):
        proj.tsne_layer(vectors[:3], seed=0)


def test_token_points_highlight_the_chosen_word_and_skip_specials():
    a = fake_analysis(["[CLS]", "big", "party", "[SEP]"], [None, 0, 1, None], random_states(4))
    b = fake_analysis(["[CLS]", "party", "[SEP]"], [None, 0, None], random_states(3, 1))
    occurrences = sim.find_occurrences([a, b], "party")
    points = proj.token_points([a, b], occurrences)
    assert points.states.shape == (3, 3, 4)
    assert points.token == ("big", "party", "party")
    assert points.sentence.tolist() == [0, 0, 1] and points.highlight.tolist() == [False, True, True]
    assert proj.token_points([a, b], occurrences, skip_special=False).states.shape == (3, 7, 4)


def test_occurrence_points_and_collect_word_states_keep_one_vector_per_sentence():
    hidden = random_states(3)
    a = fake_analysis(["dep", "##uty", "x"], [0, 0, 1], hidden)
    b = fake_analysis(["y"], [0], hidden[:, :1])
    c = fake_analysis(["deputy", "deputy"], [0, 1], hidden[:, :2])
    states = proj.collect_word_states([a, b, c], "deputy")
    assert states.states.shape == (3, 2, 4) and states.sentence.tolist() == [0, 2]
    assert states.missing == (1,) and states.written == ("deputy", "deputy")
    np.testing.assert_allclose(states.states[:, 0], hidden[:, :2].mean(axis=1), rtol=1e-6)
    points = proj.occurrence_points([a, b, c], sim.find_occurrences([a, b, c], "deputy"), ["s1", "s2", "s3"])
    assert points.states.shape == (3, 3, 4) and points.label == ("s1", "s3", "s3")
    empty = proj.collect_word_states([b], "deputy")
    assert empty.states.shape[1] == 0 and empty.missing == (0,)
