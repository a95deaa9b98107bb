import numpy as np
import pytest
import torch

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.encode import decode_latents
from vae_atlas.analysis.interpolation import (
    interpolation_path,
    lerp,
    path_roughness,
    pick_pair,
    random_pairs,
    slerp,
    typical_pair,
)
from vae_atlas.analysis.quality import pair_roughness


def test_lerp_endpoints_and_midpoint():
    a, b = np.array([1.0, -2.0, 0.0]), np.array([3.0, 2.0, 4.0])
    path = lerp(a, b, np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(path, [a, (a + b) / 2, b])


def test_slerp_between_orthogonal_unit_vectors_stays_on_the_circle():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = slerp(a, b, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], a, atol=1e-12)
    np.testing.assert_allclose(path[-1], b, atol=1e-12)
    np.testing.assert_allclose(path[2], [np.sqrt(0.5), np.sqrt(0.5)])
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0)


def test_slerp_falls_back_to_lerp_for_parallel_or_zero_vectors():
    a = np.array([1.0, 1.0])
    np.testing.assert_allclose(slerp(a, 2 * a, [0.5]), lerp(a, 2 * a, [0.5]))
    np.testing.assert_allclose(slerp(0 * a, a, [0.5]), [[0.5, 0.5]])


def test_linear_decoder_makes_a_perfectly_even_path():
    model = make_model(3)
    path = interpolation_path(np.array([1.0, 0, 0]), np.array([0, 2.0, -1]), 9, "linear")
    assert path.shape == (9, 3)
    assert path_roughness(decode_latents(model, path)) == pytest.approx(1.0, abs=1e-5)


def test_roughness_detects_a_jump():
    images = np.zeros((6, 1, 2, 2))
    images[3:] = 1.0  # one big step, the rest flat
    assert path_roughness(images) == pytest.approx(5.0)
    assert path_roughness(np.zeros((4, 1, 2, 2))) == 1.0


def test_pick_pair_defaults_to_a_one_and_a_seven():
    labels = np.array([0, 7, 1, 7, 1])
    names = tuple(str(i) for i in range(10))
    assert pick_pair(labels, names) == (2, 1)
    assert pick_pair(labels, names, a=0, b="1") == (0, 2)
    assert pick_pair(None, None) == (0, 1)
    assert pick_pair(np.array([3, 3, 5]), ("a", "b", "c", "d", "e", "f")) == (0, 2)
    with pytest.raises(ValueError, match="class"):
        pick_pair(labels, names, a="x")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        interpolation_path(np.zeros(2), np.ones(2), 5, "cubic")


class StepDecoder(torch.nn.Module):
    """Decodes z to an all-zero 2×2 image when z₁ < 0 and an all-one image otherwise."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (z[:, :1] >= 0).float().expand(-1, 4).reshape(-1, 1, 2, 2)


def test_pair_roughness_of_a_path_that_jumps_once_and_of_one_that_does_not_change():
    mu = np.array([[-1.0, 0.0], [1.0, 0.0], [-2.0, 5.0]])
    # 0 → 1: 16 codes cross z₁ = 0 once, so one step of length 2 (‖1 − 0‖ over 4 pixels) and 14
    # steps of 0: largest / mean = 2 / (2 / 15) = 15. 0 → 2 stays at z₁ < 0: no change, counts 1.
    rough = pair_roughness(StepDecoder(), mu, np.array([0, 0]), np.array([1, 2]), n_steps=16)
    np.testing.assert_allclose(rough, [15.0, 1.0])


def test_typical_pair_is_near_the_median_in_every_run():
    # run 1 ranks the candidates 0..4 in order, run 2 reversed: only the middle one suits both
    assert typical_pair([np.array([1.0, 2, 3, 4, 5]), np.array([5.0, 4, 3, 2, 1])]) == 2
    # quantiles run 1: 0, .25, .5, .75, 1; run 2 (values 2, 0, 1, 4, 3): .5, 0, .25, 1, .75;
    # largest distance from .5: .5, .5, .25, .5, .5 → candidate 2, though run 2's median is 0
    assert typical_pair([np.arange(5.0), np.array([2.0, 0, 1, 4, 3])]) == 2


def test_random_pairs_cross_classes_when_labels_are_given():
    labels = np.array([0, 0, 0, 1, 1, 2])
    a, b = random_pairs(len(labels), 40, seed=3, labels=labels)
    assert 0 < len(a) <= 40
    assert (labels[a] != labels[b]).all()
    a, b = random_pairs(4, 40, seed=3, labels=np.zeros(4, dtype=int))  # one class: a ≠ b only
    assert len(a) > 0 and (a != b).all()
