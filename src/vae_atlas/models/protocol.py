"""The small protocol every analysis in vae-atlas needs, so models trained elsewhere work too.

A model is anything with

* ``encode(x) -> (mu, logvar)``: images (B, C, H, W) float in [0, 1] to the posterior mean and
  log-variance, each (B, latent_dim); a deterministic autoencoder returns ``(z, None)`` or just
  ``z``;
* ``decode(z) -> x_hat``: codes (B, latent_dim) to mean images (B, C, H, W) in [0, 1].

Optionally ``log_px_given_z(x, z) -> (B,)`` (nats) enables likelihood-based numbers (ELBO,
importance-sampled NLL, anomaly scores). :func:`as_latent_model` wraps any ``nn.Module`` with
these methods into a :class:`LatentModel` with a uniform interface.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class LatentModel(Protocol):
    """What vae-atlas needs from a model (see the module docstring)."""

    latent_dim: int

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


class ModelAdapter(nn.Module):
    """Gives a user's module the exact :class:`LatentModel` interface.

    Parameters
    ----------
    module : the user's model, with ``encode`` and ``decode``.
    latent_dim : its latent size; read from ``module.latent_dim`` when not given.
    decode_returns_logits : set when ``decode`` returns logits instead of images in [0, 1].
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        latent_dim: int | None = None,
        decode_returns_logits: bool = False,
    ) -> None:
        super().__init__()
        for method in ("encode", "decode"):
            if not callable(getattr(module, method, None)):
                raise TypeError(
                    f"{type(module).__name__} has no {method}() method "
                    "(see vae_atlas.models.protocol)"
                )
        latent_dim = latent_dim if latent_dim is not None else getattr(module, "latent_dim", None)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise TypeError(
                f"cannot tell the latent size of {type(module).__name__}: give latent_dim= "
                "or set a latent_dim attribute"
            )
        self.module = module
        self.latent_dim = latent_dim
        self.decode_returns_logits = decode_returns_logits

    @property
    def stochastic(self) -> bool:
        return bool(getattr(self.module, "stochastic", True))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.module.encode(x)
        if isinstance(out, torch.Tensor):
            return out, None
        if isinstance(out, (tuple, list)) and len(out) == 2:
            return out[0], out[1]
        raise TypeError(
            f"{type(self.module).__name__}.encode must return (mu, logvar) or a tensor, "
            f"got {type(out).__name__}"
        )

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.module.decode(z)
        return torch.sigmoid(out) if self.decode_returns_logits else out

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        fn = getattr(self.module, "log_px_given_z", None)
        if fn is None:
            raise TypeError(
                f"{type(self.module).__name__} has no log_px_given_z(x, z); likelihood-based "
                "numbers need it"
            )
        return fn(x, z)


def as_latent_model(model: nn.Module, **kwargs: object) -> nn.Module:
    """Return ``model`` unchanged if it is a vae-atlas AutoEncoder, else a :class:`ModelAdapter`."""
    from vae_atlas.models.vae import AutoEncoder

    if isinstance(model, (AutoEncoder, ModelAdapter)):
        return model
    return ModelAdapter(model, **kwargs)  # type: ignore[arg-type]


def has_likelihood(model: nn.Module) -> bool:
    """Whether ``model`` can score images (has a usable ``log_px_given_z``)."""
    if isinstance(model, ModelAdapter):
        return callable(getattr(model.module, "log_px_given_z", None))
    return callable(getattr(model, "log_px_given_z", None))
