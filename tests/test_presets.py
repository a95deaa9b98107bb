"""``--preset faces``: the values it sets, flags given beside it winning, and a model it builds."""

from __future__ import annotations

import torch

from vae_atlas.cli import build_parser
from vae_atlas.cli.train import apply_preset, config_from_args
from vae_atlas.models import build_model


def _args(*flags: str):
    args = build_parser().parse_args(["train", "--out", "run", "--preset", "faces", *flags])
    apply_preset(args)
    return args


def test_preset_values_and_a_given_flag_wins() -> None:
    args = _args("--latent-dim", "128")
    cfg = config_from_args(args, (3, 64, 64))
    assert (cfg.model.family, cfg.model.hidden, cfg.model.latent_dim) == (
        "conv",
        (32, 64, 128, 256),
        128,
    )
    assert cfg.model.likelihood == "gaussian" and cfg.model.learn_sigma is True
    assert (cfg.train.batch_size, cfg.train.lr, cfg.data.image_size) == (64, 1e-3, 64)


def test_preset_builds_a_64px_rgb_conv_vae() -> None:
    model = build_model(config_from_args(_args(), (3, 64, 64)).model)
    mu, logvar = model.encode(torch.rand(2, 3, 64, 64))
    assert mu.shape == logvar.shape == (2, 64)
    assert model.decode(mu).shape == (2, 3, 64, 64)
