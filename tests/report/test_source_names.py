"""A comparison of runs that share a name titles each by its parent folder, without mutating the
(frozen) sources."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from vae_atlas.data import load_digits
from vae_atlas.report import AtlasSource
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
