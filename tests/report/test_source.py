"""Report sources: runs that share a name are titled by their parent folder (without mutating
the frozen sources), and a damaged snapshot file is reported, not hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

from torch import nn

from vae_atlas.data import load_digits
from vae_atlas.report import AtlasSource, source_from_run
from vae_atlas.report.comparison import distinct_names


def _source(name: str, run_dir: Path | None) -> AtlasSource:
    return AtlasSource(name=name, model=nn.Identity(), dataset=load_digits(), run_dir=run_dir)


def test_runs_sharing_a_name_get_their_parent_folder():
    a, b = _source("vae", Path("/runs/mnist/vae")), _source("vae", Path("/runs/digits/vae"))
    assert [s.name for s in distinct_names([a, b])] == ["mnist/vae", "digits/vae"]
    assert a.name == b.name == "vae"  # the originals are untouched
    assert a.cache_dir is None  # the run folder is its own field, not derived from the cache


def test_distinct_names_and_bare_models_are_kept():
    a, b = _source("ae", Path("/r/x/ae")), _source("vae", Path("/r/x/vae"))
    assert [s.name for s in distinct_names([a, b])] == ["ae", "vae"]
    bare = [_source("model", None), _source("model", Path("/r/y/model"))]
    assert [s.name for s in distinct_names(bare)] == ["model", "y/model"]


def test_a_damaged_snapshot_drops_only_that_figure_and_says_so(tiny_runs, tmp_path):
    run_dir = tmp_path / "vae2"
    shutil.copytree(tiny_runs["vae2"], run_dir)
    (run_dir / "snapshots" / "epoch_0002.safetensors").write_bytes(b"not a tensor file")
    source = source_from_run(run_dir)
    assert source.snapshots == [] and source.run_dir == run_dir
    assert "epoch_0002.safetensors" in source.summary["snapshots"]
    assert "unreadable" in source.summary["snapshots"]
