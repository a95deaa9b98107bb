"""The MNIST layout of a digit (LeCun et al. 1998): the ink's bounding box scaled, keeping its
aspect ratio, to fit a 20 x 20 box, then placed in the 28 x 28 field so that its centre of mass
sits at the field's centre.

A model trained on MNIST has only ever seen digits laid out like this; a hand-drawn digit that
fills its canvas, or sits in a corner, reaches the encoder as something it never learnt, so an
upload gets the same layout before it is encoded. Other field sizes scale the box by 20/28.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# share of the field the ink's longer side fills (MNIST: 20 of 28 pixels)
BOX_SHARE = 20 / 28
# ink fainter than this share of the brightest stroke is noise (paper grain, JPEG ringing)
# when finding the bounding box
FAINT = 0.1


def box_side(size: tuple[int, int]) -> int:
    """The side of the box the ink is scaled into, for a field ``size`` (H, W)."""
    return max(1, round(BOX_SHARE * min(size)))


def centre_ink(ink: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bright ink on a dark ground (H0, W0) in [0, 1], laid out as MNIST in a field ``size``.

    The ground (the median of the border) is subtracted and the strokes stretched to a peak of
    1; a blank image stays blank. Returns float32 (H, W) in [0, 1].
    """
    ink = np.asarray(ink, dtype=np.float32)
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    ink = np.clip(ink - np.median(border), 0.0, None)
    peak = float(ink.max())
    field = np.zeros(size, dtype=np.float32)
    if peak <= 0.0:
        return field
    ink /= peak
    rows, cols = np.nonzero(ink > FAINT)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    glyph = _scale_to_box(crop, box_side(size))
    mass = glyph.sum()
    r, c = np.indices(glyph.shape)
    centre = ((r * glyph).sum() / mass, (c * glyph).sum() / mass)
    # whole-pixel shifts keep the strokes sharp; the centre of an H-pixel field is (H - 1) / 2
    top = int(np.floor((size[0] - 1) / 2 - centre[0] + 0.5))
    left = int(np.floor((size[1] - 1) / 2 - centre[1] + 0.5))
    _paste(field, glyph, top, left)
    return field


def _scale_to_box(crop: np.ndarray, box: int) -> np.ndarray:
    """``crop`` (h, w) resized so its longer side is ``box``, aspect ratio kept."""
    h, w = crop.shape
    scale = box / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL sizes are (W, H)
    if new == (w, h):
        return crop
    method = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
    resized = Image.fromarray(crop).resize(new, method)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _paste(field: np.ndarray, glyph: np.ndarray, top: int, left: int) -> None:
    """Put ``glyph`` into ``field`` with its corner at (top, left), clipped to the field."""
    h, w = field.shape
    gh, gw = glyph.shape
    y0, y1 = max(0, top), min(h, top + gh)
    x0, x1 = max(0, left), min(w, left + gw)
    if y0 < y1 and x0 < x1:
        field[y0:y1, x0:x1] = glyph[y0 - top : y1 - top, x0 - left : x1 - left]
