"""Attribute scores against cases whose answer is known, and the learned smile direction of a
VAE trained on procedural faces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_atlas.analysis.attribute_scores import (
    analogy_indices,
    choose_attributes,
    continuous_direction,
    dimension_correlations,
    score_attributes,
)

RNG = np.random.default_rng(0)


def test_correlations_closed_form() -> None:
    a = RNG.integers(0, 2, 400).astype(float)
    noise = RNG.normal(size=400)
    mu = np.stack([a, -3 * a + 1, noise, np.full(400, 2.0)], axis=1)  # (N, 4)
    corr = dimension_correlations(mu, a[:, None])
    np.testing.assert_allclose(corr[0, :2], [1.0, 1.0], atol=1e-12)
    assert corr[0, 2] < 0.15  # independent noise: |r| ~ 1/sqrt(N)
    assert corr[0, 3] == 0.0  # a constant dimension carries nothing


def test_probe_reads_a_separable_attribute_and_not_a_random_one() -> None:
    n = 600
    visible = RNG.integers(0, 2, n).astype(float)
    hidden = RNG.integers(0, 2, n).astype(float)
    mu = np.stack([visible * 4 + RNG.normal(size=n), RNG.normal(size=n)], axis=1)
    scores = score_attributes(mu, np.stack([visible, hidden], axis=1), ["v", "h"], seed=1)
    assert scores.accuracy[0] > 0.95 and scores.auc[0] > 0.99
    assert abs(scores.auc[1] - 0.5) < 0.1  # chance
    assert scores.n_fit + scores.n_held_out == n


def test_continuous_attribute_gets_r2() -> None:
    n = 400
    age = RNG.uniform(20, 60, n)
    mu = np.stack([age / 10 + 0.1 * RNG.normal(size=n), RNG.normal(size=n)], axis=1)
    scores = score_attributes(mu, age[:, None], ["age"])
    assert not scores.binary[0] and scores.r2[0] > 0.95 and np.isnan(scores.accuracy[0])


def test_probe_fitted_on_other_codes() -> None:
    """Fitted on codes where the attribute is dim 0's sign, scored on codes where it is the
    opposite: accuracy 0 (a probe scored on its own fit codes could not show this)."""
    x = RNG.normal(size=(300, 2))
    x[:, 0] += np.sign(x[:, 0])  # a margin of 2 around the boundary: no point is borderline
    y = (x[:, 0] > 0).astype(float)[:, None]
    scores = score_attributes(x, 1 - y, ["a"], fit_mu=x, fit_values=y)
    assert scores.accuracy[0] == 0.0 and scores.n_fit == 300 and scores.n_held_out == 300


def test_default_choice_and_named_choice() -> None:
    names = [f"a{i}" for i in range(8)] + ["Smiling", "Eyeglasses"]
    values = RNG.integers(0, 2, (50, 10)).astype(float)
    chosen = choose_attributes(names, values)
    assert len(chosen) == 6 and chosen[:2] == [8, 9]
    assert choose_attributes(names[:3], values[:, :3]) == [0, 1, 2]  # few: all of them
    assert choose_attributes(names, values, ["a3"]) == [3]
    with pytest.raises(ValueError, match="'nope' is not one of"):
        choose_attributes(names, values, ["nope"])
    values[:, 4] = 1.0
    with pytest.raises(ValueError, match="'a4' is not a binary attribute with both values"):
        choose_attributes(names, values, ["a4"])


def test_analogy_pairs_each_a_with_its_nearest_b() -> None:
    mu = np.array([[0.0, 0], [0.1, 0], [5, 5], [5.2, 5], [9, 9]])
    has = np.array([True, False, True, False, False])
    rows = analogy_indices(mu, has, 2, seed=0)
    pairs = {int(a): int(b) for a, b, _ in rows}
    assert pairs == {0: 1, 2: 3}
    assert all(c != b and not has[c] for _, b, c in rows)


@pytest.mark.slow  # trains a conv VAE for 20 epochs on 240 faces (about a minute on one core)
def test_learned_smile_direction_changes_the_mouth_most(tmp_path) -> None:
    from vae_atlas import load_run
    from vae_atlas.analysis.attribute_scores import attribute_direction
    from vae_atlas.analysis.encode import decode_latents, encode_images
    from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from vae_atlas.data import load_celeba
    from vae_atlas.data.procedural_faces import MOUTH_BOX, write_celeba_fixture
    from vae_atlas.training import train

    torch.set_num_threads(1)
    folder = write_celeba_fixture(tmp_path / "faces", n_images=300, seed=0)
    data = load_celeba(folder, image_size=32, verify=False)
    config = RunConfig(
        data=DataConfig(name="celeba", data_dir=str(folder), image_size=32, verify=False),
        model=ModelConfig(
            family="conv", image_shape=(3, 32, 32), hidden=(16, 32, 64), latent_dim=8,
            likelihood="gaussian", learn_sigma=True,
        ),
        train=TrainConfig(epochs=20, batch_size=16, lr=2e-3, probe_size=20),
    )  # fmt: skip
    train(config, tmp_path / "run", dataset=data, progress=False, log=lambda _: None)
    model = load_run(tmp_path / "run").model
    smile = data.attribute_names.index("Smiling")
    train_mu = encode_images(model, data.train).mu
    direction = attribute_direction(train_mu, data.train.attributes[:, smile].numpy(), "Smiling")
    without = data.test.attributes[:, smile].numpy() < 0.5
    base = encode_images(model, data.test).mu[without]
    change = np.abs(decode_latents(model, base + direction.vector) - decode_latents(model, base))
    change = change.mean(axis=1)  # (N, 32, 32)
    # the mouth's box in the 32-px image: CelebA's centred 148-px crop starts at (15, 35)
    scale = 32 / 148
    left, top, right, bottom = MOUTH_BOX
    mouth = np.zeros((32, 32), dtype=bool)
    rows = slice(int((top - 35) * scale), int(np.ceil((bottom - 35) * scale)))
    mouth[rows, int((left - 15) * scale) : int(np.ceil((right - 15) * scale))] = True
    assert change[:, mouth].mean() > 2 * change[:, ~mouth].mean()


def test_continuous_direction_is_the_slope_times_the_spread() -> None:
    a = RNG.uniform(0.0, 3.0, 500)  # a continuous attribute
    w = np.array([2.0, -0.5, 0.0])
    mu = np.outer(a, w) + np.array([1.0, 4.0, -2.0])  # each code dimension a line in a
    np.testing.assert_allclose(continuous_direction(mu, a), w * a.std(), atol=1e-12)
    # for a 0/1 attribute, dividing by its std again gives the difference of the two means
    b = (RNG.uniform(size=500) < 0.3).astype(float)
    codes = RNG.normal(size=(500, 3)) + np.outer(b, [1.0, 2.0, 3.0])
    means = codes[b == 1].mean(0) - codes[b == 0].mean(0)
    np.testing.assert_allclose(continuous_direction(codes, b) / b.std(), means, atol=1e-12)
    assert not continuous_direction(mu, np.full(500, 2.0)).any()  # constant: no direction
