"""Per-image likelihood bounds: the ELBO (Kingma & Welling 2014) and the importance-weighted
estimate of log p(x) (Burda, Grosse & Salakhutdinov 2016, "Importance Weighted Autoencoders").

``neg_elbo_per_image`` returns −ELBO(x) = E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)) for every image,
in nats, estimated with ``n_samples`` draws of z (the KL term is exact).

``iwae_nll_per_image`` returns −log p̂_k(x) with the k-sample importance-weighted bound

    log p̂_k(x) = log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x),

which is a lower bound on log p(x) in expectation, increases with k and equals the ELBO at k=1.
Burda et al. report test NLL with k = 5,000. The k samples are drawn for several images at once
and decoded in one big batch (``rows`` codes per decoder call), the encoder runs once per image,
and the k log-weights are reduced with a chunked, numerically stable log-sum-exp.

With ``binarize_seed`` the grey-level images are binarised once, x ~ Bernoulli(pixel), with that
seed — the "dynamically binarised" MNIST protocol of Burda et al. for a Bernoulli decoder, made
by :func:`vae_atlas.data.binarize_images`, the function the training loop's test set comes from
(with seed ``derive_seed(train.seed, "binarize-test")``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vae_atlas.analysis.encode import model_device, raw_pixels
from vae_atlas.analysis.logistic_decoder import LogisticFormDecoder, is_binary
from vae_atlas.data import ImageSet, binarize_images
from vae_atlas.models.inference import eval_mode
from vae_atlas.models.likelihood import BernoulliLikelihood
from vae_atlas.models.priors import MixturePrior, own_prior
from vae_atlas.models.protocol import has_likelihood
from vae_atlas.models.vae import AutoEncoder, gaussian_kl_per_dim, log_normal

LOG_2 = math.log(2.0)


def _float_images(
    images: ImageSet | torch.Tensor, binarize_seed: int | None
) -> tuple[torch.Tensor, float]:
    """The raw tensor and the factor turning it into [0, 1] floats; binarised up front if asked."""
    raw, scale = raw_pixels(images)
    if binarize_seed is None:
        return raw, scale
    return binarize(images, binarize_seed), 1.0


def binarize(images: ImageSet | torch.Tensor, seed: int) -> torch.Tensor:
    """One fixed stochastic binarisation x ~ Bernoulli(pixel) of a whole set, float32 (N, C, H, W)
    (:func:`vae_atlas.data.binarize_images`: the same bytes as the training loop's test set)."""
    return binarize_images(images, seed)


@torch.no_grad()
def neg_elbo_per_image(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    n_samples: int = 1,
    batch_size: int = 1024,
    seed: int = 0,
) -> np.ndarray:
    """−ELBO of each image (N,) in nats; a plain AE gets its reconstruction NLL at z = enc(x)."""
    if not has_likelihood(model):
        raise TypeError("this model has no log_px_given_z(x, z); it cannot score images")
    raw, scale = raw_pixels(images)
    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    prior = own_prior(model)  # None: N(0, I)
    out = []
    with eval_mode(model):
        for start in range(0, raw.shape[0], batch_size):
            x = raw[start : start + batch_size].to(device=device, dtype=torch.float32) * scale
            if hasattr(model, "elbo_terms"):  # a prior or a proposal of its own
                out.append(_own_neg_elbo(model, x, n_samples, gen).cpu())
                continue
            mu, logvar = model.encode(x)
            if logvar is None:
                out.append(-model.log_px_given_z(x, mu).double().cpu())
                continue
            # KL(q ‖ N(0, I)) in closed form; against a prior of the model's own, the Monte
            # Carlo log q(z|x) − log p(z) at the same draws as the reconstruction
            kl = gaussian_kl_per_dim(mu, logvar).sum(1).double() if prior is None else 0.0
            recon = torch.zeros(mu.shape[0], dtype=torch.float64, device=device)
            for _ in range(n_samples):
                eps = torch.randn(mu.shape, generator=gen, device=device)
                z = mu + eps * torch.exp(0.5 * logvar)
                recon -= model.log_px_given_z(x, z).double()
                if prior is not None:
                    kl = kl + (log_normal(z, mu, logvar) - prior.log_prob(z)).double() / n_samples
            out.append((recon / n_samples + kl).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


def _own_neg_elbo(
    model: nn.Module, x: torch.Tensor, n_samples: int, gen: torch.Generator
) -> torch.Tensor:
    """−ELBO (B,) float64 from the model's own ``elbo_terms`` (reconstruction and KL at one
    draw each), averaged over ``n_samples`` draws."""
    total = torch.zeros(x.shape[0], dtype=torch.float64, device=x.device)
    for _ in range(n_samples):
        recon, kl, _ = model.elbo_terms(x, gen)
        total += recon.double() + kl.double()
    return total / n_samples


def log_importance_weights(
    model: nn.Module,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    eps: torch.Tensor,
    fast_decoder: LogisticFormDecoder | None = None,
    prior: MixturePrior | None = None,
) -> torch.Tensor:
    """log w = log p(x|z) + log p(z) − log q(z|x) for z = μ + σ·ε.

    Parameters
    ----------
    x : images (B, C, H, W); mu, logvar : their posterior parameters (B, D);
    eps : standard normal draws (B, S, D), S per image.
    fast_decoder : the model's decoder in logistic form (used for binary x), or None.
    prior : the model's prior (:func:`vae_atlas.models.prior_of`); None or a standard one is
        N(0, I).

    Returns
    -------
    torch.Tensor
        (B, S) log-weights in nats. Under N(0, I) the ½ log 2π terms of p(z) and q(z|x) cancel
        and are omitted.
    """
    batch, n_draws, dim = eps.shape
    z = mu[:, None] + eps * torch.exp(0.5 * logvar)[:, None]  # (B, S, D)
    flat_z = z.reshape(batch * n_draws, dim)  # (B·S, D), image-major
    if fast_decoder is not None and is_binary(x):
        log_px = fast_decoder.log_px(x, z)  # (B, S)
    elif isinstance(model, AutoEncoder) and isinstance(model.likelihood, BernoulliLikelihood):
        # log p(x|z) = Σ_p x·l − softplus(l): the x·l term as one batched mat-vec (no copies of
        # x, no re-layout of the logits) instead of binary_cross_entropy_with_logits' passes.
        logits = model.decode_params(flat_z).view(batch, n_draws, -1)  # (B, S, P)
        x_col = x.reshape(batch, -1, 1).to(logits.dtype)  # (B, P, 1)
        log_px = torch.bmm(logits, x_col).squeeze(2) - F.softplus(logits).sum(-1)  # (B, S)
    else:
        x_rep = x.unsqueeze(1).expand(batch, n_draws, *x.shape[1:]).reshape(-1, *x.shape[1:])
        log_px = model.log_px_given_z(x_rep, flat_z).view(batch, n_draws)
    if prior is None or prior.standard:
        # log p(z) - log q(z|x) = Σ_d −½ z² + ½ ε² + ½ logvar
        log_prior_ratio = 0.5 * (eps.square() - z.square() + logvar[:, None]).sum(-1)  # (B, S)
    else:
        log_prior_ratio = prior.log_prob(z) - log_normal(z, mu[:, None], logvar[:, None])
    return log_px + log_prior_ratio


@torch.no_grad()
def iwae_nll_per_image(
    model: nn.Module,
    images: ImageSet | torch.Tensor,
    *,
    k: int = 5000,
    rows: int = 4096,
    seed: int = 0,
    binarize_seed: int | None = None,
) -> np.ndarray:
    """Importance-weighted estimate of −log p(x) for each image (N,), in nats.

    Parameters
    ----------
    model : a stochastic model with ``encode`` -> (mu, logvar) and ``log_px_given_z``.
    images : an :class:`ImageSet`, a uint8 tensor (N, C, H, W) of 0..255 or a float one in [0, 1].
    k : importance samples per image (k=1 gives a one-sample −ELBO estimate).
    rows : codes decoded per decoder call (memory ≈ rows × pixels × 4 bytes × a few); several
        images share a call when k < rows, and an image's k samples are split when k > rows.
        The default keeps a call's logits (≈ 13 MB for 28×28) in a CPU's cache; 32,768 rows
        measured 1.5× slower (benchmarks/iwae_speed.py).
    seed : seed of the ε draws (results are reproducible for a given ``rows``).
    binarize_seed : binarise the images once with this seed first (see the module docstring).
    """
    if k < 1:
        raise ValueError(f"k={k!r} must be >= 1")
    if not has_likelihood(model):
        raise TypeError("this model has no log_px_given_z(x, z); it cannot score images")
    raw, scale = _float_images(images, binarize_seed)
    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    n_images = max(1, rows // k)  # images per block
    fast_decoder = LogisticFormDecoder.from_model(model)
    prior = own_prior(model)  # None: N(0, I)
    out = []
    with eval_mode(model):
        for start in range(0, raw.shape[0], n_images):
            x = raw[start : start + n_images].to(device=device, dtype=torch.float32) * scale
            draws_per_call = max(1, rows // x.shape[0])
            if hasattr(model, "log_weights"):  # its own proposal and joint prior
                draw = partial(model.log_weights, x, generator=gen)
            else:
                draw = _weights_drawer(model, x, gen, fast_decoder, prior)
            out.append(-_log_mean_weight(draw, k, draws_per_call))
    return torch.cat(out).numpy() if out else np.zeros(0)


def _weights_drawer(
    model: nn.Module,
    x: torch.Tensor,
    gen: torch.Generator,
    fast_decoder: LogisticFormDecoder | None,
    prior: MixturePrior | None,
) -> Callable[[int], torch.Tensor]:
    """n -> (B, n) log-weights of n fresh draws from q(z|x) for the images x (B, C, H, W)."""
    mu, logvar = model.encode(x)
    if logvar is None:
        raise TypeError(
            "importance-weighted likelihoods need a stochastic encoder; this model is a "
            "plain autoencoder (encode returns no log-variance)"
        )

    def draw(n: int) -> torch.Tensor:
        eps = torch.randn((mu.shape[0], n, mu.shape[1]), generator=gen, device=mu.device)
        return log_importance_weights(model, x, mu, logvar, eps.to(mu.dtype), fast_decoder, prior)

    return draw


def _log_mean_weight(
    draw: Callable[[int], torch.Tensor], k: int, draws_per_call: int
) -> torch.Tensor:
    """log (1/k) Σ_i w_i for a block of images (B,), float64, from chunks of ``draws_per_call``
    log-weights (B, n) drawn by ``draw(n)``."""
    chunk_lse = []
    for done in range(0, k, draws_per_call):
        log_w = draw(min(draws_per_call, k - done))  # (B, n)
        chunk_lse.append(torch.logsumexp(log_w.double(), dim=1))  # (B,)
    return (torch.logsumexp(torch.stack(chunk_lse), dim=0) - math.log(k)).cpu()


def nats_to_bits_per_dim(nats: float | np.ndarray, n_dims: int) -> float | np.ndarray:
    """Convert a per-image NLL in nats to bits per dimension: nats / (n_dims · ln 2)."""
    return nats / (n_dims * LOG_2)
