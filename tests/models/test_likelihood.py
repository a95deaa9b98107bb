"""The Bernoulli log-likelihood from logits: closed-form values, its written-out gradient against
numerical differentiation, and agreement with the library's BCE-with-logits."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vae_atlas.models import BernoulliLikelihood
from vae_atlas.models.likelihood import BernoulliNLL


def test_bernoulli_log_prob_closed_forms():
    lik = BernoulliLikelihood()
    # logit 0 is p = 1/2 whatever the pixel: log 2 nats per pixel, 2 × 3 × 3 pixels
    x = torch.rand(4, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        lik.log_prob(x, torch.zeros_like(x)), torch.full((4,), -18 * math.log(2))
    )
    # logit log 3 is p = 3/4: a white pixel costs log(4/3), a black one log 4, grey 1/2 both halves
    logits = torch.full((3, 1, 1, 2), math.log(3.0))
    x = torch.tensor([1.0, 0.0, 0.5]).view(3, 1, 1, 1).expand(3, 1, 1, 2)
    expected = -2 * torch.tensor(
        [math.log(4 / 3), math.log(4), 0.5 * math.log(4 / 3) + 0.5 * math.log(4)]
    )
    torch.testing.assert_close(lik.log_prob(x, logits), expected)


def test_bernoulli_log_prob_is_finite_for_saturated_logits():
    lik = BernoulliLikelihood()
    logits = torch.tensor([[100.0, -100.0]])
    x = torch.tensor([[1.0, 1.0]])
    # log p(x=1 | ℓ=100) ≈ 0; log p(x=1 | ℓ=−100) = log σ(−100) ≈ −100
    torch.testing.assert_close(lik.log_prob(x, logits), torch.tensor([-100.0]))


def test_bernoulli_nll_gradient_matches_numerical_differentiation():
    g = torch.Generator().manual_seed(1)
    logits = (3 * torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64)).requires_grad_()
    x = torch.rand(3, 1, 2, 2, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(BernoulliNLL.apply, (logits, x))


def test_bernoulli_nll_gradient_is_sigmoid_minus_pixel_per_image():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 1, 3, 3, generator=g).requires_grad_()
    x = torch.rand(4, 1, 3, 3, generator=g)
    weights = torch.tensor([1.0, -2.0, 0.5, 0.0])  # one upstream gradient per image
    (BernoulliNLL.apply(logits, x) * weights).sum().backward()
    expected = (torch.sigmoid(logits.detach()) - x) * weights.view(4, 1, 1, 1)
    torch.testing.assert_close(logits.grad, expected)


def test_bernoulli_nll_agrees_with_the_library_loss():
    g = torch.Generator().manual_seed(3)
    logits = (4 * torch.randn(16, 1, 28, 28, generator=g)).requires_grad_()
    x = torch.rand(16, 1, 28, 28, generator=g)
    ours = BernoulliNLL.apply(logits, x)
    ref_logits = logits.detach().clone().requires_grad_()
    ref = F.binary_cross_entropy_with_logits(ref_logits, x, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-4)
    ours.mean().backward()
    ref.mean().backward()
    torch.testing.assert_close(logits.grad, ref_logits.grad, rtol=0, atol=1e-7)
