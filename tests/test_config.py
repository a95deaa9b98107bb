import json

import pytest

from vae_atlas.config import (
    SCHEMA_VERSION,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
)


def test_round_trip_is_identity():
    cfg = RunConfig(
        data=DataConfig(name="shapes", image_size=32),
        model=ModelConfig(
            family="conv",
            image_shape=(1, 32, 32),
            latent_dim=6,
            hidden=(32, 64),
            objective="beta-vae",
            beta=4.0,
        ),
        train=TrainConfig(epochs=3, grad_clip=1.0, adam_eps=1e-4),
    )
    assert RunConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: ModelConfig(latent_dim=0), "model.latent_dim"),
        (lambda: ModelConfig(objective="gan"), "model.objective"),
        (lambda: ModelConfig(beta=4.0), "model.beta"),
        (lambda: ModelConfig(family="conv", image_shape=(1, 8, 8)), "model.image_shape"),
        (lambda: TrainConfig(lr=-1.0), "train.lr"),
        (lambda: TrainConfig(batch_size=0), "train.batch_size"),
        (lambda: TrainConfig(adam_eps=0.0), "train.adam_eps"),
        (lambda: DataConfig(name="folder"), "data.data_dir"),
        (lambda: DataConfig(name="imagenet"), "data.name"),
    ],
)
def test_invalid_values_name_the_field(make, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        make()


def _raw():
    return json.loads(RunConfig().to_json())


def test_unknown_key_is_refused():
    raw = _raw()
    raw["model"]["dropout"] = 0.5
    with pytest.raises(ConfigError, match="dropout"):
        RunConfig.from_dict(raw)


def test_wrong_type_is_refused():
    raw = _raw()
    raw["model"]["latent_dim"] = "two"
    with pytest.raises(ConfigError, match="latent_dim"):
        RunConfig.from_dict(raw)


def test_newer_schema_says_upgrade():
    raw = _raw()
    raw["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ConfigError, match="newer vae-atlas"):
        RunConfig.from_dict(raw)


def test_other_kind_is_refused():
    raw = _raw()
    raw["kind"] = "something-else"
    with pytest.raises(ConfigError, match="kind"):
        RunConfig.from_dict(raw)


def test_family_defaults_are_resolved_by_the_config():
    conv = ModelConfig(family="conv")
    assert conv.hidden == (32, 64, 128)  # conv channels per stride-2 stage
    assert ModelConfig(family="mlp").hidden == (512, 256)
    assert ModelConfig(family="conv", hidden=(8, 16)).hidden == (8, 16)
    assert conv == ModelConfig(family="conv", hidden=(32, 64, 128))


def test_beta_default_depends_on_the_objective():
    assert ModelConfig(objective="beta-vae").beta == 4.0
    assert ModelConfig(objective="vae").beta == 1.0
    assert ModelConfig(objective="ae").beta == 1.0
    assert ModelConfig(objective="beta-vae", beta=8.0).beta == 8.0


def test_a_saved_config_keeps_its_resolved_defaults():
    cfg = RunConfig(model=ModelConfig(family="conv", objective="beta-vae"))
    raw = json.loads(cfg.to_json())
    assert raw["model"]["hidden"] == [32, 64, 128]
    assert raw["model"]["beta"] == 4.0
    assert RunConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "make, field",
    [
        (lambda v: TrainConfig(lr=v), "train.lr"),
        (lambda v: TrainConfig(adam_eps=v), "train.adam_eps"),
        (lambda v: TrainConfig(warmup_epochs=v), "train.warmup_epochs"),
        (lambda v: TrainConfig(grad_clip=v), "train.grad_clip"),
        (lambda v: TrainConfig(weight_decay=v), "train.weight_decay"),
        (lambda v: ModelConfig(objective="beta-vae", capacity_max=v), "model.capacity_max"),
        (lambda v: ModelConfig(objective="beta-vae", beta=v), "model.beta"),
        (lambda v: ModelConfig(likelihood="gaussian", sigma=v), "model.sigma"),
        (lambda v: DataConfig(test_fraction=v), "data.test_fraction"),
    ],
)
def test_non_finite_floats_are_refused(make, field, bad):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")) as info:
        make(bad)
    assert info.value.field == field


def test_a_saved_nan_is_refused_on_load():
    text = RunConfig().to_json().replace('"capacity_max": 0.0', '"capacity_max": NaN')
    assert "NaN" in text
    with pytest.raises(ConfigError, match="capacity_max"):
        RunConfig.from_json(text)


@pytest.mark.parametrize("seed", [2**64 - 1, 2**32])
def test_seeds_beyond_32_bits_are_refused(seed):
    with pytest.raises(ConfigError, match=r"train\.seed"):
        TrainConfig(seed=seed)
    assert TrainConfig(seed=2**32 - 1).seed == 4294967295
