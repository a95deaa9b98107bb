"""``vae-atlas train``: train an AE / VAE / β-VAE / IWAE into a run directory.

Choices and defaults live in :mod:`vae_atlas.config`; this module only maps flags onto config
fields (a flag left out leaves the field to its config default) and, for an image folder, fills
the settings the user left out from the images (:mod:`vae_atlas.data.survey`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from vae_atlas.analysis.diagnostics import ACTIVE_KL_THRESHOLD, active_dimensions
from vae_atlas.checkpoint import CONFIG, read_run_config
from vae_atlas.cli.flags import add_options, check_out_dir, flag_message, given, quiet, say
from vae_atlas.cli.run_access import data_access_from_args
from vae_atlas.cli.trackers import (
    FAILED,
    add_tracker_arguments,
    check_tracker_packages,
    trackers_from_args,
)
from vae_atlas.cli.train_options import DATA_OPTIONS, MODEL_OPTIONS, OPTIONS, TRAIN_OPTIONS
from vae_atlas.config import (
    SINGLE_PROCESS_OBJECTIVES,
    ConfigError,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
)
from vae_atlas.data import load_dataset, resolve_data_dir
from vae_atlas.data.attributes import file_sha256
from vae_atlas.presets import PRESETS
from vae_atlas.training import TrainingError, TrainResult, train
from vae_atlas.training.conditional import resolve_condition
from vae_atlas.training.data_access import data_config_for_run

if TYPE_CHECKING:  # torch.distributed is imported only when training starts
    from vae_atlas.training.distributed import DistributedContext


def add_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    add_options(g, DATA_OPTIONS)
    g.add_argument("--no-verify", action="store_true",
                   help="skip the SHA-256 check (user variants)")  # fmt: skip
    g.add_argument("--download", action="store_true", help="fetch missing dataset files")
    g.add_argument("--base-url", help="where --download fetches from (file:// works)")


def add_preset_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a named recipe; flags given explicitly override its values "
        "(faces: conv 32,64,128,256 at 64x64, 64-D code, gaussian with learned sigma)",
    )


def apply_preset(args: argparse.Namespace) -> None:
    """Set the preset's fields whose flags were left out (a given flag always wins)."""
    if getattr(args, "preset", None) is None:
        return
    names = {opt.field: opt.name for opt in OPTIONS}
    for field, value in PRESETS[args.preset].items():
        if getattr(args, names[field], None) is None:
            setattr(args, names[field], value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model into a run directory")
    p.add_argument("--out", required=True, type=Path, help="run directory to create (or resume)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--restart",
        action="store_true",
        help="with --resume, when checkpoint.safetensors is missing: train the run again from "
        "epoch 0 with its config (replaces its weights and metrics)",
    )
    add_data_arguments(p)
    add_preset_argument(p)
    add_options(p.add_argument_group("model"), MODEL_OPTIONS)
    g = p.add_argument_group("training")
    add_options(g, TRAIN_OPTIONS)
    g.add_argument("--no-progress", action="store_true",
                   help="one line per epoch instead of the progress bar")  # fmt: skip
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")
    g.add_argument("--nproc", type=int,
                   help="train with N processes on this machine (torchrun --standalone "
                   "--nproc-per-node N; gloo on CPU, NCCL on CUDA)")  # fmt: skip
    g.add_argument("--threads", type=int,
                   help="CPU threads for torch (default: torch's choice; under torchrun the "
                   "cores split evenly over the processes on this machine)")  # fmt: skip
    add_tracker_arguments(p)
    p.set_defaults(handler=run_train)


def data_config_from_args(args: argparse.Namespace, seed: int = 0) -> DataConfig:
    values = given(args, DATA_OPTIONS, "data")
    name = values.get("name", DataConfig.name)
    if name in ("mnist", "fashion-mnist", "celeba"):
        values["data_dir"] = str(resolve_data_dir(values.get("data_dir"), name).resolve())
    elif values.get("data_dir") is not None:
        values["data_dir"] = str(Path(values["data_dir"]).resolve())
    if values.get("attributes") is not None:
        table = Path(values["attributes"]).resolve()
        if not table.is_file():
            raise ConfigError(f"--attributes {values['attributes']}: no such file")
        values["attributes"] = str(table)
        values["attributes_sha256"] = file_sha256(table)
    switches = {"verify": not args.no_verify, "download": args.download, "base_url": args.base_url}
    return DataConfig(**values, **switches, seed=seed)


def config_from_args(args: argparse.Namespace, image_shape: tuple[int, int, int]) -> RunConfig:
    """The run's config: the flags given, the config's defaults for the rest."""
    model = ModelConfig(image_shape=image_shape, **given(args, MODEL_OPTIONS, "model"))
    train_cfg = TrainConfig(**given(args, TRAIN_OPTIONS, "train"))
    return RunConfig(
        data=data_config_from_args(args, seed=train_cfg.seed), model=model, train=train_cfg
    )


def choose_folder_defaults(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """Fill the settings an image-folder user left out from the images, saying why."""
    from vae_atlas.data.survey import suggest_settings, survey_folder

    survey = survey_folder(args.data_dir)
    names = ("image_size", "channels", "family", "batch_size", "epochs")
    flags = {opt.field: opt.flag for opt in OPTIONS}
    for choice in suggest_settings(survey, **{n: getattr(args, n) for n in names}):
        setattr(args, choice.field.split(".")[1], choice.value)
        log(f"chose {flags[choice.field]} {choice.value} because {choice.reason}")


def set_threads(n: int | None) -> None:
    """Set torch's intra-op CPU threads (bit-identical results need the same count)."""
    if n is None:
        return
    if n < 1:
        raise ConfigError(f"--threads {n} must be at least 1")
    import torch

    torch.set_num_threads(n)


def default_threads(ctx: DistributedContext) -> int | None:
    """Under torchrun, the cores this machine gives the process split over its local ranks
    (torchrun itself pins every rank to one thread); otherwise torch's own choice."""
    from vae_atlas.training.distributed import threads_per_rank

    if not ctx.distributed:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return threads_per_rank(cores or 1, ctx.local_world_size)


def run_train(args: argparse.Namespace) -> int:
    from vae_atlas.training.distributed import context_from_env

    ctx = context_from_env()  # several processes when started by torchrun
    if args.nproc not in (None, 1) and args.objective in SINGLE_PROCESS_OBJECTIVES:
        raise ConfigError(f"--objective {args.objective} trains in one process; leave --nproc out")
    if args.nproc is not None and not ctx.distributed and args.nproc != 1:
        from vae_atlas.cli.launch import run_under_torchrun

        return run_under_torchrun(args.nproc, args.argv)
    if args.nproc is not None and ctx.distributed and args.nproc != ctx.world_size:
        raise ConfigError(
            f"--nproc {args.nproc} starts its own processes; under torchrun (world size "
            f"{ctx.world_size}) leave it out"
        )
    set_threads(args.threads if args.threads is not None else default_threads(ctx))
    check_out_dir(args.out)
    log = quiet if args.quiet or not ctx.writes else say
    progress = "off" if args.quiet else "lines" if args.no_progress else "bar"
    if args.restart and not args.resume:
        raise ConfigError("--restart only applies with --resume (it restarts an existing run)")
    check_tracker_packages(args)
    try:
        if args.resume:
            config = _resumed_config(args)
            # the run's data section only describes its data: read it as this command's flags say
            dataset = load_dataset(data_config_for_run(config.data, data_access_from_args(args)))
        else:
            apply_preset(args)
            if args.name == "folder" and args.data_dir is not None:  # name: --dataset
                choose_folder_defaults(args, log)
            # the training flags are checked before the (possibly slow) data load
            seed = TrainConfig(**given(args, TRAIN_OPTIONS, "train")).seed
            dataset = load_dataset(data_config_from_args(args, seed=seed))
            config = resolve_condition(config_from_args(args, dataset.image_shape), dataset)
    except ConfigError as exc:
        raise ConfigError(flag_message(exc, OPTIONS)) from None
    trackers = trackers_from_args(args, config, dataset, log) if ctx.writes else None
    status = FAILED
    try:
        result = train(
            config,
            args.out,
            dataset=dataset,
            resume=args.resume,
            restart=args.restart,
            progress=progress,
            log=log,
            distributed=ctx,
            on_epoch_end=trackers.on_epoch_end if trackers else None,
        )
        status = result.status
    except BrokenPipeError:
        raise
    except OSError as exc:  # disk full or read-only while setting the run up
        where = f" ({exc.filename})" if exc.filename else ""
        raise TrainingError(
            f"could not write to {args.out}: {exc.strerror or exc}{where}"
        ) from None
    finally:
        if trackers:
            trackers.finish(status)
    print_summary(result, log)
    if result.message and args.quiet and ctx.writes:  # the loop logged it unless --quiet
        print(result.message, file=sys.stderr)
    return 130 if result.status == "interrupted" else 0


def _resumed_config(args: argparse.Namespace) -> RunConfig:
    if not (args.out / CONFIG).is_file():
        raise TrainingError(f"{args.out}: nothing to resume (no {CONFIG})")
    saved = read_run_config(args.out)
    epochs = args.epochs if args.epochs is not None else saved.train.epochs
    return replace(saved, train=replace(saved.train, epochs=epochs))


def print_summary(result: TrainResult, log: Callable[[str], None] = say) -> None:
    final = result.final
    log(
        f"run: {result.run_dir}  ({result.status}, {result.epochs_completed} epochs, "
        f"{result.seconds:.1f} s)"
    )
    if final.get("test_neg_elbo") is not None:
        kl_dims = final.get("test_kl_per_dim") or []
        active = int(active_dimensions(kl_dims).sum())
        log(
            f"held-out -ELBO {final['test_neg_elbo']:.2f} nats = recon {final['test_recon']:.2f} "
            f"+ KL {final['test_kl']:.2f}; {active}/{len(kl_dims)} latent dimensions carry "
            f">= {ACTIVE_KL_THRESHOLD} nats"
        )
    elif "test_recon" in final:
        log(
            f"held-out reconstruction NLL {final['test_recon']:.2f} nats "
            "(no KL term: a deterministic encoder)"
        )
