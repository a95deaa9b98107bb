"""Settings for an image folder chosen from the images themselves, when the user gave none.

A folder of 200 colour photos and one of 60,000 small grey digits want different models: a
convolutional network for colour or larger images (an MLP on 64×64×3 pixels has ~50 MB of
weights and sees no locality), an image size the images actually have, and enough optimiser
steps that a small folder is not trained for only a few dozen of them. :func:`survey_folder`
reads only the image headers; :func:`suggest_settings` is a pure function of what it found.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from vae_atlas.config import CONV_IMAGE_SIZES
from vae_atlas.data.dataset import DataError
from vae_atlas.data.folder import scan_folder

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
# the sizes chosen for a folder's images: 128 px is possible when asked for, but a slow default
AUTO_SIZES = tuple(s for s in CONV_IMAGE_SIZES if s <= 64)
TARGET_STEPS = 3000  # optimiser steps a folder gets by default: enough for a small VAE to settle
EPOCH_RANGE = (10, 300)
BATCH_RANGE = (16, 128)
BATCHES_PER_EPOCH = 10  # at least this many batches an epoch while the batch is above its floor
TEST_FRACTION = 0.2  # DataConfig's default split, for counting training images


@dataclass(frozen=True)
class FolderSurvey:
    """What a folder holds: how many images, whether any is in colour, their typical size."""

    n_images: int
    colour: bool
    short_side: int  # median of min(width, height) over the images read


@dataclass(frozen=True)
class Suggestion:
    """One chosen setting: the config field, its value and why."""

    field: str
    value: object
    reason: str


def survey_folder(path: str | os.PathLike[str], *, max_files: int = 500) -> FolderSurvey:
    """Read the headers (not the pixels) of up to ``max_files`` evenly spaced images."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: not a directory")
    files, _, _ = scan_folder(root)
    step = max(1, len(files) // max_files)
    modes, sides = [], []
    for file in files[::step]:
        try:
            with Image.open(file) as image:
                modes.append(image.mode)
                sides.append(min(image.size))
        except Exception as exc:  # Pillow raises many types; the loader names the file later
            raise DataError(f"{file}: not a readable image ({type(exc).__name__})") from None
    colour = any(mode not in GREY_MODES for mode in modes)
    return FolderSurvey(len(files), colour, int(statistics.median(sides)))


def suggest_settings(
    survey: FolderSurvey,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    family: str | None = None,
    batch_size: int | None = None,
    epochs: int | None = None,
) -> tuple[Suggestion, ...]:
    """Settings for each of these the caller left as None, taking the given ones into account."""
    out: list[Suggestion] = []
    if channels is None:
        channels = 3 if survey.colour else 1
        why = "some images are in colour" if survey.colour else "every image is greyscale"
        out.append(Suggestion("data.channels", channels, why))
    if image_size is None:
        fitting = [s for s in AUTO_SIZES if s <= survey.short_side]
        image_size = fitting[-1] if fitting else max(4, survey.short_side)
        why = f"the images' median shorter side is {survey.short_side} px"
        out.append(Suggestion("data.image_size", image_size, why))
    if family is None:
        out.append(_family(image_size, channels))
    out += _schedule(survey.n_images, batch_size, epochs)
    return tuple(out)


def _family(image_size: int, channels: int) -> Suggestion:
    if image_size not in CONV_IMAGE_SIZES:
        sizes = ", ".join(map(str, CONV_IMAGE_SIZES))
        return Suggestion("model.family", "mlp", f"the conv family needs {sizes} px images")
    if channels == 3:
        return Suggestion("model.family", "conv", "the images are in colour")
    if image_size >= 32:
        return Suggestion("model.family", "conv", f"the images are {image_size} px")
    return Suggestion("model.family", "mlp", f"the images are small ({image_size} px) and grey")


def _schedule(n_images: int, batch_size: int | None, epochs: int | None) -> list[Suggestion]:
    out = []
    n_train = max(1, math.floor(n_images * (1 - TEST_FRACTION)))
    if batch_size is None:
        per_batch = max(1, n_train // BATCHES_PER_EPOCH)
        batch_size = _clip(2 ** math.floor(math.log2(per_batch)), BATCH_RANGE)
        why = f"{n_train} training images then make {math.ceil(n_train / batch_size)} batches"
        out.append(Suggestion("train.batch_size", batch_size, why + " an epoch"))
    if epochs is None:
        steps_per_epoch = math.ceil(n_train / batch_size)
        epochs = _clip(math.ceil(TARGET_STEPS / steps_per_epoch), EPOCH_RANGE)
        why = (
            f"that gives {epochs * steps_per_epoch} optimiser steps "
            f"({steps_per_epoch} an epoch; aiming at about {TARGET_STEPS})"
        )
        out.append(Suggestion("train.epochs", epochs, why))
    return out


def _clip(value: int, bounds: tuple[int, int]) -> int:
    return min(max(value, bounds[0]), bounds[1])
