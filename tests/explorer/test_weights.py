"""The in-page decoder export: running the manifest as the page does reproduces the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.explorer.weights import export_mlp_decoder
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


def test_conv_and_custom_models_are_not_exported() -> None:
    conv = build_model(ModelConfig(family="conv", image_shape=(1, 28, 28), hidden=(4, 8)))
    assert export_mlp_decoder(conv) is None

    class Mine(nn.Module):
        latent_dim = 2

        def encode(self, x):
            return x.flatten(1)[:, :2]

        def decode(self, z):
            return torch.sigmoid(z.sum(1)).view(-1, 1, 1, 1).expand(-1, 1, 4, 4)

    assert export_mlp_decoder(as_latent_model(Mine())) is None


def test_served_weights_match_the_run(client: TestClient) -> None:
    manifest = client.get("/api/runs/vae2/decoder").json()
    weights = client.get("/api/runs/vae2/decoder.bin").content
    z = np.array([[0.3, -1.2]])
    served = client.post("/api/runs/vae2/decode", json={"z": z.tolist(), "format": "array"})
    np.testing.assert_allclose(
        run_manifest(manifest, weights, z)[0], served.json()["data"], atol=1e-4
    )
