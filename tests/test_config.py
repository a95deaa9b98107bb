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
