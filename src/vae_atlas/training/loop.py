"""The training loop: in-memory batches, seeded and resumable, with per-epoch metrics,
latent snapshots of a probe set and atomic checkpoints.

Determinism: model initialisation uses ``seed``; every random draw of the loop (batch order,
reparameterisation noise, dynamic binarisation) comes from one ``torch.Generator`` whose state is
checkpointed, so a resumed run ends with exactly the weights of an uninterrupted one on CPU.
Held-out evaluation draws from its own generator, re-seeded each epoch, so it never shifts the
training stream.
"""

from __future__ import annotations

import errno
import glob
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vae_atlas.checkpoint import (
    CHECKPOINT,
    CONFIG,
    METRICS,
    PROBE,
    SNAPSHOTS,
    STATE,
    atomic_write_bytes,
    atomic_write_json,
    read_header,
    read_json,
    read_metrics,
    read_run_config,
    remove_stale_temporaries,
    save_tensors,
    write_metrics,
)
from vae_atlas.config import ConfigError, RunConfig
from vae_atlas.data import Dataset, load_dataset, split_validation
from vae_atlas.models import AutoEncoder, build_model
from vae_atlas.models.inference import encode_batches
from vae_atlas.training.blueprint import model_blueprint
from vae_atlas.training.data_access import DataAccess, data_config_for_run
from vae_atlas.training.evaluation import evaluate_elbo
from vae_atlas.training.lock import acquire_run_lock
from vae_atlas.training.schedules import capacity_at, kl_weight_at, lr_at
from vae_atlas.training.state import LoopPosition, load_checkpoint, save_checkpoint


class TrainingError(RuntimeError):
    """Training cannot start or continue; the message says why and what to do."""


class TrainingDiverged(TrainingError):
    """The loss became NaN/Inf; the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """A second Ctrl-C stopped training before it could save; the message says how to resume."""


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` leaves behind: the run directory, its metrics and how it ended."""

    run_dir: Path
    status: str
    epochs_completed: int
    metrics: list[dict[str, Any]]
    seconds: float
    message: str = ""

    @property
    def final(self) -> dict[str, Any]:
        return self.metrics[-1] if self.metrics else {}


_FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
PROGRESS_MODES = ("bar", "lines", "off")


def _mean_image(data: Dataset, chunk: int = 4096) -> torch.Tensor:
    """The training images' mean (C, H, W) in [0, 1] from exact integer sums, so it does not
    depend on reduction order or thread count; summed in chunks to bound memory."""
    images = data.train.images  # (N, C, H, W) uint8
    total = torch.zeros(images.shape[1:], dtype=torch.int64)
    for start in range(0, images.shape[0], chunk):
        total += images[start : start + chunk].sum(0, dtype=torch.int64)
    return total.to(torch.float64) / (255.0 * max(images.shape[0], 1))


def make_adam(
    params: Iterable[torch.nn.Parameter],
    *,
    lr: float,
    weight_decay: float = 0.0,
    eps: float = 1e-8,
) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) with the fused update wherever the parameters allow it.

    The fused kernel updates every weight in one pass instead of the ~10 passes of the
    multi-tensor version; it is deterministic on CPU and keeps the same optimizer state (so the
    same checkpoint format). A checkpoint restores its own ``fused`` flag with its param groups.
    """
    params = list(params)
    fused = bool(params) and all(
        p.device.type in ("cpu", "cuda") and p.dtype in _FUSED_DTYPES for p in params
    )
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, eps=eps, fused=fused or None)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for but no CUDA device is available")
    return torch.device(name)


def train(
    config: RunConfig,
    out_dir: str | Path,
    *,
    dataset: Dataset | None = None,
    resume: bool = False,
    restart: bool = False,
    progress: bool | str = True,
    log: Callable[[str], None] = print,
) -> TrainResult:
    """Train the model ``config`` describes into ``out_dir`` (a run directory).

    Parameters
    ----------
    config : the run's configuration; with ``resume=True`` it must equal the saved one, except
        that ``train.epochs`` may grow.
    out_dir : the run directory; must not hold a run unless ``resume``.
    dataset : already-loaded data (else loaded from ``config.data``).
    resume : continue from ``out_dir/checkpoint.safetensors``.
    restart : with ``resume``, when the checkpoint is missing, train the run again from epoch 0
        with its own config (replacing its weights and metrics); without it that is refused.
    progress : ``"bar"`` (or True) a progress bar per epoch, ``"lines"`` one line per epoch
        through ``log``, ``"off"`` (or False) neither.
    log : where progress lines and messages go.
    """
    progress = {True: "bar", False: "off"}.get(progress, progress)  # type: ignore[call-overload]
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress={progress!r} is not one of {', '.join(PROGRESS_MODES)}")
    run_dir = Path(out_dir)
    model_blueprint(config.model)  # a model too large to build is refused before anything else
    with ExitStack() as held:
        hold = _lock_holder(held, "train --resume" if resume else "train")
        if (run_dir / CONFIG).is_file() or (run_dir.is_dir() and any(run_dir.iterdir())):
            hold(run_dir)  # an existing folder: lock it before looking at what it holds
        resume = _prepare_run_dir(run_dir, config, resume, restart)
        device = resolve_device(config.train.device)
        if dataset is not None:
            data = dataset
        else:  # an existing run's data section is a description: never download for it
            data = load_dataset(
                data_config_for_run(config.data, DataAccess()) if resume else config.data
            )
        data = split_validation(data, val_size=config.data.val_size, seed=config.data.seed)
        if data.image_shape != config.model.image_shape:
            raise TrainingError(
                f"dataset {data.name} has images {data.image_shape} but model.image_shape is "
                f"{config.model.image_shape}"
            )
        loop = _Loop(config, run_dir, data, device, progress=progress, log=log, hold=hold)
        return loop.run(resume=resume)


def _lock_holder(held: ExitStack, action: str) -> Callable[[Path], None]:
    """Lock a folder for the rest of ``held`` (once per folder: a second flock from this process
    on a new descriptor would conflict with its own first one)."""
    locked: set[Path] = set()

    def hold(folder: Path) -> None:
        if folder.resolve() not in locked:
            held.callback(os.close, acquire_run_lock(folder, action))
            locked.add(folder.resolve())

    return hold


def _prepare_run_dir(run_dir: Path, config: RunConfig, resume: bool, restart: bool) -> bool:
    """Check the run directory; returns whether there is a checkpoint to resume."""
    if resume:
        if not (run_dir / CONFIG).exists():
            raise TrainingError(f"{run_dir}: nothing to resume (no {CONFIG})")
        saved = read_run_config(run_dir)
        if (
            saved.data != config.data
            or saved.model != config.model
            or _train_differs(saved, config)
        ):
            raise TrainingError(
                f"{run_dir}: --resume needs the run's own config (only train.epochs may change); "
                "omit the other options to reuse config.json"
            )
        found = _check_resumable(run_dir, config, restart)
        remove_stale_temporaries(run_dir)  # left by a writer that was killed mid-write
        (run_dir / SNAPSHOTS).mkdir(exist_ok=True)
        if not found:  # --restart: the run starts over with its own config
            atomic_write_bytes(run_dir / CONFIG, config.to_json().encode())
        return found
    if restart:
        raise TrainingError("--restart only applies to --resume")
    if run_dir.exists() and any((run_dir / name).exists() for name in (CONFIG, CHECKPOINT)):
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    return False


def _check_resumable(run_dir: Path, config: RunConfig, restart: bool) -> bool:
    """Whether the checkpoint is there; refuses what would silently lose trained work."""
    path = run_dir / CHECKPOINT
    if not path.exists():
        if restart:
            return False
        raise TrainingError(
            f"{path} is missing, so --resume cannot continue this run; to train it again from "
            "epoch 0 with its config (replacing its weights and metrics), add --restart"
        )
    if restart:
        raise TrainingError(
            f"--restart starts a run over only when its checkpoint is missing, and {path} "
            "exists: resume without --restart, or train into another --out"
        )
    _, meta = read_header(path)
    done = meta.get("epoch") if isinstance(meta, dict) else None
    if isinstance(done, int) and config.train.epochs < done:
        raise TrainingError(
            f"--epochs {config.train.epochs} is fewer than the {done} epochs {run_dir} has "
            "completed; a resume never drops trained epochs (train a shorter run into another "
            "--out)"
        )
    return True


def _create_run(
    target: Path, write_initial: Callable[[Path], None], hold: Callable[[Path], None]
) -> None:
    """Create a new run directory atomically: fill a hidden staging directory, then rename it.

    A crash during set-up leaves at most a hidden ``.NAME.*`` directory, never a run directory
    without weights. A pre-existing non-empty ``target`` (holding no run) is filled in place.
    ``hold`` locks the folder being filled; the staging folder's lock becomes the run's.
    """
    if target.exists() and any(target.iterdir()):
        hold(target)
        if (target / CHECKPOINT).exists():  # another process set it up since it was checked
            raise TrainingError(f"{target} already holds a run; choose another --out")
        (target / SNAPSHOTS).mkdir(exist_ok=True)
        write_initial(target)
        return
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.staging"):  # killed set-up
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent)
    )
    staging.chmod(0o755)  # mkdtemp makes it private; a run directory is an ordinary folder
    try:
        hold(staging)
        (staging / SNAPSHOTS).mkdir()
        write_initial(staging)
        try:
            os.replace(staging, target)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise TrainingError(
                f"{target} was created by another process meanwhile; choose another --out"
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _train_differs(saved: RunConfig, new: RunConfig) -> bool:
    from dataclasses import replace

    return replace(saved.train, epochs=new.train.epochs) != new.train


@contextmanager
def _stop_on_sigint() -> Iterator[dict[str, bool]]:
    """Turn Ctrl-C into a flag the loop checks between steps (never mid optimizer step)."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        if flag["stop"]:  # a second Ctrl-C: give up immediately
            raise KeyboardInterrupt
        flag["stop"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class _Loop:
    """One training run's mutable state; created and driven by :func:`train`."""

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        data: Dataset,
        device: torch.device,
        *,
        progress: str,
        log: Callable[[str], None],
        hold: Callable[[Path], None],
    ) -> None:
        self.cfg, self.run_dir, self.device = config, run_dir, device
        self.progress, self.log, self.hold = progress, log, hold
        tc = config.train
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(tc.seed)
            self.model: AutoEncoder = build_model(config.model).to(device)
        self.model.init_output_bias(_mean_image(data))
        self.optimizer = make_adam(
            self.model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay, eps=tc.adam_eps
        )
        self.generator = torch.Generator(device=device).manual_seed(tc.seed + 1)
        # uint8, each batch made float when drawn (bit-identical to converting the whole split
        # at once): a memory-mapped store is never copied, and in memory it takes a quarter
        self.train_x = data.train.images.to(device)  # (N, C, H, W) uint8
        test_x = data.test.float_images()
        if tc.dynamic_binarization:  # a fixed binarisation of the test set, as in Burda et al.
            test_x = torch.bernoulli(test_x, generator=torch.Generator().manual_seed(tc.seed + 7))
        self.test_x = test_x.to(device)
        self.val_x = _validation_images(data, tc.seed, tc.dynamic_binarization, device)
        self.test_labels = data.test.labels
        n_train = self.train_x.shape[0]
        self.steps_per_epoch = math.ceil(n_train / tc.batch_size)
        self.total_steps = self.steps_per_epoch * tc.epochs
        self.warmup_steps = round(tc.warmup_epochs * self.steps_per_epoch)
        self.probe_index = self._probe_index(data)

    def _probe_index(self, data: Dataset) -> torch.Tensor:
        n_test = len(data.test)
        n_probe = min(self.cfg.train.probe_size, n_test)
        order = torch.randperm(n_test, generator=torch.Generator().manual_seed(self.cfg.train.seed))
        return order[:n_probe].sort().values

    # -- schedule -------------------------------------------------------------------------------
    def schedule(self, step: int) -> tuple[float, float, float]:
        tc, mc = self.cfg.train, self.cfg.model
        lr = lr_at(
            step, lr=tc.lr, total_steps=self.total_steps, final_fraction=tc.lr_final_fraction
        )
        beta = kl_weight_at(step, beta=mc.beta, warmup_steps=self.warmup_steps)
        cap = capacity_at(step, capacity_max=mc.capacity_max, capacity_steps=mc.capacity_steps)
        return lr, beta, cap

    # -- the run --------------------------------------------------------------------------------
    def run(self, *, resume: bool) -> TrainResult:
        started = time.perf_counter()
        # Ctrl-C from here on only sets a flag, checked between steps: set-up and every write
        # finish, and the loop then saves its exact position
        with _stop_on_sigint() as flag:
            pos, metrics = self._resume() if resume else self._start()
            try:
                self._write_state("running", pos.epoch)
                while pos.epoch < self.cfg.train.epochs:
                    if not self._run_epoch(pos, flag):
                        msg = self._interrupted(pos)
                        seconds = time.perf_counter() - started
                        return TrainResult(
                            self.run_dir, "interrupted", pos.epoch, metrics, seconds, msg
                        )
                    metrics.append(self._end_epoch(pos))
                    if self.progress == "lines":
                        self.log(epoch_line(metrics[-1], self.cfg.train.epochs))
                self._write_state("complete", pos.epoch)
            except KeyboardInterrupt:  # a second Ctrl-C: no time to save, but say how to go on
                raise self._abandoned() from None
        return TrainResult(
            self.run_dir, "complete", pos.epoch, metrics, time.perf_counter() - started
        )

    def _resume(self) -> tuple[LoopPosition, list[dict[str, Any]]]:
        pos = load_checkpoint(
            self.run_dir,
            self.model,
            self.optimizer,
            self.generator,
            n_train=self.train_x.shape[0],
            batch_size=self.cfg.train.batch_size,
        )
        metrics = [m for m in read_metrics(self.run_dir / METRICS) if m["epoch"] <= pos.epoch]
        saved = read_run_config(self.run_dir).train.epochs
        # written only now that the checkpoint passed its checks: a refused resume changes nothing
        atomic_write_bytes(self.run_dir / CONFIG, self.cfg.to_json().encode())
        write_metrics(self.run_dir / METRICS, metrics)
        self.log(f"resuming {self.run_dir} after epoch {pos.epoch}, step {pos.step}")
        if saved != self.cfg.train.epochs:
            self.log(
                f"training to {self.cfg.train.epochs} epochs instead of {saved} (config.json "
                f"now says {self.cfg.train.epochs}; the learning-rate schedule spans them all)"
            )
        return pos, metrics

    def _start(self) -> tuple[LoopPosition, list[dict[str, Any]]]:
        pos = LoopPosition()
        metrics = [self._epoch_metrics(pos, train_sums={}, seconds=0.0, n_images=0)]
        target = self.run_dir

        def write_initial(folder: Path) -> None:
            self.run_dir = folder
            atomic_write_bytes(folder / CONFIG, self.cfg.to_json().encode())
            self._save_probe()
            self._snapshot(0)
            save_checkpoint(folder, self.model, self.optimizer, self.generator, pos)
            write_metrics(folder / METRICS, metrics)

        try:
            _create_run(target, write_initial, self.hold)
        finally:
            self.run_dir = target
        return pos, metrics

    def _run_epoch(self, pos: LoopPosition, flag: dict[str, bool]) -> bool:
        """Train one epoch from ``pos``; False if interrupted (``pos`` then marks the step)."""
        tc = self.cfg.train
        n = self.train_x.shape[0]
        if pos.perm is None:  # a fresh epoch (a saved mid-epoch position keeps its perm)
            pos.perm = torch.randperm(n, generator=self.generator, device=self.device)
            pos.sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "images": 0.0}
            pos.epoch_seconds, pos.skipped_batches = 0.0, 0
        bar = self._bar(pos)
        t0 = time.perf_counter()
        self.model.train()
        while pos.batch_index < self.steps_per_epoch:
            if flag["stop"]:
                pos.epoch_seconds += time.perf_counter() - t0
                _close(bar)
                return False
            idx = pos.perm[pos.batch_index * tc.batch_size : (pos.batch_index + 1) * tc.batch_size]
            x = self.train_x.index_select(0, idx).to(torch.float32).div_(255.0)
            self._step(x, pos)
            pos.batch_index += 1
            pos.step += 1
            if bar is not None and (
                pos.batch_index % 20 == 0 or pos.batch_index == self.steps_per_epoch
            ):
                _update_bar(bar, pos, time.perf_counter() - t0 + pos.epoch_seconds)
        pos.epoch_seconds += time.perf_counter() - t0
        _close(bar)
        return True

    def _step(self, x: torch.Tensor, pos: LoopPosition) -> None:
        tc, mc = self.cfg.train, self.cfg.model
        lr, beta, cap = self.schedule(pos.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if tc.dynamic_binarization:
            x = torch.bernoulli(x, generator=self.generator)
        terms = self.model.loss(
            x, kl_weight=beta, capacity=cap, k=mc.iwae_k, generator=self.generator
        )
        # one read of all three scalars (one device sync on GPU instead of three)
        loss, recon, kl = torch.stack([terms.loss, terms.recon, terms.kl]).detach().tolist()
        if not math.isfinite(loss):
            if tc.nan_policy == "skip":
                pos.skipped_batches += 1
                return
            self._diverged(pos, loss)
        self.optimizer.zero_grad(set_to_none=True)
        terms.loss.backward()
        if tc.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        self.optimizer.step()
        b = float(x.shape[0])
        s = pos.sums
        s["loss"] += loss * b
        s["recon"] += recon * b
        s["kl"] += kl * b
        s["images"] += b

    def _diverged(self, pos: LoopPosition, loss: float) -> None:
        msg = (
            f"training diverged: the loss became {loss} at epoch {pos.epoch + 1}, step "
            f"{pos.step + 1} (batch {pos.batch_index + 1} of {self.steps_per_epoch}). The last "
            f"good checkpoint (after epoch {pos.epoch}) is kept in {self.run_dir}. "
            "Try a lower --lr, "
            "--grad-clip, or --nan-policy skip to skip such batches."
        )
        with suppress(OSError):  # the divergence is the news; a failing write must not hide it
            self._write_state("diverged", pos.epoch, msg)
        raise TrainingDiverged(msg)

    def _interrupted(self, pos: LoopPosition) -> str:
        with self._writing(pos.epoch):
            save_checkpoint(self.run_dir, self.model, self.optimizer, self.generator, pos)
        msg = (
            f"interrupted at epoch {pos.epoch + 1}, step {pos.step}; saved. Continue with: "
            f"vae-atlas train --resume --out {self.run_dir}"
        )
        self._write_state("interrupted", pos.epoch, msg)
        self.log(msg)
        return msg

    def _abandoned(self) -> TrainingInterrupted:
        msg = (
            "stopped before saving; the run keeps its last checkpoint. Continue with: "
            f"vae-atlas train --resume --out {self.run_dir}"
        )
        with suppress(OSError, KeyboardInterrupt):
            state = load_state(self.run_dir)
            self._write_state("interrupted", state.get("epochs_completed", 0), msg)
        return TrainingInterrupted(msg)

    def _end_epoch(self, pos: LoopPosition) -> dict[str, Any]:
        if not all(torch.isfinite(p).all() for p in self.model.parameters()):
            self._diverged(pos, float("nan"))
        images = pos.sums.get("images", 0.0)
        pos.epoch += 1
        pos.batch_index, pos.perm = 0, None
        row = self._epoch_metrics(pos, pos.sums, pos.epoch_seconds, images)
        # metrics before the checkpoint: a crash in between re-runs this epoch on resume, and
        # resume drops metrics rows newer than the checkpoint, so nothing is lost or doubled
        with self._writing(pos.epoch - 1):
            self._snapshot(pos.epoch)
            write_metrics(self.run_dir / METRICS, read_metrics(self.run_dir / METRICS) + [row])
            save_checkpoint(self.run_dir, self.model, self.optimizer, self.generator, pos)
            self._write_state("running", pos.epoch)
        return row

    @contextmanager
    def _writing(self, last_good_epoch: int) -> Iterator[None]:
        """Turn a failing write (disk full, read-only folder) into a clear TrainingError."""
        try:
            yield
        except OSError as exc:
            raise TrainingError(
                f"could not write to {self.run_dir}: {exc.strerror or exc} "
                f"({getattr(exc, 'filename', None) or 'run file'}). The run still loads and "
                f"resumes from its last complete checkpoint (epoch {last_good_epoch} or later); "
                f"free space or fix permissions, then vae-atlas train --resume --out {self.run_dir}"
            ) from None

    def _epoch_metrics(
        self, pos: LoopPosition, train_sums: dict[str, float], seconds: float, n_images: float
    ) -> dict[str, Any]:
        tc = self.cfg.train
        gen = torch.Generator(device=self.device).manual_seed(tc.seed + 100_003 * (pos.epoch + 1))
        test = evaluate_elbo(self.model, self.test_x, batch_size=tc.eval_batch_size, generator=gen)
        stochastic = self.model.stochastic
        row: dict[str, Any] = {"epoch": pos.epoch, "step": pos.step, "seconds": round(seconds, 4)}
        if n_images:
            row.update(
                train_loss=train_sums["loss"] / n_images,
                train_recon=train_sums["recon"] / n_images,
                train_kl=train_sums["kl"] / n_images if stochastic else None,
                train_neg_elbo=(train_sums["recon"] + train_sums["kl"]) / n_images
                if stochastic
                else None,
                images_per_s=round(n_images / seconds, 1) if seconds > 0 else None,
                skipped_batches=pos.skipped_batches,
            )
        row.update(
            test_recon=test.recon,
            test_kl=test.kl if stochastic else None,
            test_neg_elbo=test.neg_elbo if stochastic else None,
            test_kl_per_dim=test.kl_per_dim if stochastic else None,
            lr=self.schedule(max(pos.step - 1, 0))[0],
            kl_weight=self.schedule(max(pos.step - 1, 0))[1],
        )
        row.update(self._val_metrics(pos.epoch))
        return row

    def _val_metrics(self, epoch: int) -> dict[str, Any]:
        """``val_*`` numbers on the validation split; epoch 0 also records the split's sizes."""
        n_val = 0 if self.val_x is None else self.val_x.shape[0]
        row: dict[str, Any] = (
            {"n_train": self.train_x.shape[0], "n_val": n_val} if not epoch else {}
        )
        if self.val_x is None:
            return row
        tc = self.cfg.train
        gen = torch.Generator(device=self.device).manual_seed(tc.seed + 100_019 * (epoch + 1))
        val = evaluate_elbo(self.model, self.val_x, batch_size=tc.eval_batch_size, generator=gen)
        stochastic = self.model.stochastic
        return row | {
            "val_recon": val.recon,
            "val_kl": val.kl if stochastic else None,
            "val_neg_elbo": val.neg_elbo if stochastic else None,
        }

    def _save_probe(self) -> None:
        tensors = {"index": self.probe_index}
        if self.test_labels is not None:
            tensors["labels"] = self.test_labels[self.probe_index]
        save_tensors(self.run_dir / SNAPSHOTS / PROBE, tensors)

    def _snapshot(self, epoch: int) -> None:
        mu, logvar = encode_batches(self.model, self.test_x[self.probe_index.to(self.device)])
        tensors = {"mu": mu} if logvar is None else {"mu": mu, "logvar": logvar}
        save_tensors(
            self.run_dir / SNAPSHOTS / f"epoch_{epoch:04d}.safetensors", tensors, {"epoch": epoch}
        )

    def _write_state(self, status: str, epoch: int, message: str = "") -> None:
        atomic_write_json(
            self.run_dir / STATE,
            {
                "status": status,
                "epochs_completed": epoch,
                "epochs": self.cfg.train.epochs,
                "message": message,
            },
        )

    def _bar(self, pos: LoopPosition) -> Any:
        if self.progress != "bar":
            return None
        from tqdm.auto import tqdm

        return tqdm(
            total=self.steps_per_epoch,
            initial=pos.batch_index,
            desc=f"epoch {pos.epoch + 1}/{self.cfg.train.epochs}",
            unit="batch",
            leave=False,
            dynamic_ncols=True,
        )


def _validation_images(
    data: Dataset, seed: int, binarize: bool, device: torch.device
) -> torch.Tensor | None:
    """The validation split as the model is scored on it (N, C, H, W); with dynamic
    binarisation one fixed binarisation, like the test set's, from a stream of its own."""
    if data.val is None:
        return None
    x = data.val.float_images()
    if binarize:
        x = torch.bernoulli(x, generator=torch.Generator().manual_seed(seed + 11))
    return x.to(device)


def _update_bar(bar: Any, pos: LoopPosition, seconds: float) -> None:
    s = pos.sums
    n = max(s.get("images", 0.0), 1.0)
    bar.n = pos.batch_index
    bar.set_postfix(
        loss=f"{s['loss'] / n:.2f}",
        recon=f"{s['recon'] / n:.2f}",
        kl=f"{s['kl'] / n:.2f}",
        img_s=f"{s['images'] / max(seconds, 1e-9):.0f}",
        refresh=True,
    )


def epoch_line(row: dict[str, Any], epochs: int) -> str:
    """One epoch in one line: training loss, reconstruction, KL (VAEs) and seconds."""
    parts = [f"epoch {row['epoch']}/{epochs}"]
    if "train_loss" in row:  # absent when every batch of the epoch was skipped
        parts += [f"loss {row['train_loss']:.2f}", f"recon {row['train_recon']:.2f}"]
        if row.get("train_kl") is not None:
            parts.append(f"KL {row['train_kl']:.2f}")
    else:
        parts.append("no batch trained")
    parts.append(f"{row['seconds']:.1f} s")
    return "  ".join(parts)


def _close(bar: Any) -> None:
    if bar is not None:
        bar.close()


def load_state(run_dir: Path) -> dict[str, Any]:
    """The run's state.json (status, epochs completed, message)."""
    return read_json(Path(run_dir) / STATE)


__all__ = [
    "ConfigError",
    "TrainResult",
    "TrainingDiverged",
    "TrainingError",
    "TrainingInterrupted",
    "epoch_line",
    "load_state",
    "train",
]
