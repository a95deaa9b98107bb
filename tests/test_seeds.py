"""One derivation for every random stream of a run: the documented hash, a stream per purpose
and index, and refusals of what would silently share a stream."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from vae_atlas.seeds import PURPOSES, derive_seed


def test_derivation_is_the_documented_blake2b_prefix():
    # the docstring's recipe, written out by hand: first 63 bits of BLAKE2b-64 of the text
    digest = hashlib.blake2b(b"vae-atlas/epoch-eval/3/12", digest_size=8).digest()
    assert derive_seed(3, "epoch-eval", 12) == int.from_bytes(digest, "big") >> 1
    digest = hashlib.blake2b(b"vae-atlas/loop/0", digest_size=8).digest()
    assert derive_seed(0, "loop") == int.from_bytes(digest, "big") >> 1


def test_streams_differ_across_purposes_seeds_and_indices_and_fit_in_63_bits():
    seeds = [
        derive_seed(seed, purpose, *index)
        for seed, purpose, index in itertools.product(range(8), PURPOSES, [(), (0,), (1,)])
    ]
    assert len(set(seeds)) == len(seeds)
    assert all(0 <= s < 2**63 for s in seeds)
    # the additive offsets this replaces made run 0's "+ 7" stream run 6's "+ 1" stream
    assert derive_seed(0, "binarize-test") != derive_seed(6, "loop")


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, "binarise-test"), "purpose='binarise-test' is not one of"),
        ((-1, "loop"), "integers >= 0"),
        ((0, "epoch-eval", -2), "integers >= 0"),
        ((True, "loop"), "integers >= 0"),
    ],
)
def test_bad_purposes_and_indices_are_refused(args, match):
    with pytest.raises(ValueError, match=match):
        derive_seed(*args)
