"""Every diagnostic rule against constructed cases whose trouble is known: each rule must fire on
its own case and stay quiet on the others (a case × rule matrix)."""

import numpy as np
import pytest

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.diagnostics import diagnose
from vae_atlas.analysis.encode import LatentSet, decode_latents
from vae_atlas.analysis.evidence import measure_evidence
from vae_atlas.analysis.training_health import diagnose_training

N = 800
RULES = ("collapse", "decoder", "far", "holes", "improving", "overfitting", "warmup_kl")


def _metrics(held, train=None, *, kl=None, kl_weight=None, dims=2, key="test_neg_elbo"):
    rows = [{"epoch": 0, key: held[0] + 50}]
    for i, h in enumerate(held):
        row = {"epoch": i + 1, key: h, "train_neg_elbo": (train or held)[i], "kl_weight": 1.0}
        if kl is not None:
            row.update(test_kl=kl[i], test_kl_per_dim=[kl[i] / dims] * dims)
            row["kl_weight"] = kl_weight[i]
        rows.append(row)
    return rows


LEVEL = _metrics([150.0, 120.0, 110.0, 108.0, 107.9, 107.88])


def _case(name):
    """(model, latents, images, metrics) for one constructed case in 2-D."""
    rng = np.random.default_rng(3)
    model, sigma, spread, metrics = make_model(2, seed=1), 0.4, np.sqrt(1 - 0.4**2), LEVEL
    if name == "ignores_z":
        model.w.data.zero_()  # every code decodes to the bias image
    if name == "far":  # an almost deterministic encoder with codes 15 prior σ wide
        sigma, spread = 0.05, 15.0
        model.w.data /= 15.0  # the decoder still uses z: decodings vary as much as the data
    if name in ("collapse", "warmup_collapse"):  # q(z|x) = p(z) for every input
        sigma, spread = 1.0, 1e-3
    if name == "undertrained":
        metrics = _metrics([200.0, 170.0, 150.0, 138.0, 130.0, 124.0])
    if name == "overfitting":
        metrics = _metrics([150.0, 120.0, 110.0, 109.0, 112.0, 116.0], [160, 125, 108, 100, 93, 85])
    if name == "warmup_collapse":
        weight = [0.2, 0.4, 0.6, 0.8, 1.0, 1.0]
        metrics = _metrics(
            [150, 130, 125, 124, 124, 124], kl=[9, 6, 3, 0.5, 0.01, 0.005], kl_weight=weight
        )
    mu = rng.standard_normal((N, 2)) * spread
    logvar = np.full((N, 2), 2 * np.log(sigma))
    latents = LatentSet(mu, logvar, rng.integers(0, 10, N))
    clean = decode_latents(make_model(2, seed=1), rng.standard_normal((N, 2)))  # the data
    images = clean + 0.05 * rng.standard_normal(clean.shape)
    return model, latents, images, metrics


EXPECTED = {
    "healthy": set(),
    "ignores_z": {"decoder"},
    "far": {"far", "holes"},  # codes far outside the prior leave the prior empty: both true
    "collapse": {"collapse"},
    "undertrained": {"improving"},
    "overfitting": {"overfitting"},
    "warmup_collapse": {"collapse", "warmup_kl"},
}


@pytest.fixture(scope="module")
def fired():
    out = {}
    for name in EXPECTED:
        model, latents, images, metrics = _case(name)
        found = diagnose(measure_evidence(model, latents, images)) + diagnose_training(metrics)
        out[name] = {f.rule: f for f in found}
    return out


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("case", list(EXPECTED))
def test_rule_fires_only_on_its_own_cases(fired, case, rule):
    finding = fired[case].get(rule)
    fires = finding is not None and finding.severity != "ok"
    assert fires == (rule in EXPECTED[case]), (case, rule, finding)


def test_every_warning_says_what_to_try_and_ok_findings_do_not(fired):
    for found in fired.values():
        for f in found.values():
            assert (f.severity == "ok") == (f.advice == ""), f


def test_far_codes_decoded_by_a_working_decoder_are_not_called_ignored(fired):
    # decodings of prior samples vary 1/15² as much as the data here, yet the decoder uses z
    decoder = fired["far"]["decoder"]
    assert decoder.severity == "ok"
    assert decoder.numbers["variance_ratio"] > 0.5


def test_training_health_prefers_validation_keys():
    both = _metrics([150.0, 120.0, 110.0, 109.0, 112.0, 116.0], [160, 125, 108, 100, 93, 85])
    for row, val in zip(both[1:], [150, 120, 110, 109, 108.9, 108.85], strict=True):
        row["val_neg_elbo"] = val
    found = {f.rule: f for f in diagnose_training(both)}
    assert found["overfitting"].severity == "ok"
    assert "validation" in found["overfitting"].detail


def test_training_health_needs_two_trained_epochs():
    assert diagnose_training(LEVEL[:2]) == []
    assert diagnose_training([]) == []


def test_held_out_loss_rising_with_the_training_loss_is_not_overfitting():
    # both losses go up together (an unstable learning rate), so memorising is not the cause
    diverging = _metrics([150.0, 120.0, 110.0, 109.0, 112.0, 116.0], [160, 125, 108, 100, 104, 110])
    found = {f.rule: f for f in diagnose_training(diverging)}
    assert found["overfitting"].severity == "ok"


def test_improving_rule_says_whether_the_last_epoch_fell_or_rose():
    # held-out 110 -> 99 is a 10.00 % fall; 110 -> 121 a 10.00 % rise, never a "fall of -10 %"
    falling = {f.rule: f for f in diagnose_training(_metrics([150, 130, 110, 99]))}
    rising = {f.rule: f for f in diagnose_training(_metrics([150, 130, 110, 121]))}
    assert "fell 10.00%" in falling["improving"].detail
    assert "rose 10.00%" in rising["improving"].detail


def test_overfitting_rule_ignores_epoch_to_epoch_noise_of_a_long_run():
    # 50 epochs, held-out alternating 98.5 / 101.5 around a flat 100 (last 101.5, best 98.5: a 3 %
    # "rise" epoch to epoch) while training falls: the 5-epoch means stay within 0.6 % of 100
    n = 50
    train = [110.0 - 0.1 * i for i in range(n)]
    noisy = [100.0 + 1.5 * (-1) ** (i + 1) for i in range(n)]
    assert noisy[-1] == 101.5 and min(noisy) == 98.5
    found = {f.rule: f for f in diagnose_training(_metrics(noisy, train))}
    assert found["overfitting"].severity == "ok"
    # the same run whose held-out loss climbs 5 % over its last 20 epochs does overfit
    rising = [100.0] * 30 + [100.0 + 0.25 * (i + 1) for i in range(20)]
    found = {f.rule: f for f in diagnose_training(_metrics(rising, train))}
    assert found["overfitting"].severity == "warning"


def test_improving_rule_reads_the_trend_of_a_long_run_not_its_last_draw():
    n = 50
    # flat at 100 with ±1.5 alternating noise; the last epoch is a 2.96 % "fall" from 101.5 to 98.5
    noisy = [100.0 + 1.5 * (-1) ** i for i in range(n)]
    assert noisy[-2:] == [101.5, 98.5]
    found = {f.rule: f for f in diagnose_training(_metrics(noisy))}
    assert found["improving"].severity == "ok"
    # falling 1 % every epoch to the end: still improving, at about 1 % per epoch
    falling = [200.0 * 0.99**i for i in range(n)]
    found = {f.rule: f for f in diagnose_training(_metrics(falling))}
    assert found["improving"].severity == "note"
    assert abs(found["improving"].numbers["last_epoch_drop"] - 0.01) < 1e-3
