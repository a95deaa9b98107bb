"""A two-level hierarchical VAE with ladder-style top-down inference (Sønderby et al. 2016,
"Ladder Variational Autoencoders"), in the residual parameterisation of NVAE (Vahdat & Kautz 2020).

Generative model: z2 ~ N(0, I) (the top level, ``latent_dim``), z1 | z2 ~ N(μ_p(z2), σ_p(z2)²)
(the lower level, ``lower_latent_dim``), x | z1 ~ the pixel likelihood.

Inference shares one bottom-up pass h = f(x): q(z2|x) = N(μ(h), σ(h)²), then top-down
q(z1|x, z2) = N(μ_p(z2) + Δμ(h, z2), σ_p(z2)² · exp(Δv(h, z2))): the posterior is the prior
p(z1|z2) moved by a residual, so KL(q(z1|x,z2) ‖ p(z1|z2)) = ½ Σ [Δμ²/σ_p² + e^Δv − 1 − Δv]
(NVAE, eq. 2).

The model shows one level at a time to the figures (``level``: 2, the top, by default; the CLI's
``--level top|bottom``): ``encode`` returns that level's posterior (for level 1, the bottom, at
z2 = the mean of q(z2|x)); a top-level code is decoded through the mean of p(z1|z2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from vae_atlas.config import ModelConfig
from vae_atlas.models.conv import ConvDecoder, ConvEncoder
from vae_atlas.models.likelihood import build_likelihood
from vae_atlas.models.mlp import ACTIVATIONS, MLPDecoder, MLPEncoder
from vae_atlas.models.priors import ElboTermsLoss, MixturePrior, standard_normal
from vae_atlas.models.vae import (
    AutoEncoder,
    gaussian_kl_per_dim,
    log_normal,
    log_standard_normal,
    reparameterize,
    widened,
)

LEVELS = (1, 2)
TOP = 2
# the words the CLI's --level takes for the levels, as the figures' captions name them
LEVEL_NAMES = {"top": 2, "bottom": 1}
# ancestral draws of z2 whose p(z1|z2) stand for the lower level's marginal prior p(z1)
LOWER_PRIOR_DRAWS = 1000
LOWER_PRIOR_SEED = 0


@dataclass(frozen=True)
class HierarchicalPass:
    """One draw through both levels for a batch: posteriors, codes and the conditional prior,
    each (B, D2) or (B, D1)."""

    mu2: torch.Tensor
    logvar2: torch.Tensor
    z2: torch.Tensor
    mu1: torch.Tensor
    logvar1: torch.Tensor
    z1: torch.Tensor
    prior_mu1: torch.Tensor
    prior_logvar1: torch.Tensor


def residual_kl(
    delta_mu: torch.Tensor, delta_logvar: torch.Tensor, prior_logvar: torch.Tensor
) -> torch.Tensor:
    """KL(N(μ_p + Δμ, σ_p² e^Δv) ‖ N(μ_p, σ_p²)) per element: ½(Δμ²/σ_p² + e^Δv − 1 − Δv)."""
    return 0.5 * (
        delta_mu.square() * torch.exp(-prior_logvar) + delta_logvar.exp() - 1.0 - delta_logvar
    )


def _mlp(n_in: int, width: int, n_out: int, activation: str) -> nn.Sequential:
    act = ACTIVATIONS[activation]
    return nn.Sequential(nn.Linear(n_in, width), act(), nn.Linear(width, n_out))


class HierarchicalVAE(ElboTermsLoss, nn.Module):
    """Two stochastic levels, built from one :class:`ModelConfig` (``objective="hvae"``).

    ``latent_dim`` is the size of the level shown (``level``, see :meth:`show_level`).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.image_shape = cfg.image_shape
        self.top_dim, self.lower_dim = cfg.latent_dim, cfg.lower_latent_dim
        width = cfg.hidden[-1]
        enc_cls, dec_cls = (
            (MLPEncoder, MLPDecoder) if cfg.family == "mlp" else (ConvEncoder, ConvDecoder)
        )
        self.encoder = enc_cls(cfg.image_shape, cfg.hidden, width, cfg.activation)
        self.feature_act = ACTIVATIONS[cfg.activation]()
        self.q_top = nn.Linear(width, 2 * self.top_dim)
        self.q_lower = _mlp(width + self.top_dim, width, 2 * self.lower_dim, cfg.activation)
        self.p_lower = _mlp(self.top_dim, width, 2 * self.lower_dim, cfg.activation)
        self.decoder = dec_cls(cfg.image_shape, cfg.hidden, self.lower_dim, cfg.activation)
        self.likelihood = build_likelihood(
            cfg.likelihood, sigma=cfg.sigma, learn_sigma=cfg.learn_sigma
        )
        self.level = TOP
        self.stochastic = True  # the protocol's flag: encode returns a log-variance

    @property
    def latent_dim(self) -> int:
        return self.top_dim if self.level == TOP else self.lower_dim

    def show_level(self, level: int | str) -> None:
        """Show level 2 (z2, the top; the default) or level 1 (z1, the bottom) to every figure;
        ``"top"`` and ``"bottom"`` name them too."""
        level = LEVEL_NAMES.get(level, level) if isinstance(level, str) else level
        if level not in LEVELS:
            raise ValueError(f"level={level!r} is not one of 2 or 'top' (z2), 1 or 'bottom' (z1)")
        self.level = level

    @property
    def level_name(self) -> str:
        """The shown level as ``--level`` names it: ``"top"`` or ``"bottom"``."""
        return "top" if self.level == TOP else "bottom"

    @property
    def level_words(self) -> str:
        """The shown level in a few words, for captions: "the top level z2"."""
        return "the top level z2" if self.level == TOP else "the bottom level z1"

    def level_label(self) -> str:
        """Which level the figures show, in words."""
        if self.level == TOP:
            return f"{self.level_words} ({self.top_dim}-D; decoded through the mean of p(z1|z2))"
        return f"{self.level_words} ({self.lower_dim}-D; at z2 = the mean of q(z2|x))"

    # -- the two levels --------------------------------------------------------------------------
    def _features(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_act(self.encoder(x))  # (B, width)

    def _top_posterior(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu2, logvar2 = widened(self.q_top(h)).chunk(2, dim=1)
        return mu2, logvar2

    def lower_prior(self, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """p(z1|z2): means and log-variances (B, D1) of top-level codes z2 (B, D2)."""
        mu, logvar = widened(self.p_lower(z2)).chunk(2, dim=1)
        return mu, logvar

    def _lower_residual(
        self, h: torch.Tensor, z2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        delta_mu, delta_logvar = widened(self.q_lower(torch.cat([h, z2.to(h)], 1))).chunk(2, 1)
        return delta_mu, delta_logvar

    def infer(
        self, x: torch.Tensor, generator: torch.Generator | None, n_draws: int = 1
    ) -> HierarchicalPass:
        """``n_draws`` draws z2 ~ q(z2|x), z1 ~ q(z1|x, z2) for each image of x (B, C, H, W),
        image-major (B·n_draws rows); the bottom-up pass runs once per image."""
        h = self._features(x).repeat_interleave(n_draws, dim=0)  # (B·n, width)
        mu2, logvar2 = self._top_posterior(h)
        z2 = reparameterize(mu2, logvar2, generator)
        prior_mu1, prior_logvar1 = self.lower_prior(z2)
        delta_mu, delta_logvar = self._lower_residual(h, z2)
        mu1, logvar1 = prior_mu1 + delta_mu, prior_logvar1 + delta_logvar
        z1 = reparameterize(mu1, logvar1, generator)
        return HierarchicalPass(mu2, logvar2, z2, mu1, logvar1, z1, prior_mu1, prior_logvar1)

    # -- the protocol, at the level shown --------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, C, H, W) in [0, 1] -> the shown level's posterior means and log-variances."""
        h = self._features(x)
        mu2, logvar2 = self._top_posterior(h)
        if self.level == TOP:
            return mu2, logvar2
        prior_mu1, prior_logvar1 = self.lower_prior(mu2)
        delta_mu, delta_logvar = self._lower_residual(h, mu2)
        return prior_mu1 + delta_mu, prior_logvar1 + delta_logvar

    def decode_params(self, z: torch.Tensor) -> torch.Tensor:
        """Codes of the shown level (B, D) -> likelihood parameters (B, C, H, W)."""
        if self.level == TOP:
            z = self.lower_prior(z)[0].to(z.dtype)  # the mean of p(z1|z2)
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.likelihood.mean(self.decode_params(z))

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x | z) (B,) for codes of the shown level (a top-level z through the mean of
        p(z1|z2))."""
        return self.likelihood.log_prob(x, widened(self.decode_params(z)))

    def prior_distribution(self) -> MixturePrior:
        """N(0, I) at the top; at the lower level, p(z1) = E_{z2 ~ N(0, I)} p(z1|z2) as a mixture
        over ``LOWER_PRIOR_DRAWS`` seeded draws of z2."""
        if self.level == TOP:
            return standard_normal(self.top_dim)
        device = next(self.parameters()).device
        gen = torch.Generator(device=device).manual_seed(LOWER_PRIOR_SEED)
        z2 = torch.randn((LOWER_PRIOR_DRAWS, self.top_dim), generator=gen, device=device)
        means, logvars = self.lower_prior(z2)
        label = f"the marginal prior p(z1) = E p(z1|z2) ({LOWER_PRIOR_DRAWS} draws of z2)"
        return MixturePrior(means, logvars, label)

    # -- bounds ----------------------------------------------------------------------------------
    def log_weights(
        self, x: torch.Tensor, n_draws: int, generator: torch.Generator | None
    ) -> torch.Tensor:
        """log p(x, z1, z2) − log q(z1, z2 | x) (B, n_draws) for ``n_draws`` draws per image from
        the model's own proposal q(z2|x) q(z1|x, z2)."""
        batch = x.shape[0]
        x_rep = x.repeat_interleave(n_draws, dim=0)  # (B·n, C, H, W), image-major
        p = self.infer(x, generator, n_draws)
        log_w = (
            self.likelihood.log_prob(x_rep, widened(self.decoder(p.z1)))
            + log_normal(p.z1, p.prior_mu1, p.prior_logvar1)
            + log_standard_normal(p.z2)
            - log_normal(p.z2, p.mu2, p.logvar2)
            - log_normal(p.z1, p.mu1, p.logvar1)
        )
        return log_w.view(batch, n_draws)

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image: reconstruction NLL (B,), KL (B,) = KL(q(z2|x) ‖ N(0, I)) + KL(q(z1|x, z2) ‖
        p(z1|z2)) (each in closed form, at one draw of z2), and the shown level's KL per
        dimension (B, D)."""
        p = self.infer(x, generator)
        recon = -self.likelihood.log_prob(x, widened(self.decoder(p.z1)))
        kl_top = gaussian_kl_per_dim(p.mu2, p.logvar2)  # (B, D2)
        kl_lower = residual_kl(
            p.mu1 - p.prior_mu1, p.logvar1 - p.prior_logvar1, p.prior_logvar1
        )  # (B, D1)
        kl = kl_top.sum(1) + kl_lower.sum(1)
        return recon, kl, kl_top if self.level == TOP else kl_lower

    @torch.no_grad()
    def init_output_bias(self, mean_image: torch.Tensor, eps: float = 1e-3) -> bool:
        """The decoder starts at the data's mean image, as :class:`AutoEncoder`'s does (the same
        decoder classes, so the same rule)."""
        return AutoEncoder.init_output_bias(self, mean_image, eps)  # type: ignore[arg-type]


@contextmanager
def level_shown(model: HierarchicalVAE, level: int | str) -> Iterator[HierarchicalVAE]:
    """Show ``level`` for the duration of a ``with`` block, then the level shown before (for a
    figure that must be drawn at one level whatever the report shows, e.g. the traversals)."""
    before = model.level
    model.show_level(level)
    try:
        yield model
    finally:
        model.level = before


def has_levels(model: object) -> bool:
    """Whether ``model`` has levels that ``--level`` can choose between."""
    return isinstance(model, HierarchicalVAE)
