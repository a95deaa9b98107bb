"""The CelebA reader on the procedural CelebA-format fixture: layout (folder, zip), split,
attributes, checksums, cache and the partition file's agreement with the images."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vae_atlas.data import DataError, load_celeba
from vae_atlas.data.celeba import crop_resize
from vae_atlas.data.procedural_faces import MOUTH_BOX, write_celeba_fixture

N = 60


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory):
    return write_celeba_fixture(tmp_path_factory.mktemp("celeba"), n_images=N, seed=3)


def _attribute_rows(folder) -> tuple[list[str], dict[str, list[int]]]:
    """list_attr_celeba.txt parsed by hand: line 1 the count, line 2 the names."""
    lines = (folder / "list_attr_celeba.txt").read_text().splitlines()
    assert int(lines[0]) == N
    names = lines[1].split()
    return names, {row.split()[0]: [int(v) for v in row.split()[1:]] for row in lines[2:]}


def test_files_have_celeba_layout(fixture_dir) -> None:
    names, rows = _attribute_rows(fixture_dir)
    assert len(names) == 40 and names[0] == "5_o_Clock_Shadow" and names[-1] == "Young"
    assert sorted(rows) == [f"{i:06d}.jpg" for i in range(1, N + 1)]
    assert all(set(v) <= {-1, 1} and len(v) == 40 for v in rows.values())
    with Image.open(fixture_dir / "img_align_celeba" / "000001.jpg") as image:
        assert image.size == (178, 218) and image.format == "JPEG"
    partition = (fixture_dir / "list_eval_partition.txt").read_text().split()
    assert partition[:2] == ["000001.jpg", "0"]


def test_official_partition_is_the_split(fixture_dir) -> None:
    data = load_celeba(fixture_dir, image_size=32, verify=False)
    pairs = [
        line.split() for line in (fixture_dir / "list_eval_partition.txt").read_text().splitlines()
    ]
    counts = {code: sum(1 for _, c in pairs if c == code) for code in "012"}
    assert (len(data.train), len(data.val), len(data.test)) == (
        counts["0"],
        counts["1"],
        counts["2"],
    )
    assert data.train.images.shape[1:] == (3, 32, 32)
    names, rows = _attribute_rows(fixture_dir)
    assert data.attribute_names == tuple(names)
    first_test = next(name for name, code in pairs if code == "2")  # test split in file order
    expected = (np.array(rows[first_test]) > 0).astype(np.float32)
    np.testing.assert_array_equal(data.test.attributes[0].numpy(), expected)


def test_zip_reads_the_same_images_without_extracting(fixture_dir, tmp_path) -> None:
    zipped = write_celeba_fixture(tmp_path, n_images=N, seed=3, as_zip=True)
    assert not (zipped / "img_align_celeba").exists()
    a = load_celeba(fixture_dir, image_size=32, verify=False)
    b = load_celeba(zipped, image_size=32, verify=False)
    assert b.train.images.dtype.is_floating_point is False
    np.testing.assert_array_equal(a.train.images.numpy(), b.train.images.numpy())
    np.testing.assert_array_equal(a.test.attributes.numpy(), b.test.attributes.numpy())


def test_smiling_is_visible_in_the_mouth(fixture_dir) -> None:
    """The fixture draws a dark-red open mouth with teeth for Smiling, a thin line otherwise."""
    names, rows = _attribute_rows(fixture_dir)
    smile = names.index("Smiling")
    red = {True: [], False: []}
    for name, values in rows.items():
        with Image.open(fixture_dir / "img_align_celeba" / name) as image:
            mouth = np.asarray(image.crop(MOUTH_BOX)).astype(float)
        dark_red = (mouth[..., 0] > 80) & (mouth[..., 1] < 60) & (mouth[..., 2] < 70)
        red[values[smile] > 0].append(dark_red.mean())
    assert min(red[True]) > 2 * max(red[False])  # an open mouth vs a 4-px line


def test_checksum_mismatch_names_file_and_no_verify(fixture_dir) -> None:
    with pytest.raises(DataError) as err:
        load_celeba(fixture_dir, image_size=32)
    message = str(err.value)
    assert "list_" in message and "checksum mismatch" in message and "--no-verify" in message
    assert "\n" not in message


def test_published_md5s_are_the_authors() -> None:
    from vae_atlas.data.celeba import PUBLISHED_MD5

    assert PUBLISHED_MD5 == {
        "img_align_celeba.zip": "00d2c5bc6d35e252742224ab0c1e8fcb",
        "list_attr_celeba.txt": "75e246fa4810816ffd6ee81facbd244c",
        "list_eval_partition.txt": "d32c9cbf5e040fd4025c592c306e6668",
    }


def test_partition_disagreeing_with_images_is_one_line(fixture_dir, tmp_path) -> None:
    copy = write_celeba_fixture(tmp_path, n_images=20, seed=0)
    (copy / "img_align_celeba" / "000007.jpg").unlink()
    with pytest.raises(DataError) as err:
        load_celeba(copy, image_size=32, verify=False)
    message = str(err.value)
    assert "list_eval_partition.txt disagrees with the images" in message
    assert "1 named images are not in the images" in message and "000007.jpg" in message
    assert "\n" not in message


def test_malformed_partition_line(tmp_path) -> None:
    copy = write_celeba_fixture(tmp_path, n_images=10, seed=0)
    text = (copy / "list_eval_partition.txt").read_text().replace("000004.jpg 0", "000004.jpg 7")
    (copy / "list_eval_partition.txt").write_text(text)
    with pytest.raises(DataError, match=r"line 4 is not 'NAME 0\|1\|2'"):
        load_celeba(copy, image_size=32, verify=False)


def test_missing_files_are_named(tmp_path) -> None:
    copy = write_celeba_fixture(tmp_path, n_images=10, seed=0)
    (copy / "list_attr_celeba.txt").unlink()
    with pytest.raises(DataError, match="list_attr_celeba.txt: missing"):
        load_celeba(copy, verify=False)


def test_cache_is_written_once_and_read_back(fixture_dir, tmp_path) -> None:
    first = load_celeba(fixture_dir, image_size=16, verify=False, cache_dir=tmp_path)
    cached = list(tmp_path.glob("celeba-*-16px.npy"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    second = load_celeba(fixture_dir, image_size=16, verify=False, cache_dir=tmp_path)
    assert cached[0].stat().st_mtime_ns == stamp  # read, not rewritten
    np.testing.assert_array_equal(first.train.images.numpy(), second.train.images.numpy())


def test_crop_keeps_the_centred_148_square(tmp_path) -> None:
    """Grey outside the centred 148×148 square, a 3-px black frame just inside its edge, white
    within: the output's border is the frame (dark) and its middle white, so the crop is
    exactly that square (a smaller crop loses the frame, a larger one shows grey)."""
    canvas = np.full((218, 178, 3), 128, dtype=np.uint8)
    top, left = (218 - 148) // 2, (178 - 148) // 2
    canvas[top : top + 148, left : left + 148] = 0
    canvas[top + 3 : top + 145, left + 3 : left + 145] = 255
    Image.fromarray(canvas).save(tmp_path / "x.png")
    out = crop_resize(tmp_path / "x.png", 64, where="x").astype(int)  # (3, 64, 64)
    assert out.shape == (3, 64, 64)
    assert out[:, 8:-8, 8:-8].min() >= 250
    for edge in (out[:, 0, 8:-8], out[:, -1, 8:-8], out[:, 8:-8, 0], out[:, 8:-8, -1]):
        assert edge.max() < 90
