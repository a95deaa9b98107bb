"""Does a β-VAE disentangle ``shapes`` better than a VAE? Scores and latent traversals.

Trains (with ``--train``) or reuses a VAE (β=1) and a β-VAE on the procedural ``shapes`` data
(conv family, 32x32, 10 latent dimensions), evaluates both with
:func:`vae_atlas.analysis.evaluation.evaluate_run` and prints a Markdown table. Also renders one
figure with the latent traversals of both models (every dimension, sorted by its KL, swept from
−2.5 to 2.5 around the code of one test image; all other dimensions fixed).

    python benchmarks/shapes_disentanglement.py --train --epochs 30 --out runs/shapes
    python benchmarks/shapes_disentanglement.py --vae runs/shapes/vae --beta-vae runs/shapes/beta4 \
        --figure docs/evaluation/shapes_traversals.png

Target (its ``VERDICT`` line): the β-VAE's MIG above the VAE's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from _common import verdict  # noqa: E402  benchmarks/ is on sys.path
from vae_atlas.analysis.encode import decode_latents, encode_images  # noqa: E402
from vae_atlas.analysis.evaluation import EvaluationSettings, evaluate_run  # noqa: E402
from vae_atlas.analysis.quality import kl_per_dim  # noqa: E402
from vae_atlas.run import Run, load_run  # noqa: E402

ROWS = ("neg_elbo", "iwae_nll", "active_units", "total_correlation", "knn_accuracy")
DIS = ("beta_vae", "factor_vae", "mig", "dci_disentanglement", "dci_completeness",
       "dci_informativeness", "sap")  # fmt: skip


def train_pair(args: argparse.Namespace) -> tuple[Path, Path]:
    common = ["--dataset", "shapes", "--image-size", "32", "--n-samples", str(args.n_samples),
              "--family", "conv", "--latent-dim", "10", "--epochs", str(args.epochs),
              "--batch-size", "64", "--lr", "1e-3", "--val-size", "0",  # the documented runs
              "--no-progress", "--probe-size", "500"]  # fmt: skip
    vae, beta = args.out / "vae", args.out / f"beta{args.beta:g}"
    for out, extra in ((vae, ["--objective", "vae"]),
                       (beta, ["--objective", "beta-vae", "--beta", str(args.beta)])):  # fmt: skip
        cmd = [sys.executable, "-m", "vae_atlas.cli", "train", *common, *extra, "--out", str(out)]
        subprocess.run(cmd, check=True)
    return vae, beta


def traversal_rows(run: Run, *, n_values: int = 9, image_index: int = 0) -> tuple[np.ndarray, list]:
    """Images (D, n_values, H, W) sweeping each dimension, rows sorted by KL; row labels."""
    lat = encode_images(run.model, run.dataset.test.subset(slice(0, 2000)))
    kl = kl_per_dim(lat)
    order = np.argsort(kl)[::-1]
    base = lat.mu[image_index]
    values = np.linspace(-2.5, 2.5, n_values)
    codes = np.repeat(base[None, None], len(order), 0).repeat(n_values, 1)  # (D, V, D)
    for row, d in enumerate(order):
        codes[row, :, d] = values
    images = decode_latents(run.model, codes.reshape(-1, lat.latent_dim))
    size = images.shape[-1]
    labels = [f"z{d}  KL {kl[d]:.2f}" for d in order]
    return images.reshape(len(order), n_values, size, size), labels


def plot_traversals(runs: dict[str, Run], path: Path) -> None:
    fig, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs), 5.4))
    for ax, (title, run) in zip(np.atleast_1d(axes), runs.items(), strict=True):
        images, labels = traversal_rows(run)
        d, v, h, w = images.shape
        sheet = np.full((d * (h + 2), v * (w + 2)), 0.2)  # light-grey gutters under gray_r
        for i in range(d):
            for j in range(v):
                sheet[i * (h + 2) : i * (h + 2) + h, j * (w + 2) : j * (w + 2) + w] = images[i, j]
        ax.imshow(sheet, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_yticks([i * (h + 2) + h / 2 for i in range(d)], labels, fontsize=8)
        ax.set_xticks([j * (w + 2) + w / 2 for j in (0, v // 2, v - 1)], ["-2.5", "0", "+2.5"])
        ax.set_title(title, fontsize=10)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.suptitle("shapes: each row sweeps one latent dimension (sorted by KL), others fixed",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def print_table(runs: dict[str, Run], settings: EvaluationSettings) -> dict:
    """Evaluate every run, print the numbers as a Markdown table and return the results."""
    results = {name: evaluate_run(run, settings=settings) for name, run in runs.items()}
    print("| | " + " | ".join(results) + " |\n|---|" + "---|" * len(results))
    for key in ROWS:
        print(f"| {key} | " + " | ".join(_f(getattr(r, key)) for r in results.values()) + " |")
    for key in DIS:
        print(
            f"| {key} | " + " | ".join(_f(r.disentanglement[key]) for r in results.values()) + " |"
        )
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train", action="store_true")
    p.add_argument("--out", type=Path, default=Path("runs/shapes"))
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--beta", type=float, default=4.0)
    p.add_argument("--n-samples", type=int, default=20_000)
    p.add_argument("--vae", type=Path)
    p.add_argument("--beta-vae", type=Path)
    p.add_argument("--k", type=int, default=100, help="IWAE samples (conv decoders are slow)")
    p.add_argument("--points", type=int, default=4000, help="samples for MIG/DCI/SAP")
    p.add_argument("--figure", type=Path, default=Path("docs/evaluation/shapes_traversals.png"))
    p.add_argument("--figure-only", action="store_true", help="skip the (slow) evaluation")
    args = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    vae_dir, beta_dir = train_pair(args) if args.train else (args.vae, args.beta_vae)
    if vae_dir is None or beta_dir is None:
        p.error("give --train, or both --vae and --beta-vae")
    runs = {"VAE (β=1)": load_run(vae_dir), "β-VAE": load_run(beta_dir)}
    beta = runs["β-VAE"].config.model.beta
    runs = {"VAE (β=1)": runs["VAE (β=1)"], f"β-VAE (β={beta:g})": runs["β-VAE"]}
    if not args.figure_only:
        settings = EvaluationSettings(
            k=args.k, max_test_images=2000, disentanglement_points=args.points
        )
        vae, beta_vae = print_table(runs, settings).values()
        mig = (vae.disentanglement["mig"], beta_vae.disentanglement["mig"])
        verdict("β-VAE MIG above the VAE's", mig[1] > mig[0], f"{mig[1]:.3f} vs {mig[0]:.3f}")
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    plot_traversals(runs, args.figure)
    print(f"traversals: {args.figure}")


def _f(value: object) -> str:
    return "—" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


if __name__ == "__main__":
    main()
