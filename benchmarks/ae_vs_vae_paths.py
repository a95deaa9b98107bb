"""AE vs VAE interpolations: the same pairs of test images, decoded along straight latent paths.

An interpolation score on which a plain autoencoder and a VAE differ: this script prints, for
each run, the two path measures of :mod:`vae_atlas.analysis.quality` (path length / chord, and
largest step / mean step) on the same seeded pairs, and draws the same eight pairs of test images
interpolated by each model, one strip per pair with that pair's largest/mean step ratio, into
``--out`` (a PNG).

Train the two runs first (identical except ``--objective``; the default validation split holds
5,000 of MNIST's training images out), e.g.::

    vae-atlas train --dataset mnist --data-dir ../shared/datasets/mnist --latent-dim 2 \
        --epochs 10 --objective ae --threads 1 --out runs/ae2
    vae-atlas train ... --objective vae --out runs/vae2
    python benchmarks/ae_vs_vae_paths.py runs/ae2 runs/vae2 \
        --out docs/evaluation/ae_vs_vae_mnist2d.png

A measurement without a target: it prints no ``VERDICT`` line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vae_atlas.analysis import (  # noqa: E402
    decode_latents,
    encode_images,
    interpolation_path,
    interpolation_roughness,
    interpolation_smoothness,
)
from vae_atlas.analysis.interpolation import path_roughness  # noqa: E402
from vae_atlas.run import load_run  # noqa: E402
from vae_atlas.viz import plot_image_grid  # noqa: E402

N_TEST = 2000  # test images encoded (as `vae-atlas evaluate --max-images 2000`)
N_STRIPS, N_STEPS = 8, 12


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", nargs="+", help="run directories (e.g. an AE and a VAE)")
    p.add_argument("--out", type=Path, default=Path("ae_vs_vae.png"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    pairs = np.random.default_rng(args.seed).choice(N_TEST, size=(N_STRIPS, 2), replace=False)
    fig, axes = plt.subplots(1, len(args.runs), figsize=(6.2 * len(args.runs), 5.0))
    for ax, run_dir in zip(np.atleast_1d(axes), args.runs, strict=True):
        run = load_run(run_dir)
        model, cfg = run.model.eval(), run.config
        latents = encode_images(model, run.dataset.test.subset(slice(0, N_TEST)))
        smooth = interpolation_smoothness(model, latents, seed=args.seed)
        rough = interpolation_roughness(model, latents, seed=args.seed)
        n_train = next((m["n_train"] for m in run.metrics if "n_train" in m), None)
        name = f"{cfg.model.objective.upper()}, {cfg.model.latent_dim}-D, {cfg.train.epochs} epochs"
        name += f" on {n_train:,} training images" if n_train else ""
        print(f"{run_dir}: {name}: path/chord {smooth:.2f}, largest/mean step {rough:.2f}")
        strips, ratios = [], []
        for a, b in pairs:
            path = interpolation_path(latents.mu[a], latents.mu[b], N_STEPS)  # (T, D)
            images = decode_latents(model, path)  # (T, C, H, W)
            strips.append(images)
            ratios.append(path_roughness(images))
        plot_image_grid(np.concatenate(strips), ncols=N_STEPS, ax=ax)
        ax.set_title(
            f"{name}\n200-pair medians: path/chord {smooth:.2f}, largest/mean step {rough:.2f}",
            fontsize=10,
        )
        for row, ratio in enumerate(ratios):
            y = (row + 0.5) / N_STRIPS
            ax.text(1.01, 1 - y, f"{ratio:.1f}", transform=ax.transAxes, va="center", fontsize=9)
    fig.suptitle(
        "Straight latent paths between the same test images (number: largest step / mean step)",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
