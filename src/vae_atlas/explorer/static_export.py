"""``vae-atlas explore RUN --export DIR``: the explorer as static files that work from ``file://``
and on any static host — ``index.html``, ``explorer.js`` (the page's modules joined, see
:mod:`~vae_atlas.explorer.bundle`) and ``data.js`` (the runs' data as one JavaScript value,
because a page opened from ``file://`` may not fetch files beside it).

``data.js`` holds, per run: the server's own answers to the page's first requests (the run, its
labels, its linear maps, the decoder's weights), the latent means and σ the page computes
selections, neighbours and ellipses from, the shown test images as one PNG sprite (the originals
of a selection), and a few batches of the server's samples. Hover decoding, sliders,
interpolation and samples run the decoder in the page (``static/host-static.js``) for MLP and
conv decoders (see :mod:`~vae_atlas.explorer.weights`). Other decoders (the hierarchical VAE's,
a class-conditional one, a user's own model) are not run there, and the page and the command
say so and why (:func:`not_decoded_note`); their test points' reconstructions are embedded as a
second sprite, so selections still show them, and a cvae's "decode as" control, which only
decodes, is left out of the page.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vae_atlas.analysis.sampling import sample_codes, source_label
from vae_atlas.explorer.app import create_app
from vae_atlas.explorer.bundle import bundle_script, page_entries, page_html
from vae_atlas.explorer.inprocess import InProcessClient
from vae_atlas.explorer.maps import LINEAR
from vae_atlas.explorer.state import ExplorerRun
from vae_atlas.models.conditional import is_conditional

FILES = ("index.html", "explorer.js", "data.js")
SAMPLE_BATCHES = 8  # "New samples" cycles through this many batches of the server's samples
SAMPLE_BATCH = 36  # the page asks for 36 at a time
NOT_DECODED_NOTE = (
    "the page runs MLP and conv decoders; hierarchical and custom ones decode on the server only"
)
CONDITIONAL_NOTE = (
    "a conditional VAE: its decoder reads a class or attributes beside the code, and the "
    "page's decoders read only the code"
)


class ExportError(ValueError):
    """The export cannot be written where asked (the message names the folder)."""


@dataclass(frozen=True)
class StaticExport:
    """What was written: the folder, each file's size in bytes, the runs whose decoder does
    not run in the page and the note (shown on the page) that says why, None when all do."""

    folder: Path
    sizes: dict[str, int]
    not_decoded: tuple[str, ...]
    note: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sprite(images: np.ndarray) -> dict:
    """uint8 images (N, C, H, W) as one PNG data URI, ``cols`` images per row."""
    from PIL import Image

    n, c, h, w = images.shape
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    sheet = np.zeros((rows * h, cols * w, c), dtype=np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        sheet[r * h : (r + 1) * h, q * w : (q + 1) * w] = images[i].transpose(1, 2, 0)
    image = Image.fromarray(sheet[..., 0] if c == 1 else sheet)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return {"uri": "data:image/png;base64," + b64(buffer.getvalue()), "cols": cols}


def run_data(client: InProcessClient, run: ExplorerRun) -> dict:
    """One run's part of ``data.js`` (see the module docstring)."""
    base = f"/api/runs/{run.id}"
    detail = json.loads(client.get(f"{base}?labels=false").body)
    if run.decoder is None:
        detail["condition"] = None  # "decode as" only decodes, which this page cannot
    detail["projections"] = [p for p in detail["projections"] if p in LINEAR]
    maps = {}
    for p in detail["projections"]:
        if p != "dims":  # two chosen dimensions are read off the means in the page
            meta = json.loads(client.get(f"{base}/map?projection={p}&points=false").body)
            maps[p] = {"meta": meta, "xy": b64(client.get(f"{base}/map.bin?projection={p}").body)}
    decoder = None
    if run.decoder is not None:
        decoder = {"manifest": run.decoder.manifest, "weights": b64(run.decoder.weights)}
    source = run.sample_source
    batches = [
        np.round(
            sample_codes(SAMPLE_BATCH, run.latent_dim, source=source, codes=run.latents.mu, seed=s),
            6,
        ).tolist()
        for s in range(SAMPLE_BATCHES)
    ]
    sigma = run.latents.sigma
    recons = None
    if run.decoder is None:  # the page cannot decode: the points' reconstructions come along
        images = run.decode(run.latents.mu)  # (N, C, H, W) in [0, 1]
        recons = sprite(np.round(np.clip(images, 0, 1) * 255).astype(np.uint8))
    return {
        "detail": detail,
        "n_points": len(run.latents),
        "latent_dim": run.latent_dim,
        "image_shape": list(run.image_shape),
        "labels": None if run.labels is None else run.labels.astype(int).tolist(),
        "maps": maps,
        "decoder": decoder,
        "mu": b64(np.ascontiguousarray(run.latents.mu, dtype="<f4").tobytes()),
        "sigma": None if sigma is None else b64(np.ascontiguousarray(sigma, dtype="<f4").tobytes()),
        "sprite": sprite(run.images.images.numpy()),
        "recon_sprite": recons,
        "samples": {"batches": batches, "label": source_label(source), "kind": source},
    }


def not_decoded_note(runs: Sequence[ExplorerRun]) -> str | None:
    """One line naming each run whose decoder the page cannot run, and why; None if none."""
    named = [
        f"{r.name} ({CONDITIONAL_NOTE if is_conditional(r.model) else NOT_DECODED_NOTE})"
        for r in runs
        if r.decoder is None
    ]
    if not named:
        return None
    return (
        f"not decoded in the page: {', '.join(named)}; the page shows the map, selections, "
        "their originals and reconstructions; hover, interpolation and samples need the "
        "server (vae-atlas explore)"
    )


def check_folder(folder: Path) -> None:
    """Write only into a new or empty folder, or over an earlier export (nothing else is lost)."""
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"--export {folder}: is a file, not a folder")
    if folder.is_dir():
        found = {p.name for p in folder.iterdir()}
        if found - set(FILES):
            raise ExportError(
                f"--export {folder}: the folder holds other files ({', '.join(sorted(found)[:3])}"
                "...); give a new or empty folder, or an earlier export"
            )


def export_static(
    runs: Sequence[ExplorerRun], folder: str | Path, *, note: str | None = None
) -> StaticExport:
    """Write the static explorer of ``runs`` into ``folder`` (see the module docstring)."""
    folder = Path(folder)
    check_folder(folder)
    client = InProcessClient(create_app(runs))
    try:
        summaries = json.loads(client.get("/api/runs").body)
        data = {"summaries": summaries, "runs": {r.id: run_data(client, r) for r in runs}}
    finally:
        client.close()
    not_decoded = tuple(r.name for r in runs if r.decoder is None)
    why = not_decoded_note(runs)
    texts = {
        "index.html": page_html(["data.js", "explorer.js"], banner=why or note),
        "explorer.js": bundle_script(["host-static.js", *page_entries()]),
        "data.js": "window.VAE_ATLAS_DATA = " + json.dumps(data, separators=(",", ":")) + ";\n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        sizes[name] = (folder / name).stat().st_size
    return StaticExport(folder, sizes, not_decoded, why)
