import numpy as np
import torch

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.sampling import prior_samples, reconstruct, sample_prior, spread_index
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
