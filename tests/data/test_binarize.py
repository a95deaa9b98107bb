"""The one binarisation of held-out images: exact v / 255 probabilities, hand-checkable draws,
and one fixed set per seed."""

from __future__ import annotations

import math
from fractions import Fraction

import torch

from vae_atlas.data import ImageSet, binarize_images
from vae_atlas.data.dataset import pixels_as_float


def test_grey_levels_are_the_correctly_rounded_v_over_255():
    levels = pixels_as_float(torch.arange(256, dtype=torch.uint8))
    for v, f in enumerate(levels.tolist()):
        half_ulp = Fraction(math.ulp(f) if f else 2.0**-149) / 2
        # float32's ulp is 2**29 times float64's at the same exponent
        assert abs(Fraction(f) - Fraction(v, 255)) <= half_ulp * 2**29, v
    # the product with a rounded 1/255, which this replaces, misses on many levels
    product = torch.arange(256, dtype=torch.uint8).to(torch.float32) * (1.0 / 255.0)
    assert int((product != levels).sum()) == 126


def test_black_and_white_pixels_are_fixed_and_grey_ones_follow_their_level():
    # a hand-computed case: 0 never turns on, 255 always does, 51 (p = 0.2) about a fifth
    n = 20_000
    images = torch.tensor([0, 255, 51], dtype=torch.uint8).repeat(n).reshape(n, 1, 1, 3)
    x = binarize_images(ImageSet(images), seed=3)
    assert x.dtype == torch.float32 and x.shape == (n, 1, 1, 3)
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert x[..., 0].sum() == 0 and x[..., 1].sum() == n
    # binomial standard error sqrt(0.2 * 0.8 / n) = 0.0028; 5 of them
    assert abs(float(x[..., 2].mean()) - 0.2) < 0.015


def test_same_seed_same_bytes_other_seed_other_draw():
    images = torch.randint(0, 256, (64, 1, 8, 8), generator=torch.Generator().manual_seed(0))
    images = images.to(torch.uint8)
    a = binarize_images(ImageSet(images), seed=11)
    b = binarize_images(images, seed=11)  # a bare uint8 tensor is read the same way
    assert a.numpy().tobytes() == b.numpy().tobytes()
    assert not torch.equal(a, binarize_images(images, seed=12))
