"""The small-input PCA path (one numpy SVD per layer) gives scikit-learn's PCA result, signs included."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

from viz import projection as proj


@pytest.mark.parametrize("n_points, k", [(3, 2), (12, 2), (12, 3), (proj.SMALL_PCA_POINTS, 3)])
def test_small_pca_equals_scikit_learn(n_points, k):
    rng = np.random.default_rng(n_points)
    vectors = rng.normal(size=(n_points, 40)) + rng.normal(size=40) * 3  # a shared offset, as hidden states have
    coords, explained = proj.pca_layer(vectors, k)
    unit = proj.unit_rows(vectors)
    usable = min(k, n_points - 1)
    reference = PCA(n_components=usable, svd_solver="full").fit(unit)
    np.testing.assert_allclose(coords[:, :usable], reference.transform(unit), atol=1e-9)
    np.testing.assert_allclose(explained[:usable], reference.explained_variance_ratio_, atol=1e-12)
    assert np.all(coords[:, usable:] == 0) and np.all(explained[usable:] == 0)


def test_small_path_equals_the_arpack_path_used_above_the_threshold():
    rng = np.random.default_rng(0)
    vectors = proj.unit_rows(rng.normal(size=(proj.SMALL_PCA_POINTS, 30)) + rng.normal(size=30))
    coords, _ = proj.pca_layer(vectors, 2)
    arpack = PCA(n_components=2, svd_solver="arpack", random_state=0).fit(vectors)
    np.testing.assert_allclose(coords, arpack.transform(vectors), atol=1e-8)  # same axes, same signs
