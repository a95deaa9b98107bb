"""Attribute tables for image folders: formats, keys, value kinds, matching, and one clear line
for each kind of bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from vae_atlas.data import DataError, load_folder, read_attribute_table
from vae_atlas.data.attributes import match_attributes


def _write(path, text: str):
    path.write_text(text)
    return path


def test_csv_binary_and_continuous_columns(tmp_path) -> None:
    table = read_attribute_table(
        _write(
            tmp_path / "a.csv",
            "filename,smiling,glasses,age,flag\n"
            "a.jpg,1,-1,31.5,true\nb.jpg,0,1,40,false\nc.jpg,1,1,22,yes\n",
        )
    )
    assert table.keys == ("a.jpg", "b.jpg", "c.jpg")
    assert table.names == ("smiling", "glasses", "age", "flag")
    np.testing.assert_array_equal(
        table.values,
        np.array([[1, 0, 31.5, 1], [0, 1, 40, 0], [1, 1, 22, 1]], dtype=np.float32),
    )


def test_celeba_style_whitespace_table(tmp_path) -> None:
    text = "3\nSmiling Eyeglasses \n000001.jpg  1 -1\n000002.jpg -1 -1\n000003.jpg -1  1\n"
    table = read_attribute_table(_write(tmp_path / "list_attr.txt", text))
    assert table.names == ("Smiling", "Eyeglasses")
    np.testing.assert_array_equal(table.values, [[1, 0], [0, 0], [0, 1]])


@pytest.mark.parametrize("key", ["file", "FileName", "image_id", "path"])
def test_key_column_names(tmp_path, key: str) -> None:
    table = read_attribute_table(_write(tmp_path / "a.csv", f"x,{key}\n1,a.png\n0,b.png\n"))
    assert table.keys == ("a.png", "b.png") and table.names == ("x",)


def test_match_by_relative_path_or_file_name() -> None:
    from vae_atlas.data.attributes import AttributeTable

    table = AttributeTable("t.csv", ("dogs/b.png", "a.png"), ("x",), np.array([[7.0], [3.0]]))
    got = match_attributes(table, ["cats/a.png", "dogs/b.png"])
    np.testing.assert_array_equal(got, [[3.0], [7.0]])


def _bad(tmp_path, text: str) -> str:
    with pytest.raises(DataError) as err:
        read_attribute_table(_write(tmp_path / "bad.csv", text))
    message = str(err.value)
    assert "bad.csv" in message and "\n" not in message
    return message


def test_missing_file(tmp_path) -> None:
    with pytest.raises(DataError, match="attribute file not found"):
        read_attribute_table(tmp_path / "nope.csv")


def test_malformed_row(tmp_path) -> None:
    assert "line 3 has 3 fields but the header has 2" in _bad(tmp_path, "file,x\na,1\nb,1,2\n")


def test_duplicated_keys(tmp_path) -> None:
    message = _bad(tmp_path, "file,x\na,1\nb,0\na,0\n")
    assert "1 duplicated keys" in message and "'a' (lines 2 and 4)" in message


def test_non_numeric_value(tmp_path) -> None:
    message = _bad(tmp_path, "file,x\na,1\nb,maybe\n")
    assert "line 3, column 'x': 'maybe' is not a number" in message


def test_no_key_column(tmp_path) -> None:
    assert "no key column" in _bad(tmp_path, "name,x\na,1\n")


def test_single_valued_attribute_is_dropped_with_a_warning(tmp_path) -> None:
    with pytest.warns(UserWarning, match="attribute 'always' has the one value 1 for every row"):
        table = read_attribute_table(_write(tmp_path / "a.csv", "file,always,x\na,1,0\nb,1,1\n"))
    assert table.names == ("x",)
    with pytest.warns(UserWarning, match="attribute 'x' has the one value 1"):
        assert "every attribute column has a single value" in _bad(tmp_path, "file,x\na,1\nb,1\n")


def _folder_with_brightness(tmp_path, n: int = 12):
    """Images whose brightness is 20·i, named a/img_i.png (even i) or b/img_i.png (odd i): the
    attribute 'bright' is i."""
    root = tmp_path / "imgs"
    for sub in "ab":
        (root / sub).mkdir(parents=True)
    for i in range(n):
        where = root / "ab"[i % 2]
        Image.fromarray(np.full((8, 8), 20 * i, dtype=np.uint8)).save(where / f"img_{i}.png")
    return root


def test_folder_attributes_follow_their_images_through_the_split(tmp_path) -> None:
    root = _folder_with_brightness(tmp_path)
    rows = "\n".join(f"{'ab'[i % 2]}/img_{i}.png,{i},{i % 3 == 0}" for i in range(12))
    table = _write(tmp_path / "t.csv", "path,bright,third\n" + rows + "\n")
    data = load_folder(root, image_size=8, channels=1, attributes=table, test_fraction=0.25)
    assert data.attribute_names == ("bright", "third")
    for split in (data.train, data.test):
        brightness = split.images.float().mean(dim=(1, 2, 3)).numpy() / 20  # the image's i
        np.testing.assert_allclose(split.attributes[:, 0].numpy(), brightness, atol=0.01)
        np.testing.assert_array_equal(
            split.attributes[:, 1].numpy(), (np.rint(brightness) % 3 == 0).astype(np.float32)
        )


def test_images_without_rows_and_rows_without_images(tmp_path) -> None:
    root = _folder_with_brightness(tmp_path, n=6)
    keyed = [f"img_{i}.png,{i % 2}" for i in range(6)]
    extra = _write(tmp_path / "extra.csv", "file,x\n" + "\n".join([*keyed, "ghost.png,1"]))
    with pytest.warns(UserWarning, match="1 rows match no image and are ignored, e.g. ghost.png"):
        load_folder(root, image_size=8, channels=1, attributes=extra)
    short = _write(tmp_path / "short.csv", "file,x\n" + "\n".join(keyed[:4]))
    with pytest.raises(DataError, match=r"2 of 6 images have no row, e\.g\. a/img_4\.png"):
        load_folder(root, image_size=8, channels=1, attributes=short)


def test_edited_table_is_noticed_by_its_checksum(tmp_path) -> None:
    root = _folder_with_brightness(tmp_path, n=4)
    table = _write(
        tmp_path / "t.csv", "file,x\n" + "\n".join(f"img_{i}.png,{i % 2}" for i in range(4))
    )
    recorded = hashlib.sha256(table.read_bytes()).hexdigest()
    load_folder(root, image_size=8, channels=1, attributes=table, attributes_sha256=recorded)
    table.write_text(table.read_text().replace("img_0.png,0", "img_0.png,1"))
    with pytest.raises(DataError, match="the attribute table changed since the run was made"):
        load_folder(root, image_size=8, channels=1, attributes=table, attributes_sha256=recorded)


def test_one_image_named_by_two_rows_is_refused() -> None:
    from vae_atlas.data.attributes import AttributeTable

    # the file name "a.png" and the relative path "cats/a.png" are two keys for the same image
    table = AttributeTable("t.csv", ("a.png", "cats/a.png"), ("x",), np.array([[1.0], [0.0]]))
    with pytest.raises(DataError, match=r"t\.csv: image cats/a\.png is named by two rows"):
        match_attributes(table, ["cats/a.png"])
