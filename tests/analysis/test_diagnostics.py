from dataclasses import replace

import numpy as np

from tests.analysis.atlas_models import make_model
from vae_atlas.analysis.diagnostics import DECODER_VARIANCE_RATIO, diagnose
from vae_atlas.analysis.evidence import Evidence, decoder_variance_ratio, median_roughness


def _by_rule(findings):
    return {f.rule: f for f in findings}


def test_healthy_space_gives_ok_findings_with_numbers():
    rng = np.random.default_rng(0)
    ev = Evidence(
        mu=rng.standard_normal((2000, 4)) * 0.9,
        kl_per_dim=np.array([2.0, 1.0, 0.5, 0.3]),
        decoder_variance_ratio=0.6,
        hole_fraction=0.005,  # the walkthrough VAEs: at most 0.55 % on validation
        knn_accuracy=0.9,
        silhouette=0.3,
        n_classes=10,
        roughness=1.4,
    )
    found = _by_rule(diagnose(ev))
    assert set(found) == {"collapse", "decoder", "far", "holes", "classes", "rough"}
    assert all(f.severity == "ok" for f in found.values())
    assert found["collapse"].numbers["collapsed_dims"] == 0
    assert found["classes"].numbers["knn_accuracy"] == 0.9


def test_collapse_far_means_holes_jumble_and_roughness_are_flagged():
    rng = np.random.default_rng(1)
    ev = Evidence(
        mu=rng.standard_normal((500, 2)) * 10,
        kl_per_dim=np.array([0.001, 0.002]),
        decoder_variance_ratio=0.01,
        hole_fraction=0.5,
        knn_accuracy=0.2,
        silhouette=-0.1,
        roughness=6.0,
    )
    found = _by_rule(diagnose(ev))
    assert all(f.severity == "warning" for f in found.values())
    assert found["far"].numbers["fraction_outside"] > 0.5
    assert "decoder" not in found  # with every dimension collapsed, the collapse finding says it
    partial = _by_rule(diagnose(replace(ev, kl_per_dim=np.array([0.001, 2.0]))))
    assert partial["decoder"].severity == "warning"
    assert partial["decoder"].threshold == DECODER_VARIANCE_RATIO


def test_partial_collapse_is_a_note_and_missing_numbers_skip_rules():
    found = _by_rule(diagnose(Evidence(mu=np.zeros((10, 3)), kl_per_dim=np.array([1.0, 0.0, 0.0]))))
    assert found["collapse"].severity == "note"
    assert found["collapse"].numbers["collapsed_dims"] == 2
    assert set(found) == {"collapse", "far"}
    ae = _by_rule(diagnose(Evidence(mu=np.zeros((10, 2)))))
    assert "autoencoder" in ae["collapse"].title


def test_decoder_ratio_and_roughness_on_the_linear_model():
    model = make_model(2)
    codes = np.random.default_rng(1).standard_normal((500, 2))
    data = model.decode(__import__("torch").randn(500, 2)).detach().numpy()
    assert 0.7 < decoder_variance_ratio(model, codes, data) < 1.4
    assert median_roughness(model, np.random.default_rng(0).standard_normal((20, 2))) < 1.0001
    flat = make_model(2)
    flat.w.data.zero_()
    noisy = data + np.random.default_rng(0).random(data.shape)
    assert decoder_variance_ratio(flat, codes, noisy) < 1e-10 < DECODER_VARIANCE_RATIO
