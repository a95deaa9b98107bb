"""Images in and out of the explorer: PNG encoding and the safe decoding of user uploads.

An upload is untrusted bytes. It is opened by Pillow only after the size cap, must be a PNG or a
JPEG, may not claim more than :data:`MAX_PIXELS` pixels (a decompression bomb is rejected from
its header, before any pixel is decoded) and must decode completely (a truncated file is an
error, not a half-grey picture). Preprocessing mirrors the dataset: grey or RGB, transparency
flattened onto white, padded to a square, resized to the run's size; with ``invert="auto"``
the image is inverted when its border is light (> 0.7) and the dataset's dark (< 0.3), or the
other way round (MNIST is white ink on black, while people draw dark on light).
"""

from __future__ import annotations

import base64
import io
import warnings

import numpy as np
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
FORMATS = ("PNG", "JPEG")


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
        if w < 1 or h < 1 or w * h > MAX_PIXELS:
            raise UploadError(f"the image is {w}x{h}; at most {MAX_PIXELS} pixels are allowed", 413)
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
) -> tuple[np.ndarray, bool]:
    """The upload as the model's input (C, H, W) float32 in [0, 1], and whether it was inverted.

    ``dataset_background`` is the dataset's mean border brightness in [0, 1]; ``invert`` is
    ``"auto"``, ``"yes"`` or ``"no"``.
    """
    c, h, w = image_shape
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(flat, rgba)
    img = img.convert("L" if c == 1 else "RGB")
    img = ImageOps.pad(img, (max(img.size),) * 2, color=_corner_colour(img))
    img = img.resize(
        (w, h), Image.Resampling.LANCZOS if w < img.size[0] else Image.Resampling.BICUBIC
    )
    pixels = np.asarray(img, dtype=np.float32) / 255.0
    pixels = pixels[None] if c == 1 else np.moveaxis(pixels, -1, 0)  # (C, H, W)
    border = border_brightness(pixels[None])
    # only clear-cut cases: a mid-grey dataset (natural images) is never inverted automatically
    bg = dataset_background
    opposite = (bg < 0.3 and border > 0.7) or (border < 0.3 and bg > 0.7)
    flip = invert == "yes" or (invert == "auto" and opposite)
    return (1.0 - pixels if flip else pixels).astype(np.float32), bool(flip)


def _corner_colour(img: Image.Image) -> int | tuple[int, ...]:
    return img.getpixel((0, 0))  # type: ignore[return-value]


def border_brightness(images: np.ndarray) -> float:
    """Mean brightness in [0, 1] of the one-pixel border of images (N, C, H, W) in [0, 1]."""
    x = np.asarray(images, dtype=np.float64)
    edges = [x[:, :, 0, :], x[:, :, -1, :], x[:, :, :, 0], x[:, :, :, -1]]
    return float(np.mean([e.mean() for e in edges]))
