"""Export a decoder so the page can decode in JavaScript, with no round trip per frame.

The export is a manifest and one little-endian float32 buffer; the manifest's ``kind`` says
which of the page's decoders (``static/decoder.js``, ``static/convdecoder.js``) runs it:

* ``mlp``: ``Linear → act → … → Linear → Unflatten``; each layer's weight (n_out, n_in)
  row-major, then its bias.
* ``conv``: the conv decoders of :mod:`vae_atlas.models.conv`: ``Linear → act``, viewed as the
  deepest feature map, then ``ConvTranspose2d → act → … → ConvTranspose2d``. Each layer names
  its op, its input and output shapes, kernel, stride, padding, output padding and activation;
  weights keep PyTorch's layouts — Linear (n_out, n_in), ConvTranspose2d (C_in, C_out, kH, kW)
  — each followed by its bias. The transposed convolutions are called with an output size, so
  their output padding is not a property of the module: it is worked out here from the size
  each one is pinned to (28 → 14 → 7 → 3 needs 1 going back from 3 to 7).

Both end in the likelihood's mean, a sigmoid for both the Bernoulli and the Gaussian likelihood.
Any other model (the hierarchical VAE, a conditional decoder, a user's own module) returns
``None`` and the page decodes through the server instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from vae_atlas.models import AutoEncoder
from vae_atlas.models.conv import ConvDecoder
from vae_atlas.models.mlp import MLPDecoder

_ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.ELU: "elu", nn.LeakyReLU: "leaky_relu"}
_LINEAR_OUTPUT = ("none", 0.0)


@dataclass(frozen=True)
class DecoderExport:
    """``manifest`` (a JSON-ready dict, see :mod:`vae_atlas.explorer.decoder_manifest`) and
    ``weights`` (float32 little-endian bytes)."""

    manifest: dict
    weights: bytes


class _Floats:
    """float32 arrays laid end to end; :meth:`add` returns where each one starts."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.size = 0

    def add(self, tensor: torch.Tensor) -> int:
        values = tensor.detach().cpu().float().numpy().ravel()
        self.chunks.append(values)
        self.size += values.size
        return self.size - values.size

    def tobytes(self) -> bytes:
        return np.concatenate(self.chunks).astype("<f4").tobytes()


def _activation(module: nn.Module) -> tuple[str, float] | None:
    """(name, negative slope) of an activation the page computes, or None for any other."""
    name = _ACTIVATIONS.get(type(module))
    if name is None or (name == "elu" and float(module.alpha) != 1.0):
        return None
    return name, float(module.negative_slope) if name == "leaky_relu" else 0.0


def export_decoder(model: nn.Module) -> DecoderExport | None:
    """The in-page form of ``model``'s decoder (MLP or conv), or None if the page cannot run it."""
    export = export_mlp_decoder(model)
    return export if export is not None else export_conv_decoder(model)


def export_mlp_decoder(model: nn.Module) -> DecoderExport | None:
    """The in-page form of ``model``'s decoder, or None when it is not a plain MLP decoder."""
    if not isinstance(model, AutoEncoder) or not isinstance(model.decoder, MLPDecoder):
        return None
    layers: list[dict] = []
    floats = _Floats()
    for module in model.decoder.net:
        if isinstance(module, nn.Linear):
            layers.append(
                {
                    "n_in": module.in_features,
                    "n_out": module.out_features,
                    "activation": "none",
                    "slope": 0.0,
                    "weight_offset": floats.add(module.weight),
                    "bias_offset": floats.add(module.bias),
                }
            )
        elif type(module) in _ACTIVATIONS and layers:
            act = _activation(module)
            if act is None:
                return None
            layers[-1]["activation"], layers[-1]["slope"] = act
        elif not isinstance(module, nn.Unflatten):
            return None
    manifest = {
        "kind": "mlp",
        "layers": layers,
        "output": "sigmoid",
        "image_shape": list(model.image_shape),
        "n_floats": floats.size,
    }
    return DecoderExport(manifest, floats.tobytes())


def _deconv_layer(
    module: nn.ConvTranspose2d,
    in_shape: tuple[int, int, int],
    out_hw: tuple[int, int],
    act: tuple[str, float],
    floats: _Floats,
) -> dict:
    """One transposed convolution's manifest entry, with the output padding that makes its
    output ``out_hw``: out = (in − 1)·stride − 2·padding + kernel + output padding."""
    sizes = zip(
        out_hw, in_shape[1:], module.stride, module.padding, module.kernel_size, strict=True
    )
    return {
        "op": "conv_transpose2d",
        "in_shape": list(in_shape),
        "out_shape": [module.out_channels, *out_hw],
        "kernel": list(module.kernel_size),
        "stride": list(module.stride),
        "padding": list(module.padding),
        "output_padding": [size - ((n - 1) * s - 2 * p + k) for size, n, s, p, k in sizes],
        "activation": act[0],
        "slope": act[1],
        "weight_offset": floats.add(module.weight),
        "bias_offset": floats.add(module.bias),
    }


def export_conv_decoder(model: nn.Module) -> DecoderExport | None:
    """The in-page form of a conv decoder, or None for any other decoder."""
    if not isinstance(model, AutoEncoder) or not isinstance(model.decoder, ConvDecoder):
        return None
    decoder = model.decoder
    act = _activation(decoder.act)
    if act is None:
        return None
    floats = _Floats()
    layers = [
        {
            "op": "linear",
            "in_shape": [decoder.fc.in_features],
            "out_shape": list(decoder.start_shape),  # the linear's output viewed as (C, h, w)
            "activation": act[0],
            "slope": act[1],
            "weight_offset": floats.add(decoder.fc.weight),
            "bias_offset": floats.add(decoder.fc.bias),
        }
    ]
    n = len(decoder.deconvs)
    for i, deconv in enumerate(decoder.deconvs):
        out_hw = (decoder.hs[n - 1 - i], decoder.ws[n - 1 - i])
        layer_act = act if i < n - 1 else _LINEAR_OUTPUT
        shape = tuple(layers[-1]["out_shape"])
        layers.append(_deconv_layer(deconv, shape, out_hw, layer_act, floats))
    assert layers[-1]["out_shape"] == list(model.image_shape)
    manifest = {
        "kind": "conv",
        "layers": layers,
        "output": "sigmoid",
        "image_shape": list(model.image_shape),
        "latent_dim": decoder.fc.in_features,
        "n_floats": floats.size,
    }
    return DecoderExport(manifest, floats.tobytes())
