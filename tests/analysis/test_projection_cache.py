import io
import os
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from vae_atlas.analysis.projection import project_latents
from vae_atlas.analysis.projection_cache import projection_key, read_coords, write_coords


def two_clusters() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(-5, 1, (30, 4)), rng.normal(5, 1, (30, 4))])


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def zip_with_oversized_member() -> bytes:
    """A valid-looking npz whose 'coords' member declares 10 MB (a million points' worth)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (655360, 2)}
        )
        z.writestr("coords.npy", header.getvalue() + bytes(655360 * 16))
    return buf.getvalue()


DAMAGED = {
    "not a zip": b"this is not a zip file at all",
    "empty": b"",
    "truncated zip": npz_bytes(coords=np.zeros((60, 2)))[:100],
    "no coords": npz_bytes(other=np.zeros((60, 2))),
    "wrong shape": npz_bytes(coords=np.zeros((59, 2))),
    "three columns": npz_bytes(coords=np.zeros((60, 3))),
    "non-finite": npz_bytes(coords=np.full((60, 2), np.nan)),
    "integers": npz_bytes(coords=np.zeros((60, 2), dtype=np.int64)),
    "object array": npz_bytes(coords=np.array([[None, None]] * 60, dtype=object)),
    "oversized": zip_with_oversized_member(),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_cache_entry_is_ignored_with_a_warning(tmp_path, name):
    entry = tmp_path / "projection-tsne-x.npz"
    entry.write_bytes(DAMAGED[name])
    with pytest.warns(RuntimeWarning, match=f"{entry.name}: ignoring a damaged projection cache"):
        assert read_coords(entry, 60) is None


def test_an_oversized_entry_is_refused_before_it_is_read(tmp_path, monkeypatch):
    entry = tmp_path / "projection-tsne-x.npz"
    entry.write_bytes(zip_with_oversized_member())
    loads = []
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(a))
    with pytest.warns(RuntimeWarning, match="more than 60 points need"):
        assert read_coords(entry, 60) is None
    assert loads == []


def test_damaged_cache_entry_is_rebuilt(tmp_path):
    mu = two_clusters()[::5]  # (12, 4): t-SNE on a few points stays fast
    first = project_latents(mu, "tsne", cache_dir=tmp_path, cache_key="k")
    (entry,) = tmp_path.glob("projection-tsne-*.npz")
    entry.write_bytes(DAMAGED["not a zip"])
    with pytest.warns(RuntimeWarning, match="damaged projection cache"):
        again = project_latents(mu, "tsne", cache_dir=tmp_path, cache_key="k")
    assert not again.cached
    np.testing.assert_allclose(again.coords, first.coords)
    # the entry is whole again and used as it is
    assert project_latents(mu, "tsne", cache_dir=tmp_path, cache_key="k").cached
    assert sorted(p.name for p in tmp_path.iterdir()) == [entry.name]


def test_a_failed_write_leaves_no_file_and_still_returns_the_map(tmp_path, monkeypatch):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        proj = project_latents(two_clusters()[::5], "tsne", cache_dir=tmp_path, cache_key="k")
    assert proj.coords.shape == (12, 2)
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_cache_folder_only_warns(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would go")
    with pytest.warns(RuntimeWarning, match="not cached"):
        assert not write_coords(blocker / "projection-tsne-x.npz", np.zeros((3, 2)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_written_coordinates_read_back_exactly(tmp_path):
    coords = np.arange(10.0).reshape(5, 2)
    path = tmp_path / "sub" / "p.npz"
    assert write_coords(path, coords)
    np.testing.assert_array_equal(read_coords(path, 5), coords)
    assert read_coords(tmp_path / "missing.npz", 5) is None


def test_projection_key_depends_on_weights_and_images_only():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    images = torch.zeros((4, 1, 2, 2), dtype=torch.uint8)
    twin = nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    assert projection_key(model, images) == projection_key(twin, images.clone())
    assert projection_key(model, images) == projection_key(model, images.numpy())
    with torch.no_grad():
        twin.bias[0] += 1e-6
    assert projection_key(model, images) != projection_key(twin, images)
    other = images.clone()
    other[3, 0, 1, 1] = 1
    assert projection_key(model, images) != projection_key(model, other)
    assert projection_key(model, images) != projection_key(model, images[:3])
