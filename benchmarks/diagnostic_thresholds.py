"""Check the report's diagnostic thresholds on the validation split of the walkthrough's runs.

The rules in :mod:`vae_atlas.analysis.diagnostics` turn numbers into warnings at fixed
thresholds. Those thresholds are chosen on the 5,000 MNIST validation images (held out of
training), never on the test split: for the walkthrough's plain autoencoder the "far", "holes"
and "rough" rules should fire, for its VAE and β-VAE (β = 4) they should not. This script
measures each rule's number with the report's own evidence code on the first 2,000 validation
images of every run, prints them per model and seed, and prints one ``VERDICT`` per rule: met
when the threshold lies strictly between the two groups on every seed, with the gap shown, so a
threshold that only separates them by luck is visible.

Runs are the ones :mod:`walkthrough` trains (``--workdir`` must hold ``ae-sS``, ``vae-sS`` and
``beta-vae-sS``; run ``benchmarks/walkthrough.py`` first)::

    python benchmarks/diagnostic_thresholds.py --workdir /tmp/walkthrough --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _common import print_table, verdict

MODELS = ("ae", "vae", "beta-vae")
N_VAL = 2000
RULES = (
    # (rule, the number its finding carries, the threshold's name in diagnostics)
    ("far", "fraction_outside", "FAR_FRACTION"),
    ("holes", "hole_fraction", "HOLE_MASS_MAX"),
    ("rough", "roughness", "ROUGH_RATIO"),
)


def rule_numbers(run_dir: Path) -> dict[str, float]:
    """The number behind each rule of :data:`RULES` for one run, on its validation images."""
    import torch

    from vae_atlas.analysis import encode_images
    from vae_atlas.analysis.diagnostics import diagnose
    from vae_atlas.analysis.evidence import measure_evidence
    from vae_atlas.run import load_run

    run = load_run(run_dir)
    val = run.dataset.val
    if val is None:
        raise SystemExit(f"{run_dir}: the run has no validation split (trained with --val-size 0)")
    subset = val.subset(torch.arange(min(N_VAL, len(val))))
    latents = encode_images(run.model, subset)
    evidence = measure_evidence(run.model, latents, subset.float_images().numpy())
    findings = {f.rule: f for f in diagnose(evidence)}
    return {rule: float(findings[rule].numbers[key]) for rule, key, _ in RULES}


def main() -> int:
    from vae_atlas.analysis import diagnostics

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/walkthrough"))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = p.parse_args()
    numbers = {(m, s): rule_numbers(args.workdir / f"{m}-s{s}") for s in args.seeds for m in MODELS}
    rows = [["model", "seed", *[r for r, _, _ in RULES]]]
    rows += [[m, str(s), *[f"{v[r]:.4g}" for r, _, _ in RULES]] for (m, s), v in numbers.items()]
    print_table(rows)
    met = []
    for rule, _, constant in RULES:
        threshold = getattr(diagnostics, constant)
        ae_low = min(numbers[("ae", s)][rule] for s in args.seeds)
        vae_high = max(numbers[(m, s)][rule] for s in args.seeds for m in MODELS[1:])
        met.append(
            verdict(
                f"{constant} = {threshold:g} separates the AE (fires) from the VAEs (quiet) "
                "on validation",
                vae_high < threshold < ae_low,
                f"VAEs at most {vae_high:.4g}, AE at least {ae_low:.4g}",
            )
        )
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
