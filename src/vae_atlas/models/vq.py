"""VQ-VAE (van den Oord et al. 2017, "Neural Discrete Representation Learning").

A conv encoder maps an image to a grid of vectors z_e (D per cell); each is replaced by its
nearest entry of a codebook of K vectors (z_q), and a conv decoder reconstructs the image from
z_q. The codebook is not learned by gradient: it follows the encoder outputs assigned to each
code with exponential moving averages (the paper's appendix A.1, decay γ = 0.99), starting
from encoder outputs of the first training batch; a code no input has chosen for
:data:`RESTART_AFTER_STEPS` training steps is re-initialised from a random encoder output of
the batch, so it gets another chance instead of staying dead. Gradients reach
the encoder through the straight-through estimator, and the commitment term β‖z_e − sg(z_q)‖²
(β = 0.25) keeps the encoder close to its codes.

Like batch normalisation's running statistics, the codebook's moving averages are buffers
updated by the forward pass in training mode; they are part of the state dict, so checkpoints
carry them and a resumed run repeats the uninterrupted one exactly. The loss itself,
:func:`vq_loss`, is a pure function.

For the analysis protocol a VQ-VAE is deterministic: ``encode(x)`` returns the quantised grid
flattened to (B, D·h·w) (and no log-variance), ``decode`` takes such a flattened grid, so
reconstruction numbers work unchanged; :meth:`VQAutoEncoder.codes` gives the code indices.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.models.conv import _stage_sizes
from vae_atlas.models.likelihood import build_likelihood
from vae_atlas.models.mlp import ACTIVATIONS
from vae_atlas.models.vae import AutoEncoder, LossTerms, widened

EMA_DECAY = 0.99
LAPLACE_EPS = 1e-5  # smoothing of the code counts, so a code no input chose never divides by 0
RESTART_AFTER_STEPS = 100


def straight_through(z_e: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
    """z_q in the forward pass; in the backward pass the gradient of z_q is handed to z_e
    unchanged (the straight-through estimator, Bengio et al. 2013)."""
    return z_e + (z_q - z_e).detach()


def vq_loss(log_px: torch.Tensor, z_e: torch.Tensor, z_q: torch.Tensor, beta: float) -> LossTerms:
    """−log p(x | z_q) + β ‖z_e − sg(z_q)‖², batch means in nats per image.

    ``log_px`` (B,) is computed from the straight-through codes; ``z_e`` and ``z_q`` are the
    encoder outputs and their codes (B, ...). The commitment term is reported as ``kl`` (it
    takes the KL's place in the loss; a VQ-VAE's KL against a uniform prior over codes is the
    constant log K per cell and is left out, as in the paper).
    """
    recon = -log_px.mean()
    commitment = (z_e - z_q.detach()).square().flatten(1).sum(1).mean()
    return LossTerms(
        loss=recon + beta * commitment,
        recon=recon,
        kl=commitment,
        kl_per_dim=commitment.detach().reshape(1),
    )


def perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of the code usage ``counts`` (K,): K when every code is used equally, 1
    when one code takes every cell."""
    p = counts.double() / counts.sum().clamp_min(1)
    entropy = -(p * torch.log(p.clamp_min(1e-300))).sum()
    return float(torch.exp(entropy))


class EMACodebook(nn.Module):
    """K code vectors of size D, updated by moving averages of their assigned inputs."""

    def __init__(self, size: int, dim: int, *, restart_after: int = RESTART_AFTER_STEPS) -> None:
        super().__init__()
        self.size, self.dim, self.restart_after = size, dim, restart_after
        embedding = torch.empty(size, dim).uniform_(-1.0 / size, 1.0 / size)
        self.register_buffer("embedding", embedding)  # (K, D)
        self.register_buffer("ema_count", torch.ones(size))  # (K,)
        self.register_buffer("ema_sum", embedding.clone())  # (K, D)
        self.register_buffer("unused_steps", torch.zeros(size, dtype=torch.int64))  # (K,)
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def init_from(self, flat: torch.Tensor, generator: torch.Generator | None) -> None:
        """Start every code at a random row of the encoder outputs ``flat`` (M, D): codes
        started far from the encoder's outputs would all lose to the one nearest them."""
        pick = torch.randint(flat.shape[0], (self.size,), generator=generator, device=flat.device)
        self.embedding.copy_(flat[pick])
        self.ema_sum.copy_(flat[pick])
        self.ema_count.fill_(1.0)
        self.initialised.fill_(True)

    def assign(self, flat: torch.Tensor) -> torch.Tensor:
        """Index (M,) of the nearest code (squared Euclidean) to each row of ``flat`` (M, D)."""
        e = self.embedding.to(flat.dtype)
        dist = flat.square().sum(1, keepdim=True) - 2.0 * flat @ e.T + e.square().sum(1)  # (M, K)
        return dist.argmin(1)

    @torch.no_grad()
    def update(
        self, flat: torch.Tensor, codes: torch.Tensor, generator: torch.Generator | None
    ) -> None:
        """One EMA step from encoder outputs ``flat`` (M, D) assigned to ``codes`` (M,):
        N ← γN + (1−γ)n, m ← γm + (1−γ)Σz, e = m / N (N Laplace-smoothed); then restart the
        codes unused for ``restart_after`` steps from random rows of ``flat``."""
        flat = flat.to(self.ema_sum.dtype)
        onehot = torch.zeros(flat.shape[0], self.size, dtype=flat.dtype, device=flat.device)
        onehot.scatter_(1, codes[:, None], 1.0)  # (M, K)
        counts = onehot.sum(0)  # (K,)
        self.ema_count.mul_(EMA_DECAY).add_(counts, alpha=1.0 - EMA_DECAY)
        self.ema_sum.mul_(EMA_DECAY).add_(onehot.T @ flat, alpha=1.0 - EMA_DECAY)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + LAPLACE_EPS) / (total + self.size * LAPLACE_EPS) * total
        self.embedding.copy_(self.ema_sum / smoothed[:, None])
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)
        dead = (self.unused_steps >= self.restart_after).nonzero().flatten()
        if dead.numel():
            pick = torch.randint(
                flat.shape[0], (dead.numel(),), generator=generator, device=flat.device
            )
            self.embedding[dead] = flat[pick]
            self.ema_sum[dead] = flat[pick]
            self.ema_count[dead] = 1.0
            self.unused_steps[dead] = 0


class VQEncoder(nn.Module):
    """(B, C, H, W) -> (B, D, h, w): stride-2 conv stages with ``hidden`` channels, then 1x1."""

    def __init__(self, channels: int, hidden: tuple[int, ...], dim: int, activation: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for ch_in, ch_out in zip((channels, *hidden[:-1]), hidden, strict=True):
            layers += [nn.Conv2d(ch_in, ch_out, 4, stride=2, padding=1), ACTIVATIONS[activation]()]
        layers += [nn.Conv2d(hidden[-1], hidden[-1], 3, padding=1), ACTIVATIONS[activation]()]
        layers.append(nn.Conv2d(hidden[-1], dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class VQDecoder(nn.Module):
    """Flattened code grids (B, D·h·w) -> (B, C, H, W) image parameters, mirroring the encoder
    with transposed convolutions pinned to the encoder's stage sizes."""

    def __init__(
        self, image_shape: tuple[int, int, int], hidden: tuple[int, ...], dim: int, activation: str
    ) -> None:
        super().__init__()
        c, h, w = image_shape
        self.hs, self.ws = _stage_sizes(h, len(hidden)), _stage_sizes(w, len(hidden))
        self.grid_shape = (dim, self.hs[-1], self.ws[-1])
        channels = list(reversed(hidden))
        self.act = ACTIVATIONS[activation]()
        self.inner = nn.Conv2d(dim, channels[0], 3, padding=1)
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(ch_in, ch_out, 4, stride=2, padding=1)
            for ch_in, ch_out in zip(channels, [*channels[1:], c], strict=True)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.act(self.inner(z.reshape(-1, *self.grid_shape)))  # (B, C_deep, h, w)
        n = len(self.deconvs)
        for i, deconv in enumerate(self.deconvs):
            x = deconv(x, output_size=(self.hs[n - 1 - i], self.ws[n - 1 - i]))
            if i < n - 1:
                x = self.act(x)
        return x


class VQAutoEncoder(AutoEncoder):
    """A VQ-VAE built from one :class:`ModelConfig` (objective ``vq-vae``).

    ``cfg.latent_dim`` is the code size D, ``cfg.codebook_size`` the number of codes K and
    ``cfg.hidden`` the conv channels per stride-2 stage (the grid is the image halved once per
    stage). ``latent_dim`` (the protocol's) is the flattened grid size D·h·w.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        nn.Module.__init__(self)  # the parts differ from AutoEncoder's; its methods are shared
        self.cfg = cfg
        self.image_shape = cfg.image_shape
        self.encoder = VQEncoder(cfg.image_shape[0], cfg.hidden, cfg.latent_dim, cfg.activation)
        self.decoder = VQDecoder(cfg.image_shape, cfg.hidden, cfg.latent_dim, cfg.activation)
        self.codebook = EMACodebook(cfg.codebook_size, cfg.latent_dim)
        self.likelihood = build_likelihood(
            cfg.likelihood, sigma=cfg.sigma, learn_sigma=cfg.learn_sigma
        )
        self.grid = self.decoder.grid_shape[1:]  # (h, w)
        if min(self.grid) < 1:
            raise ValueError(
                f"{len(cfg.hidden)} conv stages are too many for {cfg.image_shape[1:]} images"
            )
        self.latent_dim = math.prod(self.decoder.grid_shape)

    @property
    def stochastic(self) -> bool:
        return False

    def quantise(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder grids (B, D, h, w) -> their codes' vectors (B, D, h, w), indices (B, h, w)."""
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)  # (B·h·w, D)
        index = self.codebook.assign(flat)
        z_q = self.codebook.embedding.to(z_e.dtype)[index]  # (B·h·w, D)
        return z_q.view(b, h, w, d).permute(0, 3, 1, 2), index.view(b, h, w)

    def codes(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) -> code indices (B, h, w)."""
        return self.quantise(self.encoder(x))[1]

    def embed(self, codes: torch.Tensor) -> torch.Tensor:
        """Code indices (B, h, w) -> flattened code grids (B, D·h·w), ready for ``decode``."""
        z_q = self.codebook.embedding[codes]  # (B, h, w, D)
        return z_q.permute(0, 3, 1, 2).flatten(1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Images (B, C, H, W) -> flattened quantised grids (B, D·h·w), no log-variance."""
        return self.quantise(self.encoder(x))[0].flatten(1), None

    def loss(
        self,
        x: torch.Tensor,
        *,
        kl_weight: float = 1.0,
        capacity: float = 0.0,
        k: int = 1,
        generator: torch.Generator | None = None,
    ) -> LossTerms:
        """The VQ-VAE loss of a batch x (B, C, H, W); ``kl_weight`` is the commitment weight β
        (the config's ``beta``, 0.25 by default). In training mode the codebook takes one EMA
        step (and restarts dead codes, drawing from ``generator``)."""
        del capacity, k
        z_e = widened(self.encoder(x))  # (B, D, h, w)
        z_q, index = self.quantise(z_e)
        if self.training:
            flat = z_e.detach().permute(0, 2, 3, 1).reshape(-1, z_e.shape[1])  # (B·h·w, D)
            if not self.codebook.initialised:
                self.codebook.init_from(flat, generator)
                z_q, index = self.quantise(z_e)
            self.codebook.update(flat, index.flatten(), generator)
        log_px = self.log_px_given_z(x, straight_through(z_e, z_q).flatten(1))
        return vq_loss(log_px, z_e, z_q, kl_weight)
