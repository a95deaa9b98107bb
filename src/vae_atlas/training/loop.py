""":func:`train`: one run from config to run directory — seeded, resumable, with per-epoch
metrics, latent snapshots of a probe set and atomic checkpoints.

The pieces live beside it: :class:`~vae_atlas.training.trainer.Trainer` (the step, the epoch,
the schedules), :mod:`~vae_atlas.training.rundir` (what may be started or resumed, and every
file written), :mod:`~vae_atlas.training.heldout` (what each epoch is scored on) and
:mod:`~vae_atlas.training.progress` (bar, lines, Ctrl-C). Every random stream comes from
:func:`vae_atlas.seeds.derive_seed`; held-out evaluation draws from streams of its own, so it
never shifts the training stream, and a resumed run ends with exactly the weights of an
uninterrupted one on CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, suppress
from pathlib import Path

import torch

from vae_atlas.checkpoint import CONFIG
from vae_atlas.config import RunConfig
from vae_atlas.data import Dataset, load_dataset, split_validation
from vae_atlas.models import VampPriorVAE, build_model
from vae_atlas.seeds import derive_seed
from vae_atlas.training.blueprint import model_blueprint
from vae_atlas.training.conditional import conditional_trainer, conditioned_data
from vae_atlas.training.data_access import DataAccess, data_config_for_run
from vae_atlas.training.distributed import (
    DistributedContext,
    PeerLost,
    checkpoint_epoch,
    is_peer_lost,
    lost_peer_message,
    note_world_size,
    on_writer,
    process_group,
    stop_on_sigterm,
)
from vae_atlas.training.distributed_trainer import DistributedTrainer
from vae_atlas.training.errors import TrainingError
from vae_atlas.training.heldout import heldout_sets
from vae_atlas.training.objective_trainers import trainer_class_for
from vae_atlas.training.progress import PROGRESS_MODES
from vae_atlas.training.rundir import RunWriter, check_run_dir, lock_holder
from vae_atlas.training.session import MetricsRow, TrainingSession, TrainResult, Watchers
from vae_atlas.training.stopping import EarlyStopping
from vae_atlas.training.trainer import Trainer, resolve_device


def _silent(message: str) -> None:
    del message


def train(
    config: RunConfig,
    out_dir: str | Path,
    *,
    dataset: Dataset | None = None,
    resume: bool = False,
    restart: bool = False,
    progress: bool | str = True,
    log: Callable[[str], None] = print,
    on_epoch_end: Callable[[MetricsRow], None] | None = None,
    should_stop: Callable[[list[MetricsRow]], bool] | None = None,
    writes: bool = True,
    trainer_class: type[Trainer] = Trainer,
    distributed: DistributedContext | None = None,
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
    on_epoch_end : called with each trained epoch's metrics row, once its files are written.
    should_stop : called with all metrics rows after each epoch (and once on resume); True
        ends training cleanly (status "stopped"; a resume asks it again).
    writes : whether this process writes the run directory and prints (rank 0 of several);
        a non-writer trains the same steps, writes no file and logs nothing.
    trainer_class : the :class:`Trainer` (or a subclass) that runs the steps.
    distributed : this process's place among several under torchrun
        (:func:`~vae_atlas.training.distributed.context_from_env`); only rank 0 writes. The
        process group is joined for the call and left after it.
    """
    progress = {True: "bar", False: "off"}.get(progress, progress)  # type: ignore[call-overload]
    if progress not in PROGRESS_MODES:
        raise ValueError(f"progress={progress!r} is not one of {', '.join(PROGRESS_MODES)}")
    ctx = distributed or DistributedContext()
    writes = writes and ctx.writes
    if not writes:
        progress, log = "off", _silent
    run_dir = Path(out_dir)
    model_blueprint(config.model)  # a model too large to build is refused before anything else
    device = resolve_device(config.train.device)
    with ExitStack() as held:
        held.enter_context(process_group(ctx, device))
        held.enter_context(stop_on_sigterm(ctx, run_dir))
        hold = lock_holder(held, "train --resume" if resume else "train") if writes else _no_lock
        writer = RunWriter(run_dir, config, writes=writes)

        def settle() -> bool:  # rank 0 alone looks and locks; the others follow its answer
            if (run_dir / CONFIG).is_file() or (run_dir.is_dir() and any(run_dir.iterdir())):
                hold(run_dir)  # an existing folder: lock it before looking at what it holds
            found = check_run_dir(run_dir, config, resume, restart)
            if resume and not found:  # --restart: the run starts over with its own config
                writer.restart()
            return found

        found = on_writer(ctx, settle)
        data = _load_data(config, dataset, found)
        if config.train.early_stop is not None and data.val is None:
            raise TrainingError(
                "--early-stop watches the validation split, and this run has none "
                "(--val-size 0); give it one or leave --early-stop out"
            )
        trainer = _build_trainer(trainer_class, config, data, device, ctx)
        if found:
            note_world_size(run_dir, ctx, log)
        sets = heldout_sets(data, config.train, device)
        watchers = Watchers(on_epoch_end, _stop_rule(config, should_stop))
        session = TrainingSession(
            trainer, sets, writer, watchers, progress=progress, log=log, context=ctx
        )
        try:
            return session.run(resume=found, hold=hold)
        except RuntimeError as exc:
            if not is_peer_lost(ctx, exc):
                raise
            message = lost_peer_message(ctx, exc, run_dir)
            with suppress(
                OSError
            ):  # the lost process is the news; a failing write must not hide it
                writer.write_state("interrupted", checkpoint_epoch(run_dir) or 0, message)
            raise PeerLost(message) from None


def _no_lock(folder: Path) -> None:
    del folder


def _load_data(config: RunConfig, dataset: Dataset | None, resumed: bool) -> Dataset:
    if dataset is not None:
        data = dataset
    else:  # an existing run's data section is a description: never download for it
        data = load_dataset(
            data_config_for_run(config.data, DataAccess()) if resumed else config.data
        )
    data = split_validation(data, val_size=config.data.val_size, seed=config.data.seed)
    data = conditioned_data(config, data)
    if data.image_shape != config.model.image_shape:
        raise TrainingError(
            f"dataset {data.name} has images {data.image_shape} but model.image_shape is "
            f"{config.model.image_shape}"
        )
    return data


def mean_image(data: Dataset, chunk: int = 4096) -> torch.Tensor:
    """The training images' mean (C, H, W) in [0, 1] from exact integer sums, so it does not
    depend on reduction order or thread count; summed in chunks to bound memory."""
    images = data.train.images  # (N, C, H, W) uint8
    total = torch.zeros(images.shape[1:], dtype=torch.int64)
    for start in range(0, images.shape[0], chunk):
        total += images[start : start + chunk].sum(0, dtype=torch.int64)
    return total.to(torch.float64) / (255.0 * max(images.shape[0], 1))


def _build_trainer(
    trainer_class: type[Trainer],
    config: RunConfig,
    data: Dataset,
    device: torch.device,
    ctx: DistributedContext,
) -> Trainer:
    seed = config.train.seed
    trainer_class = trainer_class_for(
        config.model.objective, trainer_class, distributed=ctx.distributed
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        model = build_model(config.model).to(device)
    model.init_output_bias(mean_image(data))
    if isinstance(model, VampPriorVAE):  # the paper's start: pseudo-inputs are training images
        pick = torch.Generator().manual_seed(derive_seed(seed, "pseudo-inputs"))
        model.init_pseudo_inputs(data.train.images, pick)
    generator = torch.Generator(device=device).manual_seed(derive_seed(seed, "loop"))
    # uint8: each batch is made float when drawn (bit-identical to converting the whole split
    # at once), so a memory-mapped store is never copied, and in memory it takes a quarter
    images = data.train.images
    if config.model.objective == "cvae":  # trainer_class_for refused it under torchrun
        return conditional_trainer(model, data, config, generator, device)
    if ctx.distributed:
        return DistributedTrainer(model, images, config, generator, context=ctx, device=device)
    return trainer_class(model, images, config, generator, device=device)


def _stop_rule(
    config: RunConfig, should_stop: Callable[[list[MetricsRow]], bool] | None
) -> Callable[[list[MetricsRow]], bool] | None:
    """The caller's ``should_stop``, or-ed with early stopping when the config asks for it."""
    patience = config.train.early_stop
    if patience is None:
        return should_stop
    early = EarlyStopping(patience)
    if should_stop is None:
        return early
    return lambda rows: early(rows) or should_stop(rows)
