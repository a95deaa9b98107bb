"""The decoder as the explorer page runs it: its layers, their shapes and where each weight
starts in ``GET /api/runs/{id}/decoder.bin`` (float32, little-endian), served by
``GET /api/runs/{id}/decoder``. :mod:`vae_atlas.explorer.weights` builds them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Activation = Literal["relu", "tanh", "elu", "leaky_relu", "none"]


class DecoderLayer(BaseModel):
    n_in: int
    n_out: int
    activation: Activation
    slope: float = 0.0
    weight_offset: int = Field(description="float32 offset of W (n_out, n_in), row-major")
    bias_offset: int


class DecoderManifest(BaseModel):
    """How to run the MLP decoder in the page; weights are GET .../decoder.bin (float32 LE)."""

    kind: Literal["mlp"] = "mlp"
    layers: list[DecoderLayer]
    output: Literal["sigmoid"]
    image_shape: tuple[int, int, int]
    n_floats: int


class ConvDecoderLayer(BaseModel):
    op: Literal["linear", "conv_transpose2d"]
    in_shape: list[int] = Field(description="(n_in) for the linear, else (C, H, W)")
    out_shape: list[int] = Field(description="(C, H, W); the linear's output viewed so")
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None
    padding: tuple[int, int] | None = None
    output_padding: tuple[int, int] | None = None
    activation: Activation
    slope: float = 0.0
    weight_offset: int = Field(
        description="float32 offset of W in PyTorch's layout: Linear (n_out, n_in), "
        "ConvTranspose2d (C_in, C_out, kH, kW)"
    )
    bias_offset: int


class ConvDecoderManifest(BaseModel):
    """How to run a conv decoder in the page; weights are GET .../decoder.bin (float32 LE)."""

    kind: Literal["conv"]
    layers: list[ConvDecoderLayer]
    output: Literal["sigmoid"]
    image_shape: tuple[int, int, int]
    latent_dim: int
    n_floats: int


AnyDecoderManifest = Annotated[DecoderManifest | ConvDecoderManifest, Field(discriminator="kind")]
