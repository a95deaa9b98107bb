"""``--level top|bottom`` for a two-level hierarchical VAE in ``report``, ``compare``,
``evaluate`` and ``explore``: the bottom level's codes against its posterior means computed by
hand from the model's parts, the level named in the page and the explorer, and a one-line error
for runs without levels."""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

import vae_atlas as va
import vae_atlas.report
from vae_atlas.cli import main
from vae_atlas.cli.flags import apply_level
from vae_atlas.explorer import create_app
from vae_atlas.models import HierarchicalVAE
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import source_from_run

from .explorer.conftest import local_client
from .tiny_runs import tiny_config, train_quietly

TOP, BOTTOM = 2, 4


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("level-runs")
    cfg = tiny_config("hvae", TOP, epochs=2)
    train_quietly(replace(cfg, model=replace(cfg.model, lower_latent_dim=BOTTOM)), root / "hvae")
    train_quietly(tiny_config("vae", 2, epochs=1), root / "vae")
    return {"hvae": root / "hvae", "vae": root / "vae"}


def bottom_means_by_hand(model: HierarchicalVAE, x: torch.Tensor) -> np.ndarray:
    """μ of q(z1|x, z2 = μ2): the conditional prior's mean at the top level's posterior mean,
    moved by the residual, every part called directly (the runs use ReLU)."""
    with torch.no_grad():
        h = torch.relu(model.encoder(x))  # (B, width)
        mu2 = model.q_top(h)[:, :TOP]
        prior_mu1 = model.p_lower(mu2)[:, :BOTTOM]
        delta_mu1 = model.q_lower(torch.cat([h, mu2], dim=1))[:, :BOTTOM]
    return (prior_mu1 + delta_mu1).double().numpy()


def test_the_bottom_levels_codes_are_its_posterior_means(runs):
    run = va.load_run(runs["hvae"])
    apply_level([run.model], "bottom", ["hvae"])
    ctx = AtlasContext(source_from_run(run), ReportOptions(max_points=120))
    x = ctx.test.images.float() / 255.0
    np.testing.assert_allclose(ctx.latents.mu, bottom_means_by_hand(run.model, x), atol=1e-5)
    assert ctx.latents.latent_dim == BOTTOM
    # the hand computation is not the top level's by accident
    run.model.show_level("top")
    assert ctx.source.model.encode(x[:3])[0].shape == (3, TOP)


def one_error_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.slow  # a whole report, every figure drawn (~30-40 s on the shared 2 cores)
def test_report_names_the_bottom_level_and_keeps_traversals_at_the_top(
    runs, tmp_path, capsys, monkeypatch
):
    # the figures at a low resolution and few clouds: the text is what this test reads
    small = functools.partial(ReportOptions, dpi=40, n_clouds=10)
    monkeypatch.setattr(vae_atlas.report, "ReportOptions", small)
    out = tmp_path / "report"
    flags = ["--no-gif", "--projection", "pca", "--max-points", "120", "--grid-size", "4"]
    code = main(["report", str(runs["hvae"]), "--level", "bottom", "--out", str(out), *flags])
    assert code == 0, capsys.readouterr().err
    html = (out / "index.html").read_text()
    assert f"{BOTTOM}-D latent space (the bottom level z1)" in html  # the page's subtitle
    assert f"the bottom level z1 ({BOTTOM}-D; at z2 = the mean of q(z2|x))" in html
    assert "in the bottom level z1" in html  # the scatter's caption
    assert "The traversals stay at the top level z2" in html
    # the clouds' backdrop is the level's own prior, not N(0, I)
    assert "the marginal prior p(z1)" in html


@pytest.mark.parametrize("command", ["report", "evaluate", "explore", "compare"])
def test_level_on_a_run_without_levels_is_one_line(runs, tmp_path, capsys, command):
    vae = str(runs["vae"])
    args = {
        "report": ["report", vae, "--out", str(tmp_path / "r")],
        "evaluate": ["evaluate", vae, "--no-write", "--quick"],
        "explore": ["explore", vae, "--port", "0"],
        "compare": ["compare", vae, vae, "--out", str(tmp_path / "c")],
    }[command]
    assert main([*args, "--level", "bottom"]) != 0
    line = one_error_line(capsys.readouterr().err)
    assert "--level bottom" in line and "no levels" in line and "hvae" in line
    assert not (tmp_path / "r").exists() and not (tmp_path / "c").exists()


def test_a_bad_level_name_is_refused_by_the_parser(runs, capsys):
    with pytest.raises(SystemExit):
        main(["report", str(runs["hvae"]), "--level", "middle"])
    assert "invalid choice: 'middle'" in capsys.readouterr().err


def test_evaluate_measures_the_bottom_levels_kl_against_its_conditional_prior(runs, capsys):
    code = main(["evaluate", str(runs["hvae"]), "--level", "bottom", "--quick", "--k", "5",
                 "--no-write"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert f"{BOTTOM}-D)" in out  # the run row: the latent numbers are the bottom level's
    assert "KL per dimension of the bottom level z1" in out
    assert "p(z1|z2), the bottom level's conditional prior" in out
    assert "Monte Carlo with 16 draws per input" in out
    assert "N(0, 1)" not in out


def test_evaluate_of_the_bottom_level_leaves_evaluation_json_alone(runs, capsys):
    """evaluation.json is read as the top level's numbers, so the bottom level's are printed
    and not written over it."""
    target = Path(runs["hvae"]) / "evaluation.json"
    before = target.read_bytes() if target.exists() else None
    assert main(["evaluate", str(runs["hvae"]), "--level", "bottom", "--quick", "--k", "5"]) == 0
    assert "not written" in capsys.readouterr().out
    assert (target.read_bytes() if target.exists() else None) == before


def test_explorer_shows_the_bottom_levels_points_and_names_it(runs):
    run = va.load_run(runs["hvae"])
    apply_level([run.model], "bottom", ["hvae"])
    client = local_client(create_app([run], max_points=60))
    (listed,) = client.get("/api/runs").json()
    assert listed["level"] == "the bottom level z1" and listed["latent_dim"] == BOTTOM
    detail = client.get(f"/api/runs/{listed['id']}").json()
    assert len(detail["dims"]) == BOTTOM
    points = client.get(
        f"/api/runs/{listed['id']}/map", params={"projection": "dims", "dims": "2,3"}
    ).json()
    x = run.dataset.test.images[:60].float() / 255.0
    mu1 = bottom_means_by_hand(run.model, x)
    np.testing.assert_allclose(points["x"], mu1[:, 2], atol=1e-4)
    np.testing.assert_allclose(points["y"], mu1[:, 3], atol=1e-4)


def test_explorer_names_no_level_for_a_plain_vae(runs):
    client = local_client(create_app([va.load_run(runs["vae"])], max_points=30))
    assert client.get("/api/runs").json()[0]["level"] is None
