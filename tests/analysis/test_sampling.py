import numpy as np
import pytest
import torch

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.sampling import (
    prior_samples,
    reconstruct,
    sample_codes,
    sample_prior,
    source_label,
    spread_index,
)
from vae_atlas.data import ImageSet


def test_prior_draws_are_seeded_and_standard_normal():
    a, b = sample_prior(4000, 3, seed=1), sample_prior(4000, 3, seed=1)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.abs(a.mean(0)) < 0.06) and np.all(np.abs(a.std(0) - 1) < 0.05)
    samples = prior_samples(make_model(3), 7, seed=2)
    assert samples.z.shape == (7, 3) and samples.images.shape == (7, 1, 1, 6)


def test_reconstruct_returns_originals_and_decoded_means():
    model = make_model(2, data_dim=4)
    # images on the decoder's range reconstruct exactly (the encoder is its pseudo-inverse)
    z = np.array([[0.1, 0.2], [0.3, -0.1]])
    x = z @ model.w.detach().numpy().T + model.b.detach().numpy()
    x = np.clip(x, 0, 1)
    images = ImageSet(torch.as_tensor(np.round(x * 255)).to(torch.uint8).view(2, 1, 1, 4))
    rec = reconstruct(model, images, np.array([1, 0]))
    assert rec.originals.shape == rec.reconstructions.shape == (2, 1, 1, 4)
    np.testing.assert_allclose(rec.originals[0], images.images[1].numpy() / 255.0)
    assert rec.index.tolist() == [1, 0]


def test_spread_index_covers_every_class():
    labels = np.array([0] * 50 + [1] * 3 + [2] * 50)
    idx = spread_index(labels, 9, len(labels))
    assert len(idx) == 9 and set(labels[idx]) == {0, 1, 2}
    assert len(set(spread_index(None, 5, 20).tolist())) == 5
    assert len(spread_index(labels, 500, len(labels))) == len(labels)


def test_fitted_source_matches_the_codes_mean_and_covariance():
    # codes from a known Gaussian: mean (3, -2), covariance [[4, 1.8], [1.8, 1]] (corr 0.9)
    mean, cov = np.array([3.0, -2.0]), np.array([[4.0, 1.8], [1.8, 1.0]])
    codes = np.random.default_rng(5).multivariate_normal(mean, cov, size=50_000)
    z = sample_codes(50_000, 2, source="fitted", codes=codes, seed=1)
    # codes and samples each carry sampling error: sd(variance)/variance = sqrt(2/n) = 0.6 %,
    # so 5 % is several standard errors of the two together
    assert np.all(np.abs(z.mean(0) - mean) < 0.05)
    np.testing.assert_allclose(np.cov(z, rowvar=False), cov, rtol=0.05)
    # the prior ignores the codes: N(0, I)
    p = sample_codes(20_000, 2, source="prior", codes=codes, seed=1)
    assert np.all(np.abs(p.mean(0)) < 0.03)
    np.testing.assert_allclose(np.cov(p, rowvar=False), np.eye(2), atol=0.04)


def test_fitted_source_handles_codes_on_a_line():
    # codes spanning one direction: the covariance is singular, samples stay on the line
    t = np.linspace(-1, 1, 50)
    codes = np.column_stack([t, 2 * t])
    z = sample_codes(500, 2, source="fitted", codes=codes, seed=0)
    assert np.all(np.abs(z[:, 1] - 2 * z[:, 0]) < 0.01)


def test_sources_are_checked_and_labelled():
    with pytest.raises(ValueError, match="source='uniform' is not one of prior, fitted"):
        sample_codes(3, 2, source="uniform")
    with pytest.raises(ValueError, match="needs codes"):
        sample_codes(3, 2, source="fitted")
    with pytest.raises(ValueError, match="needs codes"):
        sample_codes(3, 2, source="fitted", codes=np.zeros((10, 3)))
    assert "N(0, I)" in source_label("prior") and "fitted" in source_label("fitted")
    samples = prior_samples(make_model(3), 4, source="fitted", codes=np.eye(3) * 5, seed=0)
    assert samples.z.shape == (4, 3) and np.abs(samples.z).max() > 0
