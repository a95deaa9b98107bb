"""Do β-TCVAE and FactorVAE disentangle ``shapes`` better than a VAE? Scores over seeds, traversals.

Trains (or reuses) a VAE, a β-VAE, a β-TCVAE and a FactorVAE (optionally a plain AE, the fifth
model of the README's ``compare`` page) with one recipe — the same architecture (``--recipe``:
the conv one of the table in docs/disentangling.md, or an MLP), data and step budget — for
every seed, scores each run and prints a Markdown table of "mean ± sd" per model, one row per
score:

* ``--split test`` (the reported numbers): MIG, FactorVAE score, DCI and SAP from
  :func:`vae_atlas.analysis.disentanglement.disentanglement_scores`, on images rendered afresh
  from random factors (``ShapesOracle``), never the training images;
* ``--split val`` (for choosing β, γ, epochs): MIG, DCI and SAP on the codes of the runs' own
  validation images, which training never saw — tune on these with seeds the report does not use.

Then it draws the traversal figure of the first seed (``disentanglement_figure.py``).

    python benchmarks/disentanglement.py --out runs/dis --seeds 100 --split val   # tuning
    python benchmarks/disentanglement.py --out runs/dis --seeds 0 1 2 --models ae vae beta-vae \\
        beta-tcvae factor-vae --figure docs/evaluation/shapes_traversals.png

Targets (``VERDICT`` lines): the better of β-TCVAE and FactorVAE reaches at least twice the VAE's
mean MIG; and its mean MIG lies in the range the papers report on dSprites (0.2–0.4).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from _common import verdict  # benchmarks/ is on sys.path
from vae_atlas.analysis.disentanglement import ShapesOracle, dci, disentanglement_scores, mig, sap
from vae_atlas.analysis.encode import encode_images
from vae_atlas.analysis.quality import kl_per_dim
from vae_atlas.data.shapes import shape_factor_index
from vae_atlas.run import Run, load_run

# The architecture and optimiser every model of a table shares (the budget comes from the flags):
# "conv": a 3-stage conv encoder/decoder, Adam 3e-3 with cosine decay; "mlp": Chen et al.
# (2018)'s dSprites MLP (two hidden layers of 1200, ReLU) with a constant Adam 1e-3; "mlp-512":
# the same with 512-wide layers and batch 128, a third of the arithmetic per image; "mlp-512-b512":
# that network at batch 512, which on 2 CPU cores steps more images per second and, on validation
# images, reached a higher MIG per image seen (docs/disentangling.md).
RECIPES = {
    "conv": ("--dataset", "shapes", "--image-size", "32", "--family", "conv",
             "--hidden", "32,32,64", "--latent-dim", "10", "--batch-size", "64", "--lr", "3e-3",
             "--no-progress", "--probe-size", "200"),
    "mlp": ("--dataset", "shapes", "--image-size", "32", "--family", "mlp",
            "--hidden", "1200,1200", "--latent-dim", "10", "--batch-size", "256", "--lr", "1e-3",
            "--lr-final-fraction", "1", "--no-progress", "--probe-size", "200"),
    "mlp-512": ("--dataset", "shapes", "--image-size", "32", "--family", "mlp",
                "--hidden", "512,512", "--latent-dim", "10", "--batch-size", "128",
                "--lr", "1e-3", "--lr-final-fraction", "1", "--no-progress", "--probe-size", "200"),
    "mlp-512-b512": ("--dataset", "shapes", "--image-size", "32", "--family", "mlp",
                     "--hidden", "512,512", "--latent-dim", "10", "--batch-size", "512",
                     "--lr", "1e-3", "--lr-final-fraction", "1", "--no-progress",
                     "--probe-size", "200"),
}  # fmt: skip


@dataclass(frozen=True)
class Model:
    label: str
    flags: tuple[str, ...]


def model_table(args: argparse.Namespace) -> dict[str, Model]:
    """Every model the benchmark knows, with the objective flags its hyperparameters give."""
    return {
        "ae": Model("AE", ("--objective", "ae")),
        "vae": Model("VAE", ("--objective", "vae")),
        "beta-vae": Model(f"β-VAE (β={args.beta:g})",
                          ("--objective", "beta-vae", "--beta", f"{args.beta:g}")),
        "beta-tcvae": Model(f"β-TCVAE (β={args.tc_beta:g})",
                            ("--objective", "beta-tcvae", "--tc-beta", f"{args.tc_beta:g}")),
        # a 3 x 256 discriminator: Kim & Mnih's 5 x 1000 one took 2.2x as long per epoch here
        "factor-vae": Model(f"FactorVAE (γ={args.gamma:g})",
                            ("--objective", "factor-vae", "--factor-gamma", f"{args.gamma:g}",
                             "--factor-hidden", "256,256,256")),
    }  # fmt: skip


def train_run(out: Path, model: Model, seed: int, args: argparse.Namespace) -> None:
    """Train one run, or reuse it when a complete run of the same command is already there."""
    budget = ("--epochs", str(args.epochs), "--n-samples", str(args.n_samples),
              "--val-size", str(args.val_size), "--seed", str(seed),
              "--threads", str(args.threads))  # fmt: skip
    flags = [*RECIPES[args.recipe], *budget, *model.flags, *args.train_flags.split()]
    record = out.with_name(out.name + ".command.json")  # beside the run: train wants --out new
    if record.exists():
        if json.loads(record.read_text()) != flags:
            raise SystemExit(f"{out}: trained with other flags ({record}); choose another --out")
        if json.loads((out / "state.json").read_text()).get("status") == "complete":
            return
    resume = ("--resume", "--restart") if (out / "config.json").exists() else ()
    cmd = [sys.executable, "-m", "vae_atlas.cli", "train", *flags, *resume, "--out", str(out)]
    print("$ vae-atlas train", " ".join(flags), *resume, "--out", out, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(flags))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def score_run(run: Run, split: str, args: argparse.Namespace) -> dict[str, float]:
    """The split's scores, cached in the run directory next to the weights they describe."""
    key = f"{split}-{args.points}-{args.votes}"
    cache = run.path / "disentanglement_benchmark.json"
    saved = json.loads(cache.read_text()) if cache.exists() else {}
    if saved.get("weights_sha256") == run.weights_sha256() and key in saved:
        return saved[key]
    scores = score_test(run, args) if split == "test" else score_val(run)
    latents = encode_images(run.model, run.dataset.test)
    if latents.logvar is not None:  # a plain AE has no KL, so neither units nor an ELBO
        scores["active_units"] = int((kl_per_dim(latents) > 0.01).sum())
        scores["test_neg_elbo"] = run.metrics[-1]["test_neg_elbo"]
    if saved.get("weights_sha256") != run.weights_sha256():
        saved = {"weights_sha256": run.weights_sha256()}
    cache.write_text(json.dumps({**saved, key: scores}, indent=1))
    return scores


def score_test(run: Run, args: argparse.Namespace) -> dict[str, float]:
    oracle = ShapesOracle(run.model, image_size=run.config.model.image_shape[-1])
    scores = disentanglement_scores(oracle, n_points=args.points, n_votes=args.votes, seed=0)
    return {k: v for k, v in scores.to_dict().items() if k not in ("n_points", "n_votes", "seed")}


def score_val(run: Run) -> dict[str, float]:
    val = run.dataset.val
    if val is None or val.factors is None or len(val) < 4:
        raise SystemExit(f"{run.path}: --split val needs runs trained with --val-size > 0")
    codes = encode_images(run.model, val).mu  # (N, D)
    factors = shape_factor_index(val.factors.numpy())  # (N, 5)
    half = len(codes) // 2
    parts = (codes[:half], factors[:half], codes[half:], factors[half:])
    d = dci(*parts)
    return {"mig": mig(codes, factors), "dci_disentanglement": d.disentanglement,
            "dci_completeness": d.completeness, "dci_informativeness": d.informativeness,
            "sap": sap(*parts)}  # fmt: skip


ORDER = ("mig", "factor_vae", "dci_disentanglement", "dci_completeness", "dci_informativeness",
         "sap", "beta_vae", "active_units", "test_neg_elbo", "train_s")  # fmt: skip


def print_table(results: dict[str, list[dict[str, float]]], labels: dict[str, str]) -> None:
    """Markdown: one column per model, one row per score, "mean ± sd [min, max]" over seeds."""
    print("\n| score | " + " | ".join(labels[m] for m in results) + " |")
    print("|---|" + "---|" * len(results))
    for key in ORDER:
        cells = [_cell([r[key] for r in rows if r.get(key) is not None])
                 for rows in results.values()]  # fmt: skip
        if any(cells):
            print(f"| {key} | " + " | ".join(cells) + " |")


def _cell(values: list[float]) -> str:
    if not values:
        return ""
    v = np.asarray(values, dtype=float)
    sd = f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else ""
    return f"{v.mean():.3f}{sd} [{v.min():.3f}, {v.max():.3f}]"


def print_verdicts(results: dict[str, list[dict[str, float]]], labels: dict[str, str]) -> bool:
    """The two VERDICT lines; True when both targets are met."""
    means = {m: float(np.mean([r["mig"] for r in rows])) for m, rows in results.items()}
    best = max((m for m in ("beta-tcvae", "factor-vae") if m in means), key=means.get, default=None)
    if best is None or "vae" not in means:
        print("no VERDICT: needs the vae and beta-tcvae or factor-vae models")
        return True
    ratio = means[best] / max(means["vae"], 1e-12)
    figure = f"{labels[best]} {means[best]:.3f} vs VAE {means['vae']:.3f}: {ratio:.2f}×"
    met = verdict("β-TCVAE or FactorVAE MIG ≥ 2× the VAE's", ratio >= 2.0, figure)
    return met & verdict("its MIG in the papers' dSprites range 0.2–0.4", 0.2 <= means[best] <= 0.4,
            f"{means[best]:.3f}")  # fmt: skip


def add_training_args(p: argparse.ArgumentParser) -> None:
    """The objectives' weights, threads and extra ``train`` flags every run of a table shares."""
    p.add_argument("--beta", type=float, default=4.0, help="β-VAE's KL weight")
    p.add_argument("--tc-beta", type=float, default=6.0, help="β-TCVAE's weight on the TC term")
    p.add_argument("--gamma", type=float, default=10.0, help="FactorVAE's weight on the TC term")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--train-flags",
        default="",
        help="more `vae-atlas train` flags, after the recipe's ('--device cuda --image-size 64')",
    )


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/disentanglement"))
    p.add_argument("--models", nargs="+", default=["vae", "beta-vae", "beta-tcvae", "factor-vae"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--split", choices=("val", "test"), default="test")
    p.add_argument("--recipe", choices=tuple(RECIPES), default="conv")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--n-samples", type=int, default=20_000, help="images generated (train+test)")
    p.add_argument("--val-size", type=int, default=2000)
    add_training_args(p)
    p.add_argument("--points", type=int, default=3000, help="samples for MIG/DCI/SAP")
    p.add_argument("--votes", type=int, default=300, help="votes for the β-VAE/FactorVAE scores")
    p.add_argument("--figure", type=Path, help="draw the traversal figure of the first seed here")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    table = model_table(args)
    unknown = sorted(set(args.models) - set(table))
    if unknown:
        raise SystemExit(f"--models: unknown {', '.join(unknown)} (known: {', '.join(table)})")
    results: dict[str, list[dict[str, float]]] = {m: [] for m in args.models}
    for seed in args.seeds:
        for name in args.models:
            out = args.out / f"{name}-s{seed}"
            train_run(out, table[name], seed, args)
            run = load_run(out)
            # the training loop's own clock, summed over epochs: the same for a reused run
            train_s = sum(row.get("seconds", 0.0) for row in run.metrics)
            row = {**score_run(run, args.split, args), "seed": seed, "train_s": train_s}
            results[name].append(row)
            print(f"{name} seed {seed}: " + "  ".join(f"{k} {_fmt(v)}" for k, v in row.items()),
                  flush=True)  # fmt: skip
    labels = {m: table[m].label for m in args.models}
    print_table(results, labels)
    met = print_verdicts(results, labels)
    if args.figure is not None:
        from disentanglement_figure import plot_traversal_blocks

        first = {labels[m]: load_run(args.out / f"{m}-s{args.seeds[0]}") for m in args.models}
        plot_traversal_blocks(first, args.figure)
        print(f"traversals: {args.figure}")
    if not met:
        sys.exit(1)


def _fmt(value: float) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
