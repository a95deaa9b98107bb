"""Re-run the README's AE / VAE / β-VAE walkthrough over several seeds and check each claim the
README makes about it, one ``VERDICT`` line per claim (exit status 1 when one is not met).

Trains, per seed, exactly the walkthrough's three runs (MNIST, 2-D, 5 epochs, ``--seed S``) with
the ``vae-atlas train`` CLI, unless ``--workdir`` already holds them, then measures on the first
2,000 test images:

* held-out loss at the last epoch (``test_recon`` for the AE, ``test_neg_elbo`` otherwise);
* where the codes live: the 99th percentile of |z| and the fraction of means outside the
  prior's 99.9 % sphere (:mod:`vae_atlas.analysis.diagnostics`' "far" rule);
* the prior mass in holes (:func:`vae_atlas.analysis.aggregate.hole_fraction`);
* interpolation roughness, the median largest/mean decoded step over 200 random pairs;
* how many digit classes a pixel 5-NN classifier (fitted on 10,000 training images) finds among
  200 decoded prior samples and among the 15×15 prior-quantile grid.

Usage::

    python benchmarks/walkthrough.py --data-dir ../shared/datasets/mnist --seeds 0 1 2 \\
        --workdir /tmp/walkthrough
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from _common import verdict

MODELS = ("ae", "vae", "beta-vae")
N_TEST = 2000


@dataclass(frozen=True)
class Measures:
    """One trained run's numbers (see the module docstring)."""

    held_out: float
    reach: float
    outside: float
    holes: float
    roughness: float
    sample_classes: int
    grid_classes: int


@dataclass(frozen=True)
class Claim:
    """A README sentence and the test on the per-model, per-seed measures that makes it true."""

    text: str
    holds: Callable[[Mapping[str, Sequence[Measures]]], bool]
    figure: Callable[[Mapping[str, Sequence[Measures]]], str]


def _spread(runs: Sequence[Measures], field: str, fmt: str = ".1f") -> str:
    values = [getattr(m, field) for m in runs]
    return f"{np.mean(values):{fmt}} [{min(values):{fmt}}, {max(values):{fmt}}]"


def _all(runs: Sequence[Measures], test: Callable[[Measures], bool]) -> bool:
    return bool(runs) and all(test(m) for m in runs)


def _paired(r: Mapping[str, Sequence[Measures]], a: str, b: str, field: str) -> bool:
    """``a``'s ``field`` above ``b``'s on every seed."""
    pairs = list(zip(r[a], r[b], strict=True))
    return bool(pairs) and all(getattr(x, field) > getattr(y, field) for x, y in pairs)


CLAIMS = (
    Claim(
        "the AE's codes reach far outside the prior (99th percentile |z| > 8 on every seed)",
        lambda r: _all(r["ae"], lambda m: m.reach > 8),
        lambda r: f"AE {_spread(r['ae'], 'reach')}",
    ),
    Claim(
        "the VAE and the β-VAE keep their means inside the prior (< 5 % outside on every seed)",
        lambda r: _all([*r["vae"], *r["beta-vae"]], lambda m: m.outside < 0.05),
        lambda r: (
            f"VAE {_spread(r['vae'], 'outside', '.3f')}, "
            f"β-VAE {_spread(r['beta-vae'], 'outside', '.3f')}"
        ),
    ),
    Claim(
        "the AE leaves more of the prior empty (holes) than the VAE and the β-VAE, every seed",
        lambda r: _paired(r, "ae", "vae", "holes") and _paired(r, "ae", "beta-vae", "holes"),
        lambda r: (
            f"AE {_spread(r['ae'], 'holes', '.2f')}, VAE {_spread(r['vae'], 'holes', '.2f')}"
            f", β-VAE {_spread(r['beta-vae'], 'holes', '.2f')}"
        ),
    ),
    Claim(
        "the VAE's and β-VAE's prior samples show at least 9 of the 10 digits, every seed",
        lambda r: _all([*r["vae"], *r["beta-vae"]], lambda m: m.sample_classes >= 9),
        lambda r: (
            f"VAE {_spread(r['vae'], 'sample_classes')}, "
            f"β-VAE {_spread(r['beta-vae'], 'sample_classes')}"
        ),
    ),
    Claim(
        "the VAE's and β-VAE's prior-quantile grids show at least 9 of the 10 digits, every seed",
        lambda r: _all([*r["vae"], *r["beta-vae"]], lambda m: m.grid_classes >= 9),
        lambda r: (
            f"AE {_spread(r['ae'], 'grid_classes')}, VAE {_spread(r['vae'], 'grid_classes')}, "
            f"β-VAE {_spread(r['beta-vae'], 'grid_classes')}"
        ),
    ),
    Claim(
        "the AE's interpolations jump more than the VAE's (median largest/mean step), every seed",
        lambda r: _paired(r, "ae", "vae", "roughness"),
        lambda r: (
            f"AE {_spread(r['ae'], 'roughness', '.2f')}, "
            f"VAE {_spread(r['vae'], 'roughness', '.2f')}"
        ),
    ),
    Claim(
        "held-out loss: AE reconstruction < VAE −ELBO < β-VAE −ELBO, every seed",
        lambda r: _paired(r, "vae", "ae", "held_out") and _paired(r, "beta-vae", "vae", "held_out"),
        lambda r: (
            f"AE {_spread(r['ae'], 'held_out')}, VAE {_spread(r['vae'], 'held_out')}, "
            f"β-VAE {_spread(r['beta-vae'], 'held_out')} nats"
        ),
    ),
)


def check_claims(results: Mapping[str, Sequence[Measures]]) -> list[tuple[str, bool, str]]:
    """(claim, met, figure) for every claim in ``CLAIMS``, from per-model lists of measures
    (one per seed, same seed order for every model)."""
    return [(c.text, bool(c.holds(results)), c.figure(results)) for c in CLAIMS]


def train_run(out: Path, objective: str, seed: int, data_dir: str, epochs: int) -> None:
    extra = ["--objective", objective] + (["--beta", "4"] if objective == "beta-vae" else [])
    cmd = [sys.executable, "-m", "vae_atlas.cli", "train", "--dataset", "mnist", "--data-dir"]
    cmd += [data_dir, "--latent-dim", "2", *extra, "--epochs", str(epochs), "--seed", str(seed)]
    subprocess.run([*cmd, "--out", str(out), "--no-progress"], check=True)


def measure_run(path: Path, classifier) -> Measures:  # noqa: ANN001 - a fitted sklearn model
    import torch
    from scipy.stats import chi2

    from vae_atlas.analysis import (
        aggregate_codes,
        decode_latents,
        encode_images,
        hole_fraction,
        interpolation_roughness,
        latent_grid,
        sample_prior,
    )
    from vae_atlas.run import load_run

    run = load_run(path)
    model = run.model
    latents = encode_images(model, run.dataset.test.subset(torch.arange(N_TEST)))
    last = run.metrics[-1]
    held = last["test_neg_elbo"] if last.get("test_neg_elbo") is not None else last["test_recon"]
    radius = float(np.sqrt(chi2.ppf(0.999, 2)))
    norms = np.linalg.norm(latents.mu, axis=1)
    codes = aggregate_codes(latents.mu, latents.logvar)
    samples = decode_latents(model, sample_prior(200, 2, seed=0)).reshape(200, -1)
    grid = decode_latents(model, latent_grid(15, 2).z).reshape(225, -1)
    return Measures(
        held_out=float(held),
        reach=float(np.percentile(np.abs(latents.mu), 99)),
        outside=float(np.mean(norms > radius)),
        holes=hole_fraction(codes),
        roughness=interpolation_roughness(model, latents),
        sample_classes=len(set(classifier.predict(samples).tolist())),
        grid_classes=len(set(classifier.predict(grid).tolist())),
    )


def digit_classifier(data_dir: str):  # noqa: ANN201 - a fitted sklearn classifier
    from sklearn.neighbors import KNeighborsClassifier

    from vae_atlas.config import DataConfig
    from vae_atlas.data import load_dataset

    train = load_dataset(DataConfig(name="mnist", data_dir=data_dir)).train
    x = train.images[:10_000].reshape(10_000, -1).numpy().astype(np.float32) / 255.0
    return KNeighborsClassifier(n_neighbors=5).fit(x, train.labels[:10_000].numpy())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data-dir", required=True, help="folder with the MNIST IDX files")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/walkthrough"))
    p.add_argument("--json", type=Path, help="also write the measures here")
    args = p.parse_args()
    classifier = digit_classifier(args.data_dir)
    results: dict[str, list[Measures]] = {m: [] for m in MODELS}
    for seed in args.seeds:
        for objective in MODELS:
            out = args.workdir / f"{objective}-s{seed}"
            if not (out / "model.safetensors").exists():
                train_run(out, objective, seed, args.data_dir, args.epochs)
            results[objective].append(measure_run(out, classifier))
            print(f"{objective} seed {seed}: {results[objective][-1]}", flush=True)
    if args.json:
        args.json.write_text(json.dumps({k: [asdict(m) for m in v] for k, v in results.items()}))
    met = [verdict(text, ok, figure) for text, ok, figure in check_claims(results)]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
