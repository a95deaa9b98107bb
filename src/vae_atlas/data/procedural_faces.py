"""Procedural faces in the CelebA file format: a stand-in for CelebA that can be made anywhere.

:func:`write_celeba_fixture` draws ``n_images`` cartoon faces on 178×218 canvases (the size of
CelebA's aligned images, Liu et al. 2015) and writes them the way the aligned release ships:
``img_align_celeba/000001.jpg ...`` (or ``img_align_celeba.zip`` holding that folder),
``list_attr_celeba.txt`` (a count line, the 40 attribute names, then one row of −1/1 per image)
and ``list_eval_partition.txt`` (``name split`` with 0 = train, 1 = valid, 2 = test, in
contiguous blocks like the real file).

Seven attributes are visible in the pixels — :data:`VISIBLE`: Smiling draws an open, curved
mouth (else a flat line), Eyeglasses two dark rims and a bridge, Wearing_Hat a brim and crown,
Bangs a fringe over the forehead, Male short hair (else hair down both sides), Pale_Skin a
light skin tone, and the hair is exactly one of Black_Hair, Blond_Hair or Brown_Hair. The other
attributes are drawn at random and leave no trace, so a probe on them must stay at chance.
Position, face width, eye spacing, hat colour and (slightly) the background vary at random too.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip
VISIBLE = (
    "Smiling",
    "Eyeglasses",
    "Wearing_Hat",
    "Bangs",
    "Male",
    "Pale_Skin",
    "Black_Hair",
    "Blond_Hair",
    "Brown_Hair",
)
WIDTH, HEIGHT = 178, 218
# The mouth's box in the 178×218 canvas (left, top, right, bottom), jitter included: the only
# pixels Smiling changes.
MOUTH_BOX = (56, 124, 122, 166)
_HAIR = {"Black_Hair": (30, 25, 25), "Blond_Hair": (225, 195, 90), "Brown_Hair": (110, 70, 40)}
_SPLIT_FRACTIONS = (0.8, 0.1)  # train, valid; the rest is test


def draw_face(attrs: dict[str, bool], rng: np.random.Generator) -> Image.Image:
    """One 178×218 RGB face showing the visible attributes in ``attrs`` (name -> present)."""
    # a light, nearly uniform background: the faces, not the backdrop, hold the variation
    background = tuple(int(v) for v in 170 + rng.integers(-12, 13, size=3))
    image = Image.new("RGB", (WIDTH, HEIGHT), background)
    d = ImageDraw.Draw(image)
    cx, cy = 89 + int(rng.integers(-3, 4)), 112 + int(rng.integers(-3, 4))
    half_w = int(rng.integers(36, 44))
    skin = (245, 225, 210) if attrs["Pale_Skin"] else (190, 140, 105)
    hair = next(_HAIR[name] for name in _HAIR if attrs[name])
    if not attrs["Male"]:  # long hair behind the face, down to the shoulders
        d.rectangle((cx - half_w - 12, cy - 40, cx + half_w + 12, cy + 62), fill=hair)
    d.ellipse((cx - half_w - 8, cy - 68, cx + half_w + 8, cy + 10), fill=hair)  # crown of hair
    d.ellipse((cx - half_w, cy - 55, cx + half_w, cy + 58), fill=skin)
    if attrs["Bangs"]:
        d.chord((cx - half_w, cy - 62, cx + half_w, cy - 10), 180, 360, fill=hair)
    spread = int(rng.integers(15, 20))
    eye_y = cy - 6
    for ex in (cx - spread, cx + spread):
        d.ellipse((ex - 6, eye_y - 4, ex + 6, eye_y + 4), fill=(255, 255, 255))
        d.ellipse((ex - 3, eye_y - 3, ex + 3, eye_y + 3), fill=(40, 30, 30))
        if attrs["Eyeglasses"]:
            d.ellipse((ex - 12, eye_y - 10, ex + 12, eye_y + 10), outline=(15, 15, 15), width=4)
    if attrs["Eyeglasses"]:
        d.line((cx - spread + 12, eye_y, cx + spread - 12, eye_y), fill=(15, 15, 15), width=4)
    d.line((cx, cy + 2, cx - 4, cy + 16), fill=(120, 80, 60), width=3)  # nose
    mouth_y = cy + 32
    if attrs["Smiling"]:
        d.chord((cx - 26, mouth_y - 16, cx + 26, mouth_y + 18), 0, 180, fill=(110, 20, 30))
        d.chord((cx - 18, mouth_y - 8, cx + 18, mouth_y + 4), 0, 180, fill=(250, 250, 250))
    else:
        d.line((cx - 14, mouth_y, cx + 14, mouth_y), fill=(140, 50, 50), width=4)
    if attrs["Wearing_Hat"]:
        hat = tuple(int(v) for v in rng.integers(0, 120, size=3))
        d.rectangle((cx - half_w - 18, cy - 52, cx + half_w + 18, cy - 42), fill=hat)
        d.rectangle((cx - half_w + 4, cy - 86, cx + half_w - 4, cy - 50), fill=hat)
    return image


def random_attributes(rng: np.random.Generator) -> dict[str, bool]:
    """Every CelebA attribute for one face: the hair colour one of three, the rest coin flips."""
    attrs = {name: bool(rng.random() < 0.5) for name in CELEBA_ATTRIBUTES}
    colour = ("Black_Hair", "Blond_Hair", "Brown_Hair")[int(rng.integers(0, 3))]
    for name in _HAIR:
        attrs[name] = name == colour
    return attrs


def write_celeba_fixture(
    out_dir: str | os.PathLike[str], *, n_images: int = 300, seed: int = 0, as_zip: bool = False
) -> Path:
    """Write ``n_images`` procedural faces in CelebA's aligned layout into ``out_dir``.

    Returns ``out_dir``. With ``as_zip`` the images go into ``img_align_celeba.zip`` (entries
    ``img_align_celeba/NNNNNN.jpg``, as in the published archive) instead of a folder.
    """
    if n_images < 3:
        raise ValueError(f"n_images={n_images} must be at least 3 (one per split)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [f"{i + 1:06d}.jpg" for i in range(n_images)]
    rows = [random_attributes(rng) for _ in names]
    jpegs = []
    for attrs in rows:
        buffer = io.BytesIO()
        draw_face(attrs, rng).save(buffer, format="JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    if as_zip:
        with zipfile.ZipFile(out / "img_align_celeba.zip", "w", zipfile.ZIP_STORED) as archive:
            for name, data in zip(names, jpegs, strict=True):
                archive.writestr(f"img_align_celeba/{name}", data)
    else:
        folder = out / "img_align_celeba"
        folder.mkdir(exist_ok=True)
        for name, data in zip(names, jpegs, strict=True):
            (folder / name).write_bytes(data)
    (out / "list_attr_celeba.txt").write_text(attribute_text(names, rows))
    (out / "list_eval_partition.txt").write_text(partition_text(names))
    return out


def attribute_text(names: list[str], rows: list[dict[str, bool]]) -> str:
    """``list_attr_celeba.txt``: count, names (with CelebA's trailing space), ``name  v v ...``."""
    lines = [str(len(names)), " ".join(CELEBA_ATTRIBUTES) + " "]
    for name, attrs in zip(names, rows, strict=True):
        values = " ".join(f"{1 if attrs[a] else -1:2d}" for a in CELEBA_ATTRIBUTES)
        lines.append(f"{name} {values}")
    return "\n".join(lines) + "\n"


def partition_text(names: list[str]) -> str:
    """``list_eval_partition.txt``: ``name split`` per line, splits in contiguous blocks."""
    n = len(names)
    n_train = max(1, int(n * _SPLIT_FRACTIONS[0]))
    n_val = max(1, int(n * _SPLIT_FRACTIONS[1]))
    splits = [0 if i < n_train else 1 if i < n_train + n_val else 2 for i in range(n)]
    return "".join(f"{name} {split}\n" for name, split in zip(names, splits, strict=True))
