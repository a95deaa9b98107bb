"""Images in and out of the explorer: PNG encoding and the safe decoding of user uploads.

An upload is untrusted bytes. It is opened by Pillow only after the size cap, must be a PNG or a
JPEG, may not claim a side over :data:`MAX_SIDE` pixels or one side over :data:`MAX_ASPECT`
times the other (both read from the header, so a decompression bomb or a 1 x 30,000 sliver is
rejected before any pixel is decoded) and must decode completely (a truncated file is an error,
not a half-grey picture).

Preprocessing mirrors the way the dataset was made. Always: transparency flattened onto white,
grey or RGB as the model expects, and with ``invert="auto"`` inverted when its border is light
(> 0.7) and the dataset's dark (< 0.3), or the other way round (MNIST is white ink on black,
while people draw dark on light). Then by ``layout``: ``"fill"`` pads to a square and resizes to
the run's size; ``"mnist"`` lays the ink out as MNIST was made (see
:func:`vae_atlas.explorer.layout.centre_ink`).
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from vae_atlas.explorer.layout import box_side, centre_ink

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
MAX_ASPECT = 10
FORMATS = ("PNG", "JPEG")
LAYOUTS = ("fill", "mnist")


class UploadError(ValueError):
    """The upload is not an image the explorer can use; ``status`` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def to_png(image: np.ndarray) -> bytes:
    """PNG bytes of one image (C, H, W) float in [0, 1] (C = 1 grey, C = 3 RGB)."""
    pixels = np.clip(np.rint(np.asarray(image) * 255.0), 0, 255).astype(np.uint8)
    return png_from_uint8(pixels)


def png_from_uint8(pixels: np.ndarray) -> bytes:
    """PNG bytes of one uint8 image (C, H, W)."""
    c = pixels.shape[0]
    img = Image.fromarray(pixels[0]) if c == 1 else Image.fromarray(np.moveaxis(pixels[:3], 0, -1))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def open_upload(data: bytes) -> Image.Image:
    """Open and fully decode untrusted image bytes, or raise :class:`UploadError`."""
    if not data:
        raise UploadError("the upload is empty; send a PNG or JPEG file as the request body")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the upload is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}", 413)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=FORMATS)
        except Image.DecompressionBombError as exc:
            raise UploadError(f"the image is too large to decode safely ({exc})", 413) from None
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
            raise UploadError("the upload is not a PNG or JPEG image Pillow can read") from None
        w, h = img.size
        if w < 1 or h < 1 or max(w, h) > MAX_SIDE:
            raise UploadError(f"the image is {w}x{h}; each side may be at most {MAX_SIDE}", 413)
        if max(w, h) > MAX_ASPECT * min(w, h):
            raise UploadError(
                f"the image is {w}x{h}; one side may be at most {MAX_ASPECT} times the other"
            )
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise UploadError(f"the image could not be decoded ({exc})") from None
    return img


def prepare_upload(
    img: Image.Image,
    image_shape: tuple[int, int, int],
    *,
    dataset_background: float,
    invert: str = "auto",
    layout: str = "fill",
) -> tuple[np.ndarray, bool]:
    """The upload as the model's input (C, H, W) float32 in [0, 1], and whether it was inverted.

    ``dataset_background`` is the dataset's mean border brightness in [0, 1]; ``invert`` is
    ``"auto"``, ``"yes"`` or ``"no"``; ``layout`` one of :data:`LAYOUTS` (``"mnist"`` needs a
    grey model input).
    """
    c, h, w = image_shape
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(flat, rgba)
    img = img.convert("L" if c == 1 else "RGB")
    if layout == "mnist" and c == 1:
        pixels = np.asarray(img, dtype=np.float32)[None] / 255.0  # (1, H0, W0)
        flip = _inverts(border_brightness(pixels[None]), dataset_background, invert)
        ink = 1.0 - pixels[0] if flip else pixels[0]
        return centre_ink(ink, (h, w))[None], flip
    img = ImageOps.pad(img, (max(img.size),) * 2, color=_corner_colour(img))
    img = img.resize(
        (w, h), Image.Resampling.LANCZOS if w < img.size[0] else Image.Resampling.BICUBIC
    )
    pixels = np.asarray(img, dtype=np.float32) / 255.0
    pixels = pixels[None] if c == 1 else np.moveaxis(pixels, -1, 0)  # (C, H, W)
    flip = _inverts(border_brightness(pixels[None]), dataset_background, invert)
    return (1.0 - pixels if flip else pixels).astype(np.float32), flip


def describe_layout(layout: str, image_shape: tuple[int, int, int]) -> str:
    """How :func:`prepare_upload` lays an upload out, in words for the page."""
    c, h, w = image_shape
    if layout == "mnist" and c == 1:
        box = box_side((h, w))
        return (
            f"as MNIST was made: the ink scaled to fit {box}x{box}, its centre of mass at the "
            f"centre of {w}x{h}"
        )
    return f"padded to a square and resized to {w}x{h}"


def _inverts(border: float, dataset_background: float, invert: str) -> bool:
    # only clear-cut cases: a mid-grey dataset (natural images) is never inverted automatically
    bg = dataset_background
    opposite = (bg < 0.3 and border > 0.7) or (border < 0.3 and bg > 0.7)
    return bool(invert == "yes" or (invert == "auto" and opposite))


def _corner_colour(img: Image.Image) -> int | tuple[int, ...]:
    return img.getpixel((0, 0))  # type: ignore[return-value]


def border_brightness(images: np.ndarray) -> float:
    """Mean brightness in [0, 1] of the one-pixel border of images (N, C, H, W) in [0, 1]."""
    x = np.asarray(images, dtype=np.float64)
    edges = [x[:, :, 0, :], x[:, :, -1, :], x[:, :, :, 0], x[:, :, :, -1]]
    return float(np.mean([e.mean() for e in edges]))
