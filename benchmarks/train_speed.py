"""Training speed against a peer library: time to reach pythae's 10-epoch held-out −ELBO.

On the real MNIST (the 55,000 training images left after the default 5,000-image validation
split; grey levels in [0, 1]), in one process, for each of ``--seeds`` (at least 3):

1. **pythae 0.1.2** (``pip install vae-atlas[bench]``) trains its ``VAE`` with the default MLP
   (784-512-20, Bernoulli / BCE) through ``TrainingPipeline`` with the pytorch/examples recipe:
   batch 128, Adam 1e-3, 10 epochs, its own per-epoch evaluation on the validation split. The
   *target* is the test −ELBO of the model after its 10th epoch (the weights it ends with, not
   the best-model pick it saves); the pipeline's wall-clock is the *reference time*.
2. **vae-atlas** trains the same architecture and likelihood with its default recipe (the
   :class:`vae_atlas.config.TrainConfig` defaults, chosen on validation by
   ``benchmarks/recipe_sweep.py``; only ``epochs`` is set) through :func:`vae_atlas.train`, which
   also evaluates, snapshots and checkpoints every epoch. The time to target is the wall-clock
   from calling ``train`` until its ``on_epoch_end`` hears of the first epoch whose test −ELBO
   is at or below the target (called once that epoch's files are written).

The two sides run in alternating order (even seeds pythae first, odd seeds vae-atlas first), so
a drift in the machine's speed does not favour one side; the median and range of the per-seed
ratios are printed. Both held-out numbers come from the same code,
:func:`vae_atlas.training.evaluate_elbo` (single-sample ELBO of Kingma & Welling 2014, nats per
image, Bernoulli log-likelihood from the decoder's pre-sigmoid logits).

FLOP accounting: the training step of an MLP is its GEMMs. A Linear layer of ``m`` MACs per image
costs ``2m`` FLOPs forward, ``2m`` for the weight gradient and ``2m`` for the input gradient,
except the first layer (its input needs no gradient): ``6·MACs − 2·MACs(first layer)`` per image.
A training step (the loop's pieces: schedule, loss, one scalar read, backward, fused Adam) is
timed in blocks alternating with blocks of float32 ``torch.mm`` on exactly that step's GEMM
shapes, best of 7 each.

Targets: the median ratio ≥ 2× sooner, and the step ≥ 60 % of its GEMMs' rate. The machine may
be shared: absolute times move with its load. Run:
``python benchmarks/train_speed.py [--threads N] [--seeds 0 1 2]``; with ``--step-only
[--repeats 5]`` only the step-vs-GEMMs timing runs (no pythae, no training), repeated, with the
load average beside each repeat and the verdict on the median fraction.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from _common import MNIST_DIR, print_table, verdict  # benchmarks/ is on sys.path
from vae_atlas import train
from vae_atlas.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from vae_atlas.data import Dataset, load_dataset
from vae_atlas.models import build_model
from vae_atlas.seeds import derive_seed
from vae_atlas.training import Trainer, evaluate_elbo

IMAGE_SHAPE = (1, 28, 28)
LATENT_DIM = 20
HIDDEN = (512,)
PEER_BATCH, PEER_LR, PEER_EPOCHS = 128, 1e-3, 10
EVAL_SEED = 12345


# -- FLOPs and the GEMM yardstick ---------------------------------------------------------------
def linear_layers(hidden: tuple[int, ...], latent_dim: int, n_pixels: int) -> list[tuple[int, int]]:
    """(in, out) of every Linear layer of the MLP VAE, encoder first (the first needs no dX)."""
    enc = [n_pixels, *hidden, 2 * latent_dim]
    dec = [latent_dim, *reversed(hidden), n_pixels]
    return list(zip(enc[:-1], enc[1:], strict=True)) + list(zip(dec[:-1], dec[1:], strict=True))


def train_flops_per_image(layers: list[tuple[int, int]]) -> int:
    """FLOPs of one training step per image: 6·MACs minus the first layer's input gradient."""
    macs = [n_in * n_out for n_in, n_out in layers]
    return 6 * sum(macs) - 2 * macs[0]


def step_gemm_shapes(layers: list[tuple[int, int]], batch: int) -> list[tuple[int, int, int]]:
    """(m, k, n) of every GEMM one training step performs: forward, dW and dX (not layer 0)."""
    shapes = []
    for i, (n_in, n_out) in enumerate(layers):
        shapes.append((batch, n_in, n_out))  # forward: (B, in) @ (in, out)
        shapes.append((n_out, batch, n_in))  # dW: (out, B) @ (B, in)
        if i > 0:
            shapes.append((batch, n_out, n_in))  # dX: (B, out) @ (out, in)
    return shapes


def gemm_operands(shapes: list[tuple[int, int, int]]) -> Callable[[], None]:
    """A function that runs float32 ``torch.mm`` once for each (m, k, n) in ``shapes``."""
    g = torch.Generator().manual_seed(0)
    operands = [
        (torch.randn(m, k, generator=g), torch.randn(k, n, generator=g), torch.empty(m, n))
        for m, k, n in shapes
    ]

    def run_all() -> None:
        for a, b, out in operands:
            torch.mm(a, b, out=out)

    return run_all


def seconds_per_call(fn: Callable[[], None], calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def gemm_rate(shapes: list[tuple[int, int, int]], *, repeats: int = 3, calls: int = 3) -> float:
    """Best float32 ``torch.mm`` rate (GFLOP/s) over ``repeats`` timings of the listed GEMMs."""
    run_all = gemm_operands(shapes)
    run_all()
    best = min(seconds_per_call(run_all, calls) for _ in range(repeats))
    return sum(2 * m * k * n for m, k, n in shapes) / best / 1e9


def loop_step(config: RunConfig, data: Dataset) -> tuple[Trainer, Callable[[], None]]:
    """A :class:`vae_atlas.training.Trainer` for ``config`` and a function that runs its
    :meth:`~vae_atlas.training.Trainer.step` (the schedules, ``model.loss``, one read of the
    three scalars, backward, :func:`make_adam`'s fused Adam) on the next MNIST batch, gathered
    by ``index_select`` as the loop gathers them."""
    tc = config.train
    torch.manual_seed(derive_seed(tc.seed, "init"))
    model = build_model(config.model)
    gen = torch.Generator().manual_seed(derive_seed(tc.seed, "loop"))
    trainer = Trainer(model, data.train.float_images(), config, gen)
    x_all = trainer.train_x  # (N, C, H, W)
    perm = torch.randperm(x_all.shape[0], generator=gen)
    batch, n_full = tc.batch_size, x_all.shape[0] // tc.batch_size
    trainer.position.sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "images": 0.0}

    def step() -> None:
        pos = trainer.position
        i = pos.step % n_full
        trainer.step(x_all.index_select(0, perm[i * batch : (i + 1) * batch]))
        pos.step += 1

    return trainer, step


def step_and_gemm_rates(
    config: RunConfig, data: Dataset, flops: int, *, rounds: int = 7, steps: int = 20
) -> dict[str, float]:
    """GFLOP/s of a training step (:func:`loop_step`) and of the same step's GEMMs alone.

    Step and GEMMs are timed in alternating blocks, best of ``rounds``, so that both see the
    same load on a shared machine.
    """
    batch = config.train.batch_size
    _, step = loop_step(config, data)
    layers = linear_layers(HIDDEN, LATENT_DIM, math.prod(IMAGE_SHAPE))
    run_all = gemm_operands(step_gemm_shapes(layers, batch))
    step(), run_all()
    t_step = t_gemm = math.inf
    for _ in range(rounds):
        t_step = min(t_step, seconds_per_call(step, steps))
        t_gemm = min(t_gemm, seconds_per_call(run_all, steps))
    return {
        "batch": batch,
        "step": batch * flops / t_step / 1e9,
        "gemm": batch * flops / t_gemm / 1e9,
    }


def autograd_gemms(layers: list[tuple[int, int]], batch: int) -> Callable[[], None]:
    """The step's GEMMs in the layouts autograd runs them for ``nn.Linear`` (weight (out, in)):
    forward ``addmm(b, x, Wᵀ)`` (the bias copied into a fresh output first), weight gradient
    ``gᵀ·x``, input gradient ``g·W`` (not for layer 0); fresh outputs, as in a step."""
    g = torch.Generator().manual_seed(0)
    calls: list[Callable[[], torch.Tensor]] = []
    for i, (n_in, n_out) in enumerate(layers):
        x, grad = torch.randn(batch, n_in, generator=g), torch.randn(batch, n_out, generator=g)
        w, b = torch.randn(n_out, n_in, generator=g), torch.randn(n_out, generator=g)
        calls.append(functools.partial(torch.addmm, b, x, w.t()))
        calls.append(functools.partial(torch.mm, grad.t(), x))
        if i > 0:
            calls.append(functools.partial(torch.mm, grad, w))

    def run_all() -> None:
        for call in calls:
            call()

    return run_all


def step_parts(
    config: RunConfig, data: Dataset, *, rounds: int = 7, steps: int = 20
) -> dict[str, float]:
    """Seconds per step of a training step and of its parts, timed in alternating blocks, best
    of ``rounds``: the whole step; its forward and backward alone (``model.loss`` on one batch,
    ``backward``); the fused Adam update alone; the step's GEMMs as autograd runs them
    (:func:`autograd_gemms`); and the same GEMMs as contiguous ``torch.mm`` into kept outputs
    (the yardstick of :func:`step_and_gemm_rates`)."""
    batch = config.train.batch_size
    trainer, step = loop_step(config, data)
    model, x = trainer.model, trainer.train_x[:batch].clone()  # (B, C, H, W)

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        model.loss(x, generator=trainer.generator).loss.backward()

    layers = linear_layers(HIDDEN, LATENT_DIM, math.prod(IMAGE_SHAPE))
    parts = {
        "step": step,
        "forward + backward": forward_backward,
        "fused Adam": trainer.optimizer.step,
        "GEMMs as autograd runs them": autograd_gemms(layers, batch),
        "GEMMs, contiguous torch.mm": gemm_operands(step_gemm_shapes(layers, batch)),
    }
    best = dict.fromkeys(parts, math.inf)
    step()
    for _ in range(rounds):
        for name, fn in parts.items():
            best[name] = min(best[name], seconds_per_call(fn, steps))
    return best


# -- timing helpers -----------------------------------------------------------------------------
class EpochClock:
    """Wall-clock and process CPU time (since ``t0``/``cpu0``) at which each trained epoch's
    metrics row was known: :func:`vae_atlas.train` calls its ``on_epoch_end`` after the epoch's
    evaluation, snapshot, metrics.jsonl and checkpoint are written."""

    def __init__(self, t0: float, cpu0: float = 0.0) -> None:
        self.t0, self.cpu0 = t0, cpu0
        self.times: list[float] = []
        self.cpu_times: list[float] = []

    def __call__(self, row: dict) -> None:
        self.times.append(time.perf_counter() - self.t0)
        self.cpu_times.append(time.process_time() - self.cpu0)


@dataclass
class RunSummary:
    """One library's run: final quality, time to target and training throughput."""

    name: str
    recipe: str
    epochs: int
    neg_elbo: float
    total_s: float
    total_cpu_s: float
    images_per_s: float
    curve: list[float] = field(default_factory=list)  # held-out −ELBO per epoch (own measure)
    epoch_times: list[float] = field(default_factory=list)  # wall-clock at each epoch's end
    epoch_cpu: list[float] = field(default_factory=list)  # process CPU time at each epoch's end


# -- pythae ---------------------------------------------------------------------------------------
class PythaeAdapter(torch.nn.Module):
    """pythae's VAE seen through vae-atlas's protocol, so :func:`evaluate_elbo` can score it.

    The decoder's last ``Sigmoid`` is bypassed (a forward hook records its input) so the Bernoulli
    log-likelihood is computed from logits, exactly as for vae-atlas models.
    """

    def __init__(self, vae: torch.nn.Module) -> None:
        super().__init__()
        from vae_atlas.models import BernoulliLikelihood

        self.vae, self.latent_dim = vae, vae.latent_dim
        self.likelihood = BernoulliLikelihood()
        sigmoids = [m for m in vae.decoder.modules() if isinstance(m, torch.nn.Sigmoid)]
        if not sigmoids:
            raise RuntimeError("pythae decoder has no Sigmoid output layer to read logits from")
        self._logits: list[torch.Tensor] = []
        sigmoids[-1].register_forward_hook(lambda mod, inp, out: self._logits.append(inp[0]))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.vae.encoder(x)
        return out["embedding"], out["log_covariance"]

    def log_px_given_z(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self._logits.clear()
        self.vae.decoder(z)
        logits = self._logits.pop().reshape(x.shape)  # (B, C, H, W)
        return self.likelihood.log_prob(x, logits)


def pythae_missing() -> str | None:
    """Why the peer cannot run (a message), or None when pythae imports."""
    try:
        import pythae  # noqa: F401
    except ImportError as exc:
        return (
            f"pythae is not installed ({exc}); install the benchmark extra with "
            "`pip install 'vae-atlas[bench]'`, or pass --target NATS to time vae-atlas alone "
            "against a known target."
        )
    return None


def run_pythae(data: Dataset, *, epochs: int, seed: int, workdir: Path) -> RunSummary:
    """Train pythae's VAE with the pytorch/examples recipe (see :func:`pythae_missing`) on
    ``data.train``, its own evaluation on ``data.val``; scored on ``data.test`` after its last
    epoch."""
    import logging

    from pythae.models import VAE, VAEConfig
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback

    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)
    import functools

    import pythae.trainers.training_callbacks as callbacks_module
    from tqdm.auto import tqdm

    callbacks_module.tqdm = functools.partial(tqdm, disable=True)  # its per-batch progress bars

    class Clock(TrainingCallback):
        def __init__(self) -> None:
            self.t0, self.cpu0 = time.perf_counter(), time.process_time()
            self.train_s: list[float] = []
            self.epoch_end: list[float] = []
            self.epoch_cpu: list[float] = []
            self.eval_loss: list[float] = []
            self._start = 0.0

        def on_train_step_begin(self, training_config, **kwargs):  # noqa: ANN001
            self._start = time.perf_counter()

        def on_eval_step_begin(self, training_config, **kwargs):  # noqa: ANN001
            self.train_s.append(time.perf_counter() - self._start)

        def on_log(self, training_config, logs, **kwargs):  # noqa: ANN001
            self.epoch_end.append(time.perf_counter() - self.t0)
            self.epoch_cpu.append(time.process_time() - self.cpu0)
            self.eval_loss.append(float(logs.get("eval_epoch_loss", math.nan)))

    assert data.val is not None  # main() loads MNIST with its validation split
    x_train, x_val, x_test = (s.float_images() for s in (data.train, data.val, data.test))
    torch.manual_seed(seed)
    model = VAE(VAEConfig(input_dim=IMAGE_SHAPE, latent_dim=LATENT_DIM, reconstruction_loss="bce"))
    config = BaseTrainerConfig(
        output_dir=str(workdir / "pythae"),
        num_epochs=epochs,
        learning_rate=PEER_LR,
        per_device_train_batch_size=PEER_BATCH,
        per_device_eval_batch_size=1000,
        optimizer_cls="Adam",
        seed=seed,
        no_cuda=True,
    )
    pipeline = TrainingPipeline(training_config=config, model=model)
    clock = Clock()
    pipeline(train_data=x_train, eval_data=x_val, callbacks=[clock])
    total, total_cpu = time.perf_counter() - clock.t0, time.process_time() - clock.cpu0
    last = pipeline.trainer.model  # the weights after its last epoch, not its best-model pick
    held_out = evaluate_elbo(
        PythaeAdapter(last), x_test, generator=torch.Generator().manual_seed(EVAL_SEED)
    )
    return RunSummary(
        name=f"pythae {importlib.metadata.version('pythae')}",
        recipe=f"bs {PEER_BATCH}, Adam {PEER_LR:g} constant",
        epochs=epochs,
        neg_elbo=held_out.neg_elbo,
        total_s=total,
        total_cpu_s=total_cpu,
        images_per_s=statistics.median(len(x_train) / s for s in clock.train_s),
        curve=clock.eval_loss,
        epoch_times=clock.epoch_end,
        epoch_cpu=clock.epoch_cpu,
    )


# -- vae-atlas ------------------------------------------------------------------------------------
def our_config(data_dir: Path, epochs: int, seed: int, **overrides: float) -> RunConfig:
    """The default recipe (TrainConfig defaults, unless overridden) on the peer's architecture."""
    recipe = {k: v for k, v in overrides.items() if v is not None}
    return RunConfig(
        data=DataConfig(name="mnist", data_dir=str(data_dir)),  # default 5,000 validation images
        model=ModelConfig(
            image_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, hidden=HIDDEN, likelihood="bernoulli"
        ),
        train=TrainConfig(epochs=epochs, seed=seed, device="cpu", **recipe),
    )


def run_ours(config: RunConfig, data: Dataset, workdir: Path) -> RunSummary:
    """Train with :func:`vae_atlas.train`, clocking when each epoch's metrics row appears."""
    run_dir = workdir / "vae-atlas"
    t0, cpu0 = time.perf_counter(), time.process_time()
    clock = EpochClock(t0, cpu0)
    result = train(config, run_dir, dataset=data, progress=False, on_epoch_end=clock)
    total, total_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rows = result.metrics
    tc = config.train
    frac = f"cosine to {tc.lr_final_fraction:g}×" if tc.lr_final_fraction != 1.0 else "constant"
    return RunSummary(
        name="vae-atlas",
        recipe=f"bs {tc.batch_size}, Adam {tc.lr:g} {frac}",
        epochs=tc.epochs,
        neg_elbo=rows[-1]["test_neg_elbo"],
        total_s=total,
        total_cpu_s=total_cpu,
        images_per_s=statistics.median(r["images_per_s"] for r in rows[1:]),
        curve=[r["test_neg_elbo"] for r in rows[1:]],
        epoch_times=clock.times,
        epoch_cpu=clock.cpu_times,
    )


def time_to_target(run: RunSummary, target: float) -> tuple[int, float, float] | None:
    """(epoch, wall-clock, CPU time) at the first epoch whose held-out −ELBO is <= target."""
    for i, value in enumerate(run.curve):
        if value <= target and i < len(run.epoch_times):
            return i + 1, run.epoch_times[i], run.epoch_cpu[i]
    return None


# -- one seed, both sides ---------------------------------------------------------------------
@dataclass
class Pair:
    """One seed's two runs and what they give: the target and our time to it."""

    seed: int
    peer_first: bool
    peer: RunSummary | None
    ours: RunSummary
    target: float

    @property
    def hit(self) -> tuple[int, float, float] | None:
        return time_to_target(self.ours, self.target)

    def ratio(self, cpu: bool = False) -> float:
        if self.peer is None or self.hit is None:
            return math.nan
        return (self.peer.total_cpu_s / self.hit[2]) if cpu else (self.peer.total_s / self.hit[1])


def run_pair(args: argparse.Namespace, data: Dataset, seed: int, peer_first: bool) -> Pair:
    """Both libraries with ``seed``, in the order given; our side only with ``--target``."""
    config = config_from_args(args, seed)
    with tempfile.TemporaryDirectory(prefix="train_speed_") as tmp:
        peer = ours = None
        for side in ("peer", "ours") if peer_first else ("ours", "peer"):
            if side == "ours":
                ours = run_ours(config, data, Path(tmp))
            elif args.target is None:
                peer = run_pythae(data, epochs=args.peer_epochs, seed=seed, workdir=Path(tmp))
    assert ours is not None
    target = args.target if peer is None else peer.neg_elbo
    return Pair(seed, peer_first, peer, ours, target)


# -- report ---------------------------------------------------------------------------------------
def _fmt(x: float, spec: str = ".1f", suffix: str = "") -> str:
    return "n/a" if math.isnan(x) else format(x, spec) + suffix


def _spread(values: list[float], spec: str = ".2f") -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    return f"median {statistics.median(values):{spec}} [{min(values):{spec}}, {max(values):{spec}}]"


def print_pairs(pairs: list[Pair]) -> None:
    rows = [
        (
            "seed",
            "order",
            "target, nats",
            "pythae wall s",
            "ours: wall s to target",
            "ratio",
            "CPU ratio",
        )
    ]
    for p in pairs:
        at = f" (epoch {p.hit[0]}, {p.ours.curve[p.hit[0] - 1]:.2f})" if p.hit else " (not reached)"
        rows.append(
            (
                str(p.seed),
                "pythae first" if p.peer_first else "ours first",
                f"{p.target:.2f}",
                _fmt(p.peer.total_s if p.peer else math.nan),
                _fmt(p.hit[1] if p.hit else math.nan) + at,
                _fmt(p.ratio(), ".2f", "x"),
                _fmt(p.ratio(cpu=True), ".2f", "x"),
            )
        )
    print_table(rows)
    print("held-out -ELBO per epoch:")
    for p in pairs:
        if p.peer:
            print(
                f"  seed {p.seed} {p.peer.name} (its own eval loss on validation): "
                + " ".join(f"{v:.2f}" for v in p.peer.curve)
            )
        print(
            f"  seed {p.seed} {p.ours.name} (test): " + " ".join(f"{v:.2f}" for v in p.ours.curve)
        )


def report(pairs: list[Pair], flops: int, gemm: dict[str, float]) -> bool:
    """Print the per-seed table, the spread, the throughput and one verdict line per target."""
    print()
    print_pairs(pairs)
    ours_ips = statistics.median(p.ours.images_per_s for p in pairs)
    peers = [p.peer for p in pairs if p.peer is not None]
    peer_ips = statistics.median(p.images_per_s for p in peers) if peers else math.nan
    peer_epochs = peers[0].epochs if peers else PEER_EPOCHS
    print(
        f"\nrecipe: pythae bs {PEER_BATCH}, Adam {PEER_LR:g} constant, {peer_epochs} epochs; "
        f"vae-atlas {pairs[0].ours.recipe}, {pairs[0].ours.epochs} epochs"
    )
    print(f"ratio (pythae wall / ours to target) over seeds: {_spread([p.ratio() for p in pairs])}")
    print(f"the same in process CPU time: {_spread([p.ratio(cpu=True) for p in pairs])}")
    print(
        f"training images/s, median of epochs and seeds: pythae {_fmt(peer_ips, '.0f')}, "
        f"vae-atlas {ours_ips:.0f}; as GFLOP/s {_fmt(peer_ips * flops / 1e9)} / "
        f"{ours_ips * flops / 1e9:.1f} of the step-shaped GEMM's {gemm['gemm']:.1f}"
    )
    print(
        f"training step: {flops / 1e6:.2f} MFLOP per image, {gemm['step']:.1f} GFLOP/s; its GEMMs "
        f"alone at batch {gemm['batch']} {gemm['gemm']:.1f} GFLOP/s (timed interleaved); 2048^3 "
        f"{gemm['square']:.1f} GFLOP/s; torch threads {torch.get_num_threads()}"
    )
    ratios = [p.ratio() for p in pairs]
    median = statistics.median(ratios) if peers and not any(map(math.isnan, ratios)) else math.nan
    valid = [r for r in ratios if not math.isnan(r)]
    ok_speed = verdict(
        f">= 2x sooner than pythae to its {peer_epochs}-epoch test -ELBO "
        f"(median of {len(pairs)} seeds)",
        median >= 2.0,
        f"{_fmt(median, '.2f', 'x')}, range {min(valid):.2f}-{max(valid):.2f}x"
        if valid
        else "pythae not run or target not reached",
    )
    return ok_speed and step_verdict(gemm["step"], gemm["gemm"])


def step_verdict(step: float, gemm: float, extra: str = "") -> bool:
    """The verdict line of the step target: ``step`` GFLOP/s against its GEMMs' ``gemm``."""
    fraction = step / gemm
    return verdict(
        "training step >= 60% of its GEMMs' fp32 rate",
        fraction >= 0.6,
        f"{100 * fraction:.0f}%: {step:.1f} of {gemm:.1f} GFLOP/s{extra}",
    )


def step_only(args: argparse.Namespace, data: Dataset, flops: int) -> bool:
    """``--step-only``: the step-vs-GEMM timing alone, ``--repeats`` times, and its verdict on
    the median fraction (no pythae, no training runs)."""
    config = config_from_args(args, args.seeds[0])
    rows = [("repeat", "step GFLOP/s", "GEMMs GFLOP/s", "step / GEMMs", "load average (1 min)")]
    fractions = []
    for i in range(args.repeats):
        gemm = step_and_gemm_rates(config, data, flops)
        fractions.append(gemm["step"] / gemm["gemm"])
        load = os.getloadavg()[0]
        rows.append((str(i + 1), f"{gemm['step']:.1f}", f"{gemm['gemm']:.1f}",
                     f"{100 * fractions[-1]:.1f} %", f"{load:.2f}"))  # fmt: skip
    print_table(rows)
    print(
        f"training step: {flops / 1e6:.2f} MFLOP per image, batch {gemm['batch']}, "
        f"torch threads {torch.get_num_threads()}"
    )
    parts = step_parts(config, data)
    whole = parts["step"]
    rows = [("part (best of 7 alternating blocks of 20)", "ms per step", "share of the step")]
    rows += [(name, f"{t * 1e3:.3f}", f"{100 * t / whole:.0f} %") for name, t in parts.items()]
    rest = whole - parts["forward + backward"] - parts["fused Adam"]
    rows.append(
        ("step - (forward + backward) - Adam", f"{rest * 1e3:.3f}", f"{100 * rest / whole:.0f} %")
    )
    print_table(rows)
    median = statistics.median(fractions)
    return verdict(
        "training step >= 60% of its GEMMs' fp32 rate",
        median >= 0.6,
        f"median {100 * median:.0f}% of {args.repeats}, "
        f"range {100 * min(fractions):.0f}-{100 * max(fractions):.0f}%",
    )


def warm_up() -> None:
    """Pay one-time process costs before either library is timed: the first optimizer in a
    process imports torch._dynamo (seconds), and the first GEMMs warm up the BLAS library."""
    param = torch.nn.Parameter(torch.zeros(4, 4))
    opt = torch.optim.Adam([param])
    (param @ param).sum().backward()
    opt.step()


def config_from_args(args: argparse.Namespace, seed: int) -> RunConfig:
    return our_config(
        args.data_dir,
        args.epochs,
        seed,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_final_fraction=args.lr_final_fraction,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=MNIST_DIR)
    p.add_argument("--epochs", type=int, default=6, help="vae-atlas epochs (its cosine horizon)")
    p.add_argument("--peer-epochs", type=int, default=PEER_EPOCHS)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--target", type=float, help="skip pythae and use this -ELBO target (nats)")
    p.add_argument("--json", type=Path, help="also write the numbers here")
    p.add_argument(
        "--step-only",
        action="store_true",
        help="time only the training step against its GEMMs (no pythae, no training runs)",
    )
    p.add_argument("--repeats", type=int, default=5, help="--step-only: timings to take")
    g = p.add_argument_group("override the default recipe (to explore; the table is for defaults)")
    g.add_argument("--batch-size", type=int)
    g.add_argument("--lr", type=float)
    g.add_argument("--lr-final-fraction", type=float)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = pythae_missing() if args.target is None and not args.step_only else None
    if missing:
        print(missing)
        return 1
    torch.set_num_threads(args.threads)
    data = load_dataset(DataConfig(name="mnist", data_dir=str(args.data_dir)))
    flops = train_flops_per_image(linear_layers(HIDDEN, LATENT_DIM, math.prod(IMAGE_SHAPE)))
    warm_up()
    if args.step_only:
        return 0 if step_only(args, data, flops) else 2
    square = gemm_rate([(2048, 2048, 2048)])
    pairs = []
    for i, seed in enumerate(args.seeds):
        pairs.append(run_pair(args, data, seed, peer_first=i % 2 == 0))
        print(f"seed {seed} done: ratio {_fmt(pairs[-1].ratio(), '.2f', 'x')}", flush=True)
    config = config_from_args(args, args.seeds[0])
    gemm = step_and_gemm_rates(config, data, flops)
    gemm["square"] = max(square, gemm_rate([(2048, 2048, 2048)]))
    ok = report(pairs, flops, gemm)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "pairs": [
                        {**p.__dict__, "peer": p.peer and p.peer.__dict__, "ours": p.ours.__dict__}
                        for p in pairs
                    ],
                    "gemm": gemm,
                    "flops_per_image": flops,
                },
                indent=2,
            )
        )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
