"""The report and the explorer share one projection cache in the run folder, and a damaged
entry never turns into a 5xx."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from openTSNE import TSNE

from vae_atlas import load_run
from vae_atlas.explorer import create_app
from vae_atlas.report.context import AtlasContext
from vae_atlas.report.options import ReportOptions
from vae_atlas.report.source import source_from_run
from vae_atlas.run import Run

from .conftest import local_client


@pytest.fixture
def run_copy(ae5: Run, tmp_path: Path) -> Path:
    dest = tmp_path / "ae5"
    shutil.copytree(ae5.path, dest, ignore=shutil.ignore_patterns("cache"))
    return dest


@pytest.fixture
def tsne_fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts t-SNE fits (each call appends the number of points fitted)."""
    fits: list[int] = []
    real = TSNE.fit

    def counting(self, X, *args, **kwargs):
        fits.append(len(X))
        return real(self, X, *args, **kwargs)

    monkeypatch.setattr(TSNE, "fit", counting)
    return fits


def test_explorer_reuses_the_tsne_the_report_computed(run_copy: Path, tsne_fits: list[int]):
    run = load_run(run_copy)
    ctx = AtlasContext(source_from_run(run), ReportOptions(projections=("tsne",)))
    report_coords = ctx.projection("tsne").coords
    assert len(tsne_fits) == 1 and list((run_copy / "cache").glob("projection-tsne-*.npz"))
    served = local_client(create_app([load_run(run_copy)])).get("/api/runs/ae5/map?projection=tsne")
    assert served.status_code == 200
    assert len(tsne_fits) == 1  # read from the report's cache, not fitted again
    xy = np.column_stack([served.json()["x"], served.json()["y"]])
    np.testing.assert_allclose(xy, report_coords, atol=1e-4)


def test_a_damaged_cache_is_rebuilt_by_explorer_and_report(run_copy: Path, tsne_fits: list[int]):
    first = local_client(create_app([load_run(run_copy)])).get("/api/runs/ae5/map?projection=tsne")
    (entry,) = (run_copy / "cache").glob("projection-tsne-*.npz")
    entry.write_bytes(b"PK\x03\x04 not really a zip")
    client = local_client(create_app([load_run(run_copy)]))
    with pytest.warns(RuntimeWarning, match="damaged projection cache"):
        again = client.get("/api/runs/ae5/map?projection=tsne")
    assert again.status_code == 200 and again.json()["x"] == first.json()["x"]
    assert len(tsne_fits) == 2
    assert [p.name for p in (run_copy / "cache").iterdir()] == [entry.name]
    entry.write_bytes(b"")
    ctx = AtlasContext(source_from_run(load_run(run_copy)), ReportOptions(projections=("tsne",)))
    with pytest.warns(RuntimeWarning, match="damaged projection cache"):
        coords = ctx.projection("tsne").coords
    np.testing.assert_allclose(coords[:, 0], first.json()["x"], atol=1e-4)
    assert len(tsne_fits) == 3
