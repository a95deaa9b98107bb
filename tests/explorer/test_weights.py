"""The in-page decoder export: running the manifest's arithmetic reproduces the model.

The conv manifest is run here by numpy in a different order from the page's kernels: a
transposed convolution as one product per kernel tap placed on the strided full-size output,
cropped by the padding (PyTorch's definition). The page's own kernels are held to
``model.decode`` in chromium (tests/e2e/test_conv_decoder_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.explorer.weights import export_conv_decoder, export_decoder, export_mlp_decoder
from vae_atlas.models import as_latent_model, build_model

ACT = {
    "none": lambda v, s: v,
    "relu": lambda v, s: np.maximum(v, 0),
    "tanh": lambda v, s: np.tanh(v),
    "elu": lambda v, s: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
    "leaky_relu": lambda v, s: np.where(v > 0, v, s * v),
}


def run_manifest(manifest: dict, weights: bytes, z: np.ndarray) -> np.ndarray:
    """The same arithmetic as decoder.js, in numpy: (B, D) -> (B, C*H*W)."""
    w = np.frombuffer(weights, dtype="<f4")
    assert w.size == manifest["n_floats"]
    x = z.astype(np.float32)
    for layer in manifest["layers"]:
        n_in, n_out, off = layer["n_in"], layer["n_out"], layer["weight_offset"]
        W = w[off : off + n_in * n_out].reshape(n_out, n_in)
        b = w[layer["bias_offset"] : layer["bias_offset"] + n_out]
        x = ACT[layer["activation"]](x @ W.T + b, layer["slope"])
    assert manifest["output"] == "sigmoid"
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("activation", ["relu", "tanh", "elu", "leaky_relu"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_export_reproduces_decode(activation: str, likelihood: str) -> None:
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            image_shape=(1, 6, 5),
            latent_dim=3,
            hidden=(16, 8),
            activation=activation,
            likelihood=likelihood,
        )
    ).eval()
    export = export_mlp_decoder(model)
    assert export is not None and export.manifest["image_shape"] == [1, 6, 5]
    z = np.random.default_rng(0).normal(size=(4, 3))
    with torch.no_grad():
        expected = model.decode(torch.tensor(z, dtype=torch.float32)).flatten(1).numpy()
    np.testing.assert_allclose(
        run_manifest(export.manifest, export.weights, z), expected, atol=1e-5
    )


def conv_transpose(x, w, b, stride, padding, out_hw):
    """x (Ci, H, W), w (Ci, Co, kH, kW) -> (Co, *out_hw): each tap's product on the strided
    full output ((H - 1)·s + k), then the padding cropped off the top and left."""
    ci, h, wd = x.shape
    _, co, kh, kw = w.shape
    full = np.zeros((co, (h - 1) * stride[0] + kh, (wd - 1) * stride[1] + kw))
    for ky in range(kh):
        for kx in range(kw):
            tap = np.einsum("cij,cd->dij", x, w[:, :, ky, kx])
            rows = slice(ky, ky + stride[0] * (h - 1) + 1, stride[0])
            cols = slice(kx, kx + stride[1] * (wd - 1) + 1, stride[1])
            full[:, rows, cols] += tap
    full = np.pad(full, ((0, 0), (0, out_hw[0]), (0, out_hw[1])))  # output padding lands here
    top, left = padding
    return full[:, top : top + out_hw[0], left : left + out_hw[1]] + b[:, None, None]


def run_conv_manifest(manifest: dict, weights: bytes, z: np.ndarray) -> np.ndarray:
    """A conv manifest run by numpy: (D,) -> (C*H*W,)."""
    w = np.frombuffer(weights, dtype="<f4").astype(np.float64)
    assert w.size == manifest["n_floats"] and manifest["output"] == "sigmoid"
    x = z.astype(np.float64)
    for layer in manifest["layers"]:
        op, out, at = layer["op"], layer["out_shape"], layer["bias_offset"]
        weight = w[layer["weight_offset"] : at]  # each layer's bias follows its weight
        if op == "linear":
            n_out = int(np.prod(out))
            x = (weight.reshape(n_out, -1) @ x.ravel() + w[at : at + n_out]).reshape(out)
        else:
            assert op == "conv_transpose2d"
            c_in, (kh, kw), b = layer["in_shape"][0], layer["kernel"], w[at : at + out[0]]
            kernel = weight.reshape(c_in, out[0], kh, kw)
            x = x.reshape(layer["in_shape"])
            x = conv_transpose(x, kernel, b, layer["stride"], layer["padding"], out[1:])
        x = ACT[layer["activation"]](x, layer["slope"])
    return (1 / (1 + np.exp(-x))).ravel()


def decoded(model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.tensor(z, dtype=torch.float32)).flatten(1).numpy()


CONV_MODELS = {
    # 28 -> 14 -> 7 -> 3: going back from 3 to 7 needs an output padding of 1
    "digits-28-three-stages": dict(image_shape=(1, 28, 28), hidden=(4, 6, 8), latent_dim=3),
    "colour-32": dict(image_shape=(3, 32, 32), hidden=(4, 8), latent_dim=5),
    "colour-64-gaussian": dict(
        image_shape=(3, 64, 64), hidden=(4, 4, 6, 6), latent_dim=4, likelihood="gaussian"
    ),
}


@pytest.mark.parametrize("name", CONV_MODELS)
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "tanh"])
def test_conv_export_reproduces_decode(name: str, activation: str) -> None:
    torch.manual_seed(0)
    cfg = ModelConfig(family="conv", activation=activation, **CONV_MODELS[name])
    model = build_model(cfg).eval()
    export = export_decoder(model)
    assert export is not None and export.manifest["kind"] == "conv"
    assert export.manifest["image_shape"] == list(cfg.image_shape)
    z = np.random.default_rng(1).normal(size=(3, model.latent_dim))
    mine = np.stack([run_conv_manifest(export.manifest, export.weights, row) for row in z])
    np.testing.assert_allclose(mine, decoded(model, z), atol=1e-5)


def test_output_padding_is_the_pinned_size_minus_the_formula() -> None:
    model = build_model(ModelConfig(family="conv", **CONV_MODELS["digits-28-three-stages"]))
    layers = export_conv_decoder(model).manifest["layers"]
    # 3x3 -> 7x7: (3 - 1)·2 - 2 + 4 = 6, one short; 7 -> 14 and 14 -> 28 need none
    assert [layer["out_shape"][1:] for layer in layers] == [[3, 3], [7, 7], [14, 14], [28, 28]]
    assert [layer.get("output_padding") for layer in layers] == [None, [1, 1], [0, 0], [0, 0]]


def test_models_the_page_cannot_run_are_not_exported() -> None:
    conv = build_model(ModelConfig(family="conv", image_shape=(1, 28, 28), hidden=(4, 8)))
    assert export_mlp_decoder(conv) is None
    hvae = build_model(ModelConfig(objective="hvae", image_shape=(1, 8, 8), hidden=(16,)))
    assert export_decoder(hvae) is None
    vq = ModelConfig(objective="vq-vae", family="conv", image_shape=(1, 8, 8), hidden=(4, 6))
    assert export_decoder(build_model(vq)) is None  # its codes are not explored in a map

    class Mine(nn.Module):
        latent_dim = 2

        def encode(self, x):
            return x.flatten(1)[:, :2]

        def decode(self, z):
            return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)

    assert export_decoder(as_latent_model(Mine())) is None


def test_served_weights_match_the_run(client: TestClient) -> None:
    manifest = client.get("/api/runs/vae2/decoder").json()
    weights = client.get("/api/runs/vae2/decoder.bin").content
    z = np.array([[0.3, -1.2]])
    served = client.post("/api/runs/vae2/decode", json={"z": z.tolist(), "format": "array"})
    np.testing.assert_allclose(
        run_manifest(manifest, weights, z)[0], served.json()["data"], atol=1e-4
    )


def test_served_conv_weights_match_the_run(client: TestClient) -> None:
    manifest = client.get("/api/runs/conv3/decoder").json()
    weights = client.get("/api/runs/conv3/decoder.bin").content
    z = [0.7, -0.4, 1.5]
    served = client.post("/api/runs/conv3/decode", json={"z": [z], "format": "array"})
    np.testing.assert_allclose(
        run_conv_manifest(manifest, weights, np.array(z)), served.json()["data"], atol=1e-4
    )
