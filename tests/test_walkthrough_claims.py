"""The walkthrough benchmark's claim checks on hand-made measures (no training)."""

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _benchmark():
    if str(REPO / "benchmarks") not in sys.path:  # as when run as a script: _common beside it
        sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "walkthrough", REPO / "benchmarks" / "walkthrough.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("walkthrough", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


WT = _benchmark()
AE = WT.Measures(
    held_out=138.0,
    reach=22.0,
    outside=0.8,
    holes=0.6,
    roughness=2.5,
    sample_classes=6,
    grid_classes=5,
)
VAE = WT.Measures(
    held_out=147.0,
    reach=2.5,
    outside=0.0,
    holes=0.05,
    roughness=1.5,
    sample_classes=10,
    grid_classes=10,
)
BETA = WT.Measures(
    held_out=160.0,
    reach=1.8,
    outside=0.0,
    holes=0.04,
    roughness=1.4,
    sample_classes=9,
    grid_classes=9,
)


def _results(ae=AE, vae=VAE, beta=BETA, seeds=3):
    return {"ae": [ae] * seeds, "vae": [vae] * seeds, "beta-vae": [beta] * seeds}


def _met(results):
    return {text: met for text, met, _ in WT.check_claims(results)}


def test_the_lesson_as_documented_meets_every_claim():
    verdicts = WT.check_claims(_results())
    assert len(verdicts) == 7
    assert all(met for _, met, _ in verdicts)


def test_one_seed_against_the_lesson_breaks_exactly_its_claim():
    results = _results()
    results["ae"][1] = replace(AE, holes=0.03)  # seed 1: the AE leaves fewer holes than the VAE
    broken = [text for text, met in _met(results).items() if not met]
    assert len(broken) == 1 and "holes" in broken[0]


def test_each_claim_fails_when_its_measure_goes_the_other_way():
    cases = {
        "reach far outside": _results(ae=replace(AE, reach=5.0)),
        "inside the prior": _results(beta=replace(BETA, outside=0.2)),
        "at least 9 of the 10": _results(vae=replace(VAE, sample_classes=8)),
        "grids show at least 9": _results(beta=replace(BETA, grid_classes=8)),
        "jump more": _results(ae=replace(AE, roughness=1.5)),  # equal is not "more"
        "held-out loss": _results(beta=replace(BETA, held_out=140.0)),
    }
    for words, results in cases.items():
        broken = [text for text, met in _met(results).items() if not met]
        assert len(broken) == 1 and words in broken[0], (words, broken)


def test_figures_state_the_mean_and_range_over_seeds():
    results = _results()
    results["vae"] = [replace(VAE, held_out=v) for v in (146.0, 147.0, 151.0)]
    figure = next(f for text, _, f in WT.check_claims(results) if "held-out" in text)
    assert "VAE 148.0 [146.0, 151.0]" in figure
