import numpy as np
import pytest

from vae_atlas.analysis.projection import project_latents
from vae_atlas.analysis.projection_cache import fingerprint


def test_identity_keeps_the_chosen_dimensions():
    mu = np.arange(12.0).reshape(4, 3)
    p = project_latents(mu, "identity", dims=(2, 0))
    np.testing.assert_allclose(p.coords, mu[:, [2, 0]])
    assert p.axis_labels == ("z3", "z1")
    np.testing.assert_allclose(p.transform(mu), p.coords)


def test_pca_finds_the_line_and_names_its_axes():
    rng = np.random.default_rng(0)
    t = rng.standard_normal(200)
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    mu = t[:, None] * direction + 0.01 * rng.standard_normal((200, 3))
    p = project_latents(mu, "pca")
    assert p.explained[0] > 0.99
    assert abs(abs(p.components[0] @ direction) - 1) < 1e-3
    assert p.axis_labels[0].startswith("PC 1")
    np.testing.assert_allclose(p.transform(mu), p.coords, atol=1e-9)


def test_tsne_is_cached_on_disk_and_reused(tmp_path):
    rng = np.random.default_rng(0)
    mu = np.concatenate([rng.normal(-5, 1, (40, 5)), rng.normal(5, 1, (40, 5))])
    first = project_latents(mu, "tsne", cache_dir=tmp_path, cache_key="k1")
    files = list(tmp_path.glob("projection-tsne-*.npz"))
    assert len(files) == 1 and not first.cached
    again = project_latents(mu, "tsne", cache_dir=tmp_path, cache_key="k1")
    assert again.cached
    np.testing.assert_array_equal(first.coords, again.coords)
    # t-SNE keeps the two clusters apart: every point's nearest neighbour is in its own cluster
    d = np.linalg.norm(first.coords[:, None] - first.coords[None], axis=2)
    np.fill_diagonal(d, np.inf)
    nearest = d.argmin(axis=1)
    assert np.mean((nearest < 40) == (np.arange(80) < 40)) == 1.0
    with pytest.raises(ValueError, match="cannot place"):
        first.transform(mu)


def test_fingerprint_changes_with_content():
    a = np.zeros(3)
    assert fingerprint(a, "x") == fingerprint(a.copy(), "x")
    assert fingerprint(a, "x") != fingerprint(a + 1, "x")
    assert fingerprint(a, "x") != fingerprint(a, "y")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="not one of"):
        project_latents(np.zeros((5, 3)), "mds")
