"""The report builds from tiny runs and from a user's own model, and every file it references
exists."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_atlas.data import Dataset, ImageSet
from vae_atlas.report import ReportOptions, build_comparison, build_report, build_report_for_model

FAST = ReportOptions(grid_size=6, max_points=200, n_clouds=20, gifs=False, dpi=60)


def referenced(index: Path) -> list[str]:
    html = index.read_text()
    assert "http://" not in html and "https://" not in html  # opens offline
    return re.findall(r'src="([^"]+)"', html)


def assert_complete(index: Path) -> list[str]:
    files = referenced(index)
    assert files, "the report shows no figures"
    for name in files:
        path = index.parent / name
        assert path.is_file() and path.stat().st_size > 500, name
    return files


def test_two_d_vae_report_has_every_figure_family(tiny_runs):
    index = build_report(tiny_runs["vae2"], options=ReportOptions(grid_size=6, n_clouds=20))
    assert index == tiny_runs["vae2"] / "report" / "index.html"
    files = assert_complete(index)
    for key in (
        "scatter",
        "clouds",
        "manifold",
        "manifold-overlay",
        "samples",
        "reconstructions",
        "interpolation",
        "traversals",
        "attribute",
        "training-curves",
        "kl-heatmap",
        "formation",
        "aggregate",
        "anomaly-scores",
        "anomaly-examples",
    ):
        assert f"{key}.png" in files, key
    assert "traversals.gif" in files and "formation.gif" in files
    html = index.read_text()
    assert "Diagnostics" in html and "nats" in html
    assert html.count("<figcaption>") == len([f for f in files if f.endswith(".png")])
    assert (index.parent / "timings.json").exists()


def test_plain_autoencoder_report_says_there_is_no_posterior(tiny_runs):
    index = build_report(tiny_runs["ae2"], options=FAST)
    assert_complete(index)
    html = index.read_text()
    assert "Plain autoencoder: no posterior" in html
    assert "kl-heatmap.png" not in html


def test_three_d_report_has_fixed_views_and_a_rotating_gif(tiny_runs, tmp_path):
    opts = ReportOptions(grid_size=5, max_points=150, n_clouds=10)
    files = assert_complete(build_report(tiny_runs["vae3"], tmp_path / "r3", options=opts))
    assert "scatter3d.png" in files and "scatter3d.gif" in files
    assert "scatter-pca.png" in files


def test_higher_d_report_projects_and_caches_tsne(tiny_runs, tmp_path):
    opts = ReportOptions(
        grid_size=5, max_points=120, n_clouds=10, gifs=False, projections=("pca", "tsne")
    )
    files = assert_complete(build_report(tiny_runs["vae5"], tmp_path / "r5", options=opts))
    assert {"scatter-pca.png", "scatter-tsne.png"} <= set(files)
    cached = list((tiny_runs["vae5"] / "cache").glob("projection-tsne-*.npz"))
    assert len(cached) == 1
    build_report(tiny_runs["vae5"], tmp_path / "r5b", options=opts)
    assert list((tiny_runs["vae5"] / "cache").glob("projection-tsne-*.npz")) == cached


def test_ood_set_adds_its_roc_auc(tiny_runs, tmp_path):
    g = torch.Generator().manual_seed(0)
    noise = ImageSet(torch.randint(0, 256, (80, 1, 8, 8), generator=g, dtype=torch.uint8))
    index = build_report(tiny_runs["vae2"], tmp_path / "ood", ood=noise, options=FAST)
    files = assert_complete(index)
    assert any(f.startswith("anomaly-scores-") for f in files)
    auc = float(
        re.search(
            r"OOD ROC AUC \(out-of-distribution\)</td><td>([0-9.]+)", index.read_text()
        ).group(1)
    )
    assert auc > 0.9  # uniform noise is far less likely than digits under a digits VAE


def test_rerun_replaces_old_figures(tiny_runs, tmp_path):
    out = tmp_path / "again"
    build_report(tiny_runs["vae2"], out, options=FAST)
    (out / "stale.png").write_bytes(b"x")
    build_report(tiny_runs["vae2"], out, options=FAST)
    assert not (out / "stale.png").exists()


class ColourModel(torch.nn.Module):
    """A user's model on unlabelled 3-channel 6x6 images: linear encoder/decoder, no likelihood."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = torch.nn.Linear(3 * 36, 4)
        self.dec = torch.nn.Linear(2, 3 * 36)

    def encode(self, x):
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 3, 6, 6)


def test_report_for_a_users_own_model_on_unlabelled_rgb_data(tmp_path):
    torch.manual_seed(0)
    images = torch.randint(0, 256, (90, 3, 6, 6), dtype=torch.uint8)
    data = Dataset("mine", ImageSet(images[:60]), ImageSet(images[60:]))
    index = build_report_for_model(
        ColourModel(),
        data,
        tmp_path / "mine",
        latent_dim=2,
        options=ReportOptions(grid_size=4, n_clouds=10),
    )
    files = assert_complete(index)
    assert "scatter.png" in files and "training-curves.png" not in files
    html = index.read_text()
    assert "unlabelled" in html and "cannot be scored" in html


def test_comparison_shares_axes_and_lists_runs(tiny_runs, tmp_path):
    index = build_comparison([tiny_runs["ae2"], tiny_runs["vae2"]], tmp_path / "cmp", options=FAST)
    files = assert_complete(index)
    assert {
        "cmp-scatter.png",
        "cmp-samples.png",
        "cmp-manifold.png",
        "cmp-clouds.png",
        "cmp-aggregate.png",
        "cmp-training.png",
        "cmp-interpolation.png",
    } <= set(files)
    html = index.read_text()
    assert "ae2" in html and "vae2" in html and "share the same axes" in html
    # the default interpolation pair is a typical one, and the caption gives each run's numbers
    assert re.search(r"A typical pair: of \d+ random test pairs", html)
    assert re.search(r"ae2 \d\.\d\d \(median \d\.\d\d\), vae2 \d\.\d\d", html)
    with pytest.raises(ValueError):
        build_comparison([tiny_runs["ae2"]], tmp_path / "one")


def test_shared_limits_hold_every_run():
    from vae_atlas.report.comparison_figures import shared_limits

    lo, hi = shared_limits([np.zeros((10, 2)), np.full((10, 2), 25.0)])
    assert lo == -hi and hi >= 25
    assert shared_limits([np.zeros((5, 2))])[1] == pytest.approx(3.0 * 1.08)


def test_one_d_space_gets_a_strip_plot_and_says_what_it_skips(tiny_runs, tmp_path):
    index = build_report(tiny_runs["vae1"], tmp_path / "r1", options=FAST)
    files = assert_complete(index)
    assert "scatter.png" in files and "manifold.png" not in files
    assert "needs at least two latent dimensions" in index.read_text()


def test_comparison_of_different_spaces_does_not_share_axes(tiny_runs, tmp_path):
    index = build_comparison([tiny_runs["vae2"], tiny_runs["vae5"]], tmp_path / "c25", options=FAST)
    assert_complete(index)
    assert "own PCA plane" in index.read_text()


def test_attribute_direction_from_a_users_csv(tiny_runs, tmp_path):
    from vae_atlas import load_run

    labels = load_run(tiny_runs["vae2"]).dataset.test.labels.numpy()
    csv = tmp_path / "attrs.csv"
    csv.write_text("round\n" + "\n".join("1" if v in (0, 6, 8, 9) else "0" for v in labels))
    opts = ReportOptions(
        grid_size=4,
        max_points=len(labels),
        gifs=False,
        dpi=60,
        attribute_csv=csv,
        attribute_column="round",
    )
    index = build_report(tiny_runs["vae2"], tmp_path / "attr", options=opts)
    assert "attribute.png" in assert_complete(index)
    assert "add &#x27;round&#x27;" in index.read_text()
