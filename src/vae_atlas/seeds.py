"""Every random stream of a run, derived from the run's one seed and what the stream is for.

A stream's seed is a hash of (run seed, purpose, index…), so two purposes never share a stream
and no seed of one run equals a seed of another run plus some offset (which small additive
offsets such as ``seed + 1`` cannot promise: run 0's "seed + 7" is run 6's "seed + 1"). The
hash is BLAKE2b, fixed by its specification, so a run's streams are the same on every machine,
Python version and vae-atlas release that keeps :data:`PURPOSES`.
"""

from __future__ import annotations

import hashlib

# What each stream is for. A purpose is part of the hash: renaming one changes every run's draws.
PURPOSES = (
    "init",  # the model's initial weights
    "loop",  # batch order, reparameterisation noise and dynamic binarisation while training
    "probe",  # which test images are snapshotted each epoch
    "validation-split",  # which training images are held out for validation
    "binarize-test",  # the one fixed binarisation of the test set (training and evaluate)
    "binarize-validation",  # the one fixed binarisation of the validation set
    "epoch-eval",  # the z noise of the test −ELBO after epoch i
    "epoch-eval-validation",  # the z noise of the validation −ELBO after epoch i
    "pseudo-inputs",  # which training images a VampPrior's pseudo-inputs start as
)
# torch generators take 64-bit seeds; 63 bits also fit a signed 64-bit integer everywhere
SEED_BITS = 63
# names this derivation in every checkpoint: a run whose streams came from another one would,
# resumed, draw another validation split and train on images it was validated on
DERIVATION = "vae-atlas.derive_seed/1"


def derive_seed(seed: int, purpose: str, *index: int) -> int:
    """The seed of the stream ``purpose`` (one of :data:`PURPOSES`) of a run seeded ``seed``;
    ``index`` tells apart the members of a family of streams (e.g. one per epoch).

    Returns an integer in [0, 2**63): the first 63 bits of the 8-byte BLAKE2b digest of
    ``"vae-atlas/{purpose}/{seed}/{i0}/{i1}…"`` (bytes read big-endian).
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose={purpose!r} is not one of {', '.join(PURPOSES)}")
    for value in (seed, *index):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"seeds and indices must be integers >= 0, got {value!r}")
    text = "/".join(["vae-atlas", purpose, *(str(v) for v in (seed, *index))])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - SEED_BITS)
