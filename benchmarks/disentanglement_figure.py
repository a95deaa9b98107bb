"""The traversal figure of ``disentanglement.py``: one block of rows per model.

Each row sweeps one latent dimension from −2.5 to +2.5 around the code of one test image, all
other dimensions fixed (a plain AE has no prior: ±2.5 standard deviations of that code over the
test images); rows are sorted by the dimension's KL (an AE's: by its variance). The row label
names the factor the dimension carries most information about and that information as a
fraction of the factor's entropy (the quantity MIG compares between the top two dimensions), so
a disentangled block reads "x", "y", "scale", ... down its rows, each with a high fraction, and
an entangled one repeats factors with low fractions.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import mutual_info_score  # noqa: E402

from vae_atlas.analysis.disentanglement import (  # noqa: E402
    ShapesOracle,
    mutual_information_matrix,
    sample_factor_index,
)
from vae_atlas.analysis.encode import decode_latents, encode_images  # noqa: E402
from vae_atlas.analysis.quality import kl_per_dim  # noqa: E402
from vae_atlas.data.shapes import SHAPES_FACTOR_NAMES, SHAPES_FACTOR_SIZES  # noqa: E402
from vae_atlas.run import Run  # noqa: E402

N_VALUES = 9
SPAN = 2.5
ACTIVE_KL = 0.01  # nats; rows below it decode to the same image and are left out


def factor_information(run: Run, *, n_points: int = 4000, seed: int = 0) -> np.ndarray:
    """(D, F) mutual information of each code with each factor / the factor's entropy."""
    rng = np.random.default_rng(seed)
    factors = sample_factor_index(SHAPES_FACTOR_SIZES, n_points, rng)  # (N, F)
    codes = ShapesOracle(run.model, image_size=run.config.model.image_shape[-1]).represent(factors)
    entropy = np.array([mutual_info_score(f, f) for f in factors.T])  # (F,)
    return mutual_information_matrix(codes, factors) / entropy


def traversal_block(run: Run, *, image_index: int = 0) -> tuple[np.ndarray, list[str]]:
    """Images (A, N_VALUES, H, W) sweeping each of the A active dimensions (KL ≥ ACTIVE_KL; a
    plain AE: all), rows sorted by KL; row labels."""
    latents = encode_images(run.model, run.dataset.test.subset(slice(0, 2000)))
    if latents.logvar is None:  # no prior to measure in: sweep ±2.5 of each code's own std
        kl, unit = latents.mu.var(axis=0), latents.mu.std(axis=0)
        order = list(np.argsort(kl)[::-1])
    else:
        kl, unit = kl_per_dim(latents), np.ones(latents.latent_dim)
        order = [d for d in np.argsort(kl)[::-1] if kl[d] >= ACTIVE_KL]
    info = factor_information(run)
    codes = np.repeat(latents.mu[image_index][None, None], len(order), 0)
    codes = codes.repeat(N_VALUES, 1)  # (D, V, D)
    for row, d in enumerate(order):
        codes[row, :, d] = latents.mu[image_index, d] + unit[d] * np.linspace(-SPAN, SPAN, N_VALUES)
    images = decode_latents(run.model, codes.reshape(-1, latents.latent_dim))
    size = images.shape[-1]
    measure = "KL" if latents.logvar is not None else "var"
    labels = [
        f"z{d} {measure} {kl[d]:.2f}  {SHAPES_FACTOR_NAMES[info[d].argmax()]} {info[d].max():.2f}"
        for d in order
    ]
    return images.reshape(len(order), N_VALUES, size, size), labels


def plot_traversal_blocks(runs: dict[str, Run], path: Path) -> None:
    """Save one block of traversal rows per model, stacked top to bottom, to ``path``."""
    blocks = {title: traversal_block(run) for title, run in runs.items()}
    n_rows = [len(labels) for _, labels in blocks.values()]
    fig, axes = plt.subplots(
        len(blocks), 1, figsize=(6.0, 0.36 * sum(n_rows) + 0.45 * len(blocks) + 0.5),
        gridspec_kw={"height_ratios": n_rows}, squeeze=False,
    )  # fmt: skip
    for ax, (title, (images, labels)) in zip(axes[:, 0], blocks.items(), strict=True):
        d, v, h, w = images.shape
        sheet = np.full((d * (h + 2), v * (w + 2)), 0.2)  # light-grey gutters under gray_r
        for i in range(d):
            for j in range(v):
                sheet[i * (h + 2) : i * (h + 2) + h, j * (w + 2) : j * (w + 2) + w] = images[i, j]
        ax.imshow(sheet, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_yticks([i * (h + 2) + h / 2 for i in range(d)], labels, fontsize=7)
        ax.set_xticks([j * (w + 2) + w / 2 for j in (0, v // 2, v - 1)], ["−2.5", "0", "+2.5"])
        ax.tick_params(length=0, labelsize=7)
        hidden = runs[title].config.model.latent_dim - d
        note = f"  ({hidden} switched off, not shown)" if hidden else ""
        ax.set_title(title + note, fontsize=9, loc="left")
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.suptitle(
        "shapes: each row sweeps one latent dimension (sorted by KL), others fixed;\n"
        "label: the factor it tells most about, as a fraction of that factor's entropy",
        fontsize=8,
    )
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.5 / fig.get_figheight()))  # room for the title
    fig.savefig(path, dpi=110)
    plt.close(fig)
