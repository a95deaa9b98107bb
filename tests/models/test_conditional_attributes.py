"""A cvae conditioned on an attribute vector: the condition is resolved from the dataset, the
attributes are scaled as documented (binary 0/1 as they are, continuous standardised), flipping
an attribute under a fixed code decodes exactly the hand-built condition, and it overfits a
batch of the procedural faces."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from vae_atlas.analysis.conditional import (
    attribute_flips,
    flipped_conditions,
    prior_samples_per_attribute,
)
from vae_atlas.analysis.encode import decode_latents, encode_images
from vae_atlas.analysis.sampling import sample_prior
from vae_atlas.config import ConfigError, ModelConfig, RunConfig
from vae_atlas.data import ImageSet, load_celeba, load_digits
from vae_atlas.data.procedural_faces import write_celeba_fixture
from vae_atlas.models import build_model
from vae_atlas.models.conditional import conditioned_dataset
from vae_atlas.training.conditional import resolve_condition
from vae_atlas.training.errors import TrainingError

NAMES = ("Smiling", "Male", "Eyeglasses")


def attribute_config(names=NAMES, **kw) -> ModelConfig:
    base = {"image_shape": (3, 16, 16), "latent_dim": 2, "hidden": (32,)}
    return ModelConfig(
        objective="cvae", condition="attributes", condition_attributes=names, **{**base, **kw}
    )


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces")
    folder = write_celeba_fixture(root / "data", n_images=60, seed=2)
    return load_celeba(folder, image_size=16, verify=False, cache_dir=root / "cache")


def test_the_condition_defaults_to_labels_else_attributes(faces):
    cvae = RunConfig(model=ModelConfig(objective="cvae", image_shape=(1, 8, 8)))
    on_digits = resolve_condition(cvae, load_digits()).model
    assert (on_digits.condition, on_digits.n_classes) == ("labels", 10)
    on_faces = resolve_condition(cvae, faces).model
    assert on_faces.condition == "attributes" and on_faces.n_classes == 0
    assert len(on_faces.condition_attributes) == 40
    assert on_faces.condition_attributes[:2] == ("5_o_Clock_Shadow", "Arched_Eyebrows")
    chosen = replace(cvae, model=replace(cvae.model, condition_attributes=("Male", "Smiling")))
    picked = resolve_condition(chosen, faces).model
    assert picked.condition == "attributes" and picked.condition_attributes == ("Male", "Smiling")
    asked = replace(cvae, model=replace(cvae.model, condition="attributes"))
    with pytest.raises(TrainingError, match="'digits' has no attribute table"):
        resolve_condition(asked, load_digits())


def test_an_unknown_attribute_is_refused_by_name_with_the_valid_ones(faces):
    cfg = RunConfig(model=attribute_config(("Smiling", "Smilng")))
    with pytest.raises(ConfigError) as caught:
        resolve_condition(cfg, faces)
    message = str(caught.value)
    assert "'Smilng' is not an attribute" in message
    assert "Eyeglasses" in message and "Young" in message  # the valid names are listed
    assert caught.value.field == "model.condition_attributes"


def test_the_dataset_narrows_to_the_models_attributes_in_its_order(faces):
    # the table's order is Male (column 20) before Smiling (31); the model's is the other way
    narrowed = conditioned_dataset(faces, attribute_config(("Smiling", "Male")))
    assert narrowed.attribute_names == ("Smiling", "Male")
    for split in ("train", "val", "test"):
        full, mine = getattr(faces, split).attributes, getattr(narrowed, split).attributes
        assert torch.equal(mine, full[:, [31, 20]])


def test_a_condition_field_for_another_objective_or_both_kinds_is_refused():
    with pytest.raises(ConfigError, match="applies to objective='cvae'"):
        ModelConfig(objective="vae", condition="attributes")
    with pytest.raises(ConfigError, match="applies to condition='attributes'"):
        ModelConfig(objective="cvae", condition="labels", condition_attributes=("Male",))
    with pytest.raises(ConfigError, match="distinct"):
        attribute_config(("Male", "Male"))
    back = RunConfig.from_json(RunConfig(model=attribute_config()).to_json())
    assert back.model.condition_attributes == NAMES  # a tuple again after the JSON round trip


def test_binary_attributes_stay_0_1_and_continuous_ones_are_standardised():
    model = build_model(attribute_config(("Smiling", "Age")))
    train = torch.tensor([[0.0, 1.0], [1.0, 2.0], [1.0, 3.0], [0.0, 6.0]])
    model.fit_condition_scale(train)
    # Age: mean 3, population std sqrt((4 + 1 + 0 + 9) / 4) = sqrt(3.5)
    rows = model.condition_vector(torch.tensor([[1.0, 6.0], [0.0, 1.0]]), torch.zeros(1))
    expected = torch.tensor([[1.0, 3 / math.sqrt(3.5)], [0.0, -2 / math.sqrt(3.5)]])
    assert torch.allclose(rows, expected, atol=1e-6)
    assert model.condition_binary.tolist() == [True, False]
    with pytest.raises(ValueError, match=r"conditioned on 2 attributes \(Smiling, Age\)"):
        model.decode(torch.zeros(1, 2), torch.zeros(1, 3))


def test_flipping_an_attribute_changes_the_image_and_equals_the_hand_built_condition():
    torch.manual_seed(0)
    model = build_model(attribute_config()).eval()
    model.fit_condition_scale(torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]))
    own = np.array([[1.0, 0.0, 1.0]])
    hand = np.array([[[1, 0, 1], [0, 0, 1], [1, 1, 1], [1, 0, 0]]], dtype=np.float64)
    assert np.array_equal(flipped_conditions(model, own), hand)
    z = np.array([[0.3, -0.8]])
    with torch.no_grad():
        as_own = model.decode(torch.tensor(z, dtype=torch.float32), torch.tensor(own))
        smiling_off = model.decode(torch.tensor(z, dtype=torch.float32), torch.tensor(hand[0, 1:2]))
    assert not torch.allclose(as_own, smiling_off, atol=1e-3)
    via_analysis = decode_latents(model, z, labels=hand[0, 1:2].astype(np.float32))
    assert np.allclose(via_analysis, smiling_off.numpy(), atol=1e-6)


def test_the_flip_figure_decodes_each_inputs_code_under_each_flip(faces):
    torch.manual_seed(0)
    model = build_model(attribute_config()).eval()
    test = conditioned_dataset(faces, attribute_config()).test
    model.fit_condition_scale(test.attributes)
    grid = attribute_flips(model, test, np.array([0, 2]))  # (2, 1 + 3, 3, 16, 16)
    x = test.images[[0, 2]].float() / 255.0
    own = test.attributes[[0, 2]]
    with torch.no_grad():
        mu, _ = model.encode(x, own)
        for k in range(3):
            flipped = own.clone()
            flipped[:, k] = 1.0 - flipped[:, k]
            assert np.allclose(grid[:, 1 + k], model.decode(mu, flipped).numpy(), atol=1e-6)
        assert np.allclose(grid[:, 0], model.decode(mu, own).numpy(), atol=1e-6)
    lat = encode_images(model, test.subset(torch.tensor([0, 2])))
    assert np.allclose(lat.mu, mu.double().numpy(), atol=1e-6)  # the set's own attributes
    with pytest.raises(ValueError, match="no attributes"):
        encode_images(model, ImageSet(test.images[:2]))


def test_prior_draws_switch_one_attribute_on_per_row():
    torch.manual_seed(0)
    model = build_model(attribute_config(("Smiling", "Age"))).eval()
    model.fit_condition_scale(torch.tensor([[0.0, 1.0], [1.0, 3.0]]))  # Age: mean 2, std 1
    grid = prior_samples_per_attribute(model, 3, seed=4)  # (1 + 2, 3, 3, 16, 16)
    codes = torch.tensor(sample_prior(3, 2, seed=4), dtype=torch.float32)
    rows = ([0.0, 2.0], [1.0, 2.0], [0.0, 3.0])  # all off; Smiling on; Age one σ above its mean
    with torch.no_grad():
        for r, row in enumerate(rows):
            decoded = model.decode(codes, torch.tensor([row] * 3))
            assert np.allclose(grid[r], decoded.numpy(), atol=1e-6), r


def test_an_attribute_cvae_overfits_one_batch_of_faces(faces):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = conditioned_dataset(faces, attribute_config())
    x = data.train.images[:16].float() / 255.0
    y = data.train.attributes[:16]
    model = build_model(attribute_config(hidden=(128,), latent_dim=8, likelihood="gaussian"))
    model.fit_condition_scale(data.train.attributes)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        opt.zero_grad()
        model.loss(x, y=y, generator=gen).loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        x_hat = model.decode(model.encode(x, y)[0], y)
    # the batch's own faces come back far closer than the batch's mean face does
    spread = float(((x - x.mean(0, keepdim=True)) ** 2).mean())
    assert float(((x_hat - x) ** 2).mean()) < 0.05 * spread


def test_a_config_without_its_condition_builds_no_model():
    with pytest.raises(ValueError, match="n_classes >= 2"):
        build_model(ModelConfig(objective="cvae", image_shape=(1, 8, 8)))
