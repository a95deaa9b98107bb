"""Folder-of-images loading: layouts, colour modes, broken files and decompression bombs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vae_atlas.data import DataError, load_folder
from vae_atlas.data.folder import read_image


def solid(path: Path, colour, *, mode: str = "RGB", size=(20, 20), **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, **save)
    return path


def noise_bytes(fmt: str, size=(64, 64)) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def pixel(path: Path, channels: int = 3) -> list[int]:
    """The centre pixel after loading at 8x8."""
    return read_image(path, image_size=8, channels=channels)[4, 4].tolist()


def test_class_subfolders_give_labels(tmp_path):
    for i in range(3):
        solid(tmp_path / "cats" / f"c{i}.png", (200, 0, 0))
    for i in range(2):
        solid(tmp_path / "dogs" / "nested" / f"d{i}.JPG", (0, 0, 200))
    (tmp_path / "README.txt").write_text("not an image")
    ds = load_folder(tmp_path, image_size=16, channels=3, test_fraction=0.4, seed=0)
    assert ds.name == "folder"
    assert ds.class_names == ("cats", "dogs")
    labels = torch.cat([ds.train.labels, ds.test.labels])
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1]
    assert ds.train.labels.dtype == torch.int64
    images = torch.cat([ds.train.images, ds.test.images])
    assert images.shape == (5, 3, 16, 16) and images.dtype == torch.uint8
    red = images[labels == 0]
    assert (red[:, 0] > 190).all() and (red[:, 2] < 10).all()


def test_flat_folder_is_unlabelled_and_deterministic(tmp_path):
    for i in range(6):
        solid(tmp_path / f"img{i}.png", (i * 40, i * 40, i * 40), mode="RGB")
    (tmp_path / ".hidden.png").write_bytes(b"garbage that would fail if read")
    a = load_folder(tmp_path, image_size=8, seed=3)
    b = load_folder(tmp_path, image_size=8, seed=3)
    assert a.class_names is None and a.train.labels is None and a.test.labels is None
    assert len(a.train) + len(a.test) == 6
    assert torch.equal(a.train.images, b.train.images)
    assert torch.equal(a.test.images, b.test.images)


def test_images_next_to_class_folders_are_ignored_with_a_warning(tmp_path):
    solid(tmp_path / "a" / "1.png", 0)
    solid(tmp_path / "b" / "1.png", 0)
    solid(tmp_path / "stray.png", 0)
    with pytest.warns(UserWarning, match="ignoring 1 images"):
        ds = load_folder(tmp_path, image_size=8)
    assert len(ds.train) + len(ds.test) == 2


def test_grey_and_rgb_conversion(tmp_path):
    grey = solid(tmp_path / "grey.png", 100, mode="L")
    colour = solid(tmp_path / "colour.png", (255, 0, 0))
    assert pixel(grey, channels=3) == [100, 100, 100]
    assert pixel(grey, channels=1) == [100]
    assert pixel(colour, channels=3) == [255, 0, 0]
    assert pixel(colour, channels=1) == [76]  # ITU-R 601 luma of pure red
    ds = load_folder(tmp_path, image_size=8, channels=1)
    assert ds.image_shape == (1, 8, 8)


def test_centre_crop_then_resize(tmp_path):
    wide = np.zeros((20, 40, 3), dtype=np.uint8)
    wide[:, :8] = (255, 0, 0)  # the left fifth is cropped away
    wide[:, 8:] = (0, 0, 255)
    Image.fromarray(wide).save(tmp_path / "wide.png")
    out = read_image(tmp_path / "wide.png", image_size=10, channels=3)
    assert out.shape == (10, 10, 3)
    assert (out[..., 0] < 5).all() and (out[..., 2] > 250).all()


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path):
    for value, expected in ((65535, 255), (32768, 128), (1000, 4)):
        path = tmp_path / f"g{value}.png"
        Image.fromarray(np.full((10, 10), value, dtype=np.uint16)).save(path)
        with Image.open(path) as image:
            assert image.mode.startswith("I")  # Pillow reads 16-bit PNGs as I;16 (or I)
        assert pixel(path, channels=1) == [expected]


def test_cmyk_palette_one_bit_and_alpha(tmp_path):
    cmyk = solid(tmp_path / "cmyk.jpg", (255, 0, 0, 0), mode="CMYK", quality=95)
    cyan = pixel(cmyk)
    assert cyan[0] < 20 and cyan[1] > 235 and cyan[2] > 235

    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    palette.save(tmp_path / "palette.png")
    assert pixel(tmp_path / "palette.png") == [10, 200, 30]

    solid(tmp_path / "bit.bmp", 1, mode="1")
    assert pixel(tmp_path / "bit.bmp", channels=1) == [255]

    for alpha, expected in ((255, [200, 100, 50]), (0, [0, 0, 0]), (128, [100, 50, 25])):
        path = solid(tmp_path / f"rgba{alpha}.png", (200, 100, 50, alpha), mode="RGBA")
        assert pixel(path) == expected
    solid(tmp_path / "la.png", (200, 0), mode="LA")
    assert pixel(tmp_path / "la.png", channels=1) == [0]

    transparent = Image.new("P", (10, 10), 1)
    transparent.putpalette([0, 0, 0, 250, 250, 250] + [0] * 762)
    transparent.save(tmp_path / "ptrans.png", transparency=1)
    assert pixel(tmp_path / "ptrans.png") == [0, 0, 0]


def test_every_supported_extension_loads(tmp_path):
    for suffix in ("png", "jpg", "jpeg", "bmp", "gif", "webp", "PNG"):
        solid(tmp_path / f"x.{suffix}", (120, 120, 120))
    ds = load_folder(tmp_path, image_size=8, channels=1)
    assert len(ds.train) + len(ds.test) == 7


@pytest.mark.parametrize(
    "name, payload",
    [
        ("random.png", bytes(range(256)) * 4),
        ("text.jpg", b"hello, I am not a picture"),
        ("empty.gif", b""),
        ("cut.png", noise_bytes("PNG")[:3000]),
        ("cut.jpg", noise_bytes("JPEG")[:2000]),
        ("cut.webp", noise_bytes("WEBP")[:1500]),
    ],
)
def test_broken_image_raises_data_error_naming_the_file(tmp_path, name, payload):
    solid(tmp_path / "good.png", 50)
    (tmp_path / name).write_bytes(payload)
    with pytest.raises(DataError) as info:
        load_folder(tmp_path, image_size=8)
    assert str(tmp_path / name) in str(info.value)


def test_bad_png_crc_is_an_error(tmp_path):
    data = bytearray(noise_bytes("PNG", size=(16, 16)))
    data[40] ^= 0xFF  # inside the first IDAT chunk
    (tmp_path / "crc.png").write_bytes(bytes(data))
    with pytest.raises(DataError, match="crc.png"):
        read_image(tmp_path / "crc.png", image_size=8, channels=3)


def test_skip_bad_warns_and_keeps_the_rest(tmp_path):
    for i in range(3):
        solid(tmp_path / f"ok{i}.png", 80)
    (tmp_path / "bad.png").write_bytes(b"nope")
    with pytest.warns(UserWarning, match="bad.png"):
        ds = load_folder(tmp_path, image_size=8, skip_bad=True)
    assert len(ds.train) + len(ds.test) == 3


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    solid(tmp_path / "small.png", 0, mode="L", size=(10, 10))
    solid(tmp_path / "big.png", 0, mode="L", size=(200, 300))
    with pytest.raises(DataError, match="200x300 = 60000 pixels exceeds max_pixels=1000") as info:
        load_folder(tmp_path, image_size=8, max_pixels=1000)
    assert str(tmp_path / "big.png") in str(info.value)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(DataError, match="no images found") as info:
        load_folder(tmp_path)
    assert str(tmp_path) in str(info.value)
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="no images found"):
        load_folder(tmp_path)
    with pytest.raises(DataError, match="not a directory"):
        load_folder(tmp_path / "missing")


def test_bad_arguments(tmp_path):
    solid(tmp_path / "a.png", 0)
    with pytest.raises(DataError, match="channels=2"):
        load_folder(tmp_path, channels=2)
    with pytest.raises(DataError, match="image_size=0"):
        load_folder(tmp_path, image_size=0)


def test_a_class_folder_linked_outside_the_dataset_is_not_followed(tmp_path):
    root, outside = tmp_path / "data", tmp_path / "elsewhere"
    for i in range(2):
        solid(root / "cats" / f"c{i}.png", (200, 0, 0))
        solid(outside / f"o{i}.png", (0, 200, 0))
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "cats" / "deeper").symlink_to(outside, target_is_directory=True)
    with pytest.warns(UserWarning, match="escape.*outside.*not followed"):
        ds = load_folder(root, image_size=8, test_fraction=0.5)
    assert ds.class_names == ("cats",)
    assert len(ds.train) + len(ds.test) == 2  # neither link reached elsewhere/


def test_links_inside_the_dataset_and_linked_files_are_followed(tmp_path):
    root = tmp_path / "data"
    solid(root / "cats" / "c0.png", (200, 0, 0))
    solid(root / "cats" / "c1.png", (200, 0, 0))
    (root / "kittens").symlink_to(root / "cats", target_is_directory=True)
    outside = solid(tmp_path / "far" / "d.png", (0, 0, 200))
    (root / "dogs").mkdir()
    (root / "dogs" / "d.png").symlink_to(outside)
    (root / "dogs" / "d2.png").symlink_to(outside)
    ds = load_folder(root, image_size=8, test_fraction=0.5)
    assert ds.class_names == ("cats", "dogs", "kittens")
    assert len(ds.train) + len(ds.test) == 6
