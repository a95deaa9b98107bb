"""evaluation.json: a strict round trip, a reader that tells current from stale, missing and
damaged files, and the one table the CLI and the report show."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from vae_atlas.analysis import (
    EvaluationResult,
    EvaluationUnavailable,
    evaluation_table,
    read_evaluation,
    write_evaluation,
)

SHA = "ab" * 32


def _result(**changes) -> EvaluationResult:
    base = EvaluationResult(
        run="runs/v", dataset="digits", objective="vae", latent_dim=3, n_test=1500, n_dims=64,
        binarized=True, k=5000, neg_elbo=90.123, iwae_nll=88.456, iwae_nll_stderr=0.5,
        neg_elbo_bits_per_dim=2.0, iwae_bits_per_dim=1.98766, recon_nll=None, knn_accuracy=0.9,
        linear_probe_accuracy=0.85, silhouette=0.1, active_units=3,
        active_unit_variance=[1.0, 0.5, 0.02], kl_per_dim=[0.5, 0.005, 0.01],
        total_correlation=0.25, smoothness=1.5, roughness=2.0,
        disentanglement={"mig": 0.3, "beta_vae": 0.75, "n_points": 100}, notes=["a note"],
        settings={"k": 5000}, seconds={"iwae": 1.0}, weights_sha256=SHA,
    )  # fmt: skip
    return replace(base, **changes)


class _RunOnDisk:
    """What read_evaluation needs of a run: its folder and the hash of its weights now."""

    def __init__(self, path: Path, sha: str = SHA) -> None:
        self.path, self.sha = path, sha

    def weights_sha256(self) -> str:
        return self.sha


def test_round_trip_through_json_is_exact(tmp_path):
    result = _result()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "vae-atlas.evaluation" and data["schema_version"] == 1
    assert EvaluationResult.from_dict(data) == result
    write_evaluation(result, tmp_path)
    assert read_evaluation(_RunOnDisk(tmp_path)) == result


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "something else"}, "not a vae-atlas evaluation"),
        ({"schema_version": 2}, "schema_version 2"),
        ({"n_test": None}, "'n_test'"),
        ({"n_test": True}, "'n_test'"),  # a bool is not a count
        ({"n_test": 1.5}, "'n_test'"),
        ({"kl_per_dim": [0.1, "x"]}, "'kl_per_dim'"),
        ({"notes": "one note"}, "'notes'"),
        ({"disentanglement": {"mig": "high"}}, "'disentanglement'"),
    ],
)
def test_from_dict_names_the_wrong_field(change, message):
    with pytest.raises(ValueError, match=message):
        EvaluationResult.from_dict({**_result().to_dict(), **change})


def test_from_dict_names_a_missing_field_and_fills_optional_ones():
    data = _result().to_dict()
    del data["roughness"]
    with pytest.raises(ValueError, match="'roughness' is missing"):
        EvaluationResult.from_dict(data)
    data = _result().to_dict()
    del data["notes"], data["seconds"]
    assert EvaluationResult.from_dict(data).notes == []


def test_reader_tells_missing_stale_and_damaged_apart(tmp_path):
    run = _RunOnDisk(tmp_path)
    assert read_evaluation(run) == EvaluationUnavailable("missing", "not run yet")
    write_evaluation(_result(), tmp_path)
    stale = read_evaluation(_RunOnDisk(tmp_path, sha="cd" * 32))
    assert isinstance(stale, EvaluationUnavailable) and stale.state == "stale"
    assert "other weights" in stale.reason
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps({**_result().to_dict(), "weights_sha256": ""}))
    older = read_evaluation(run)
    assert older.state == "stale" and "no weights recorded" in older.reason
    for damaged in ("{", "[1, 2]", '{"kind": "x"}', json.dumps({**_result().to_dict(), "k": "5"})):
        path.write_text(damaged)
        found = read_evaluation(run)
        assert isinstance(found, EvaluationUnavailable) and found.state == "damaged", damaged
    path.write_bytes(b"\xff\xfe{")
    assert read_evaluation(run).state == "damaged"


def test_table_of_a_vae_by_hand():
    assert evaluation_table(_result()) == {
        "run": "runs/v (digits, vae, 3-D)",
        "evaluated test images": "1,500 (binarised)",
        "−ELBO (nats)": "90.12",
        "−log p(x), IWAE k=5,000 (nats)": "88.46 ± 0.50",
        "bits/dim (IWAE)": "1.9877",
        "kNN accuracy (k=5)": "0.900",
        "linear-probe accuracy": "0.850",
        "silhouette": "0.100",
        "active dimensions (KL ≥ 0.01 nats)": "2 / 3",  # 0.5 and 0.01 nats; not 0.005
        "KL total (nats)": "0.52",
        "total correlation (nats)": "0.25",
        "interpolation path / chord": "1.50",
        "interpolation largest / mean step": "2.00",
        "β-VAE score": "0.750",
        "MIG": "0.300",
    }


def test_a_tiny_negative_estimate_prints_as_zero_and_a_real_negative_keeps_its_sign():
    # the minibatch total-correlation estimate can dip just below zero for independent codes
    assert evaluation_table(_result(total_correlation=-0.003))["total correlation (nats)"] == "0.00"
    assert evaluation_table(_result(silhouette=-0.118))["silhouette"] == "-0.118"


def test_a_mixture_priors_kl_total_is_its_own_number_not_the_sum_per_dimension():
    """A VampPrior's KLs per dimension (0.5 + 0.005 + 0.01) do not add up to its KL."""
    table = evaluation_table(_result(objective="vamp", kl_total=1.234))
    assert table["KL total (nats)"] == "1.23"
    assert evaluation_table(_result())["KL total (nats)"] == "0.52"


def test_table_of_a_plain_autoencoder_leaves_out_what_does_not_apply():
    ae = _result(
        objective="ae", binarized=False, k=None, neg_elbo=None, iwae_nll=None,
        iwae_nll_stderr=None, neg_elbo_bits_per_dim=None, iwae_bits_per_dim=None, recon_nll=40.0,
        kl_per_dim=None, total_correlation=None, disentanglement=None, active_units=1,
    )  # fmt: skip
    rows = evaluation_table(ae, omit=("run", "knn_accuracy", "silhouette"))
    assert rows == {
        "evaluated test images": "1,500",
        "reconstruction NLL (nats)": "40.00",
        "linear-probe accuracy": "0.850",
        "active units (variance of the means > 0.01)": "1 / 3",
        "interpolation path / chord": "1.50",
        "interpolation largest / mean step": "2.00",
    }
