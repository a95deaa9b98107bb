"""Named recipes: config values chosen together, applied by ``vae-atlas train --preset NAME``."""

from __future__ import annotations

# Named recipes: config fields (``section.name``) a preset sets unless a flag sets them itself.
# faces: the usual 64×64 RGB face VAE (strided-conv encoder, transposed-conv decoder, four
# stages 64 → 4, a 64-D code) with a Gaussian likelihood whose σ is learned, so the
# reconstruction weight is fitted instead of guessed; docs/faces.md has its measurements.
PRESETS: dict[str, dict[str, object]] = {
    "faces": {
        "data.image_size": 64,
        "model.family": "conv",
        "model.hidden": (32, 64, 128, 256),
        "model.latent_dim": 64,
        "model.likelihood": "gaussian",
        "model.learn_sigma": True,
        "train.batch_size": 64,
        "train.lr": 1e-3,
    },
}
