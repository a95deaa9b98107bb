"""Export an MLP decoder so the page can decode in JavaScript, with no round trip per frame.

A vae-atlas MLP decoder is ``Linear → act → … → Linear → Unflatten`` followed by the
likelihood's mean, a sigmoid for both the Bernoulli and the Gaussian likelihood. The export is a
manifest (layer sizes, activations, offsets) and one little-endian float32 buffer holding each
layer's weight (n_out, n_in) row-major, then its bias. Any other model (conv decoders, a user's
own module) returns ``None`` and the page decodes through the server instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from vae_atlas.models import AutoEncoder
from vae_atlas.models.mlp import MLPDecoder

_ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.ELU: "elu", nn.LeakyReLU: "leaky_relu"}


@dataclass(frozen=True)
class DecoderExport:
    """``manifest`` (JSON-ready dict, see :class:`~vae_atlas.explorer.schemas.DecoderManifest`)
    and ``weights`` (float32 little-endian bytes)."""

    manifest: dict
    weights: bytes


def export_mlp_decoder(model: nn.Module) -> DecoderExport | None:
    """The in-page form of ``model``'s decoder, or None when it is not a plain MLP decoder."""
    if not isinstance(model, AutoEncoder) or not isinstance(model.decoder, MLPDecoder):
        return None
    layers: list[dict] = []
    chunks: list[np.ndarray] = []
    offset = 0
    for module in model.decoder.net:
        if isinstance(module, nn.Linear):
            w = module.weight.detach().cpu().float().numpy()  # (n_out, n_in)
            b = module.bias.detach().cpu().float().numpy()
            layers.append(
                {
                    "n_in": w.shape[1],
                    "n_out": w.shape[0],
                    "activation": "none",
                    "slope": 0.0,
                    "weight_offset": offset,
                    "bias_offset": offset + w.size,
                }
            )
            chunks += [w.ravel(), b]
            offset += w.size + b.size
        elif type(module) in _ACTIVATIONS and layers:
            if type(module) is nn.ELU and float(module.alpha) != 1.0:
                return None
            layers[-1]["activation"] = _ACTIVATIONS[type(module)]
            if isinstance(module, nn.LeakyReLU):
                layers[-1]["slope"] = float(module.negative_slope)
        elif not isinstance(module, nn.Unflatten):
            return None
    weights = np.concatenate(chunks).astype("<f4").tobytes()
    manifest = {
        "layers": layers,
        "output": "sigmoid",
        "image_shape": list(model.image_shape),
        "n_floats": offset,
    }
    return DecoderExport(manifest, weights)
