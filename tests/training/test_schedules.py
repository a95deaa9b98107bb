"""The pure step -> value schedules at hand-computed points."""

from __future__ import annotations

import math

import pytest

from vae_atlas.training.schedules import capacity_at, kl_weight_at, lr_at


def test_cosine_lr_starts_at_lr_halves_midway_and_ends_at_the_floor():
    # 101 steps: progress = step / 100; floor = 1e-3 · 0.1
    assert lr_at(0, lr=1e-3, total_steps=101, final_fraction=0.1) == pytest.approx(1e-3)
    assert lr_at(50, lr=1e-3, total_steps=101, final_fraction=0.1) == pytest.approx(5.5e-4)
    assert lr_at(100, lr=1e-3, total_steps=101, final_fraction=0.1) == pytest.approx(1e-4)
    quarter = 1e-4 + 0.5 * 9e-4 * (1 + math.cos(math.pi / 4))
    assert lr_at(25, lr=1e-3, total_steps=101, final_fraction=0.1) == pytest.approx(quarter)
    assert lr_at(60, lr=1e-3, total_steps=101, final_fraction=1.0) == 1e-3


def test_kl_warmup_is_linear_from_beta_over_n_to_beta():
    assert kl_weight_at(0, beta=4.0, warmup_steps=8) == pytest.approx(0.5)
    assert kl_weight_at(3, beta=4.0, warmup_steps=8) == pytest.approx(2.0)
    assert kl_weight_at(7, beta=4.0, warmup_steps=8) == pytest.approx(4.0)
    assert kl_weight_at(100, beta=4.0, warmup_steps=8) == pytest.approx(4.0)
    assert kl_weight_at(0, beta=4.0, warmup_steps=0) == 4.0


def test_capacity_grows_linearly_then_stays():
    assert capacity_at(0, capacity_max=25.0, capacity_steps=100) == 0.0
    assert capacity_at(40, capacity_max=25.0, capacity_steps=100) == pytest.approx(10.0)
    assert capacity_at(100, capacity_max=25.0, capacity_steps=100) == pytest.approx(25.0)
    assert capacity_at(500, capacity_max=25.0, capacity_steps=100) == pytest.approx(25.0)
    assert capacity_at(50, capacity_max=0.0, capacity_steps=100) == 0.0
