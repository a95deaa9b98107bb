"""``vae-atlas prepare``: write a dataset once as an on-disk image store.

The store (:mod:`vae_atlas.data.store`) holds the train, validation and test splits as
memory-mapped uint8 arrays; ``vae-atlas train --dataset store --data-dir STORE`` then reads
batches from it without loading it into memory.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vae_atlas.cli.flags import add_options, check_out_dir, flag_message, quiet, say
from vae_atlas.cli.train import data_config_from_args
from vae_atlas.cli.train_options import DATA_OPTIONS
from vae_atlas.config import DATASETS, ConfigError, DataConfig
from vae_atlas.data import load_dataset, write_store
from vae_atlas.data.store import check_new_store, store_disk_bytes

SOURCES = tuple(d for d in DATASETS if d != "store")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare", help="write a dataset once as an on-disk image store (--dataset store)"
    )
    p.add_argument("--out", required=True, type=Path, help="store folder to create (new or empty)")
    p.add_argument(
        "--dataset", dest="name", required=True, choices=SOURCES, help="the source dataset"
    )
    add_options(p.add_argument_group("data"), [o for o in DATA_OPTIONS if o.flag != "--dataset"])
    p.add_argument(
        "--test-fraction",
        type=float,
        help=f"digits/shapes/folder: share of images held out as the test split "
        f"(default: {DataConfig.test_fraction})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the splits (and shapes' factors)")
    p.add_argument("--no-verify", action="store_true", help="skip the source's SHA-256 check")
    p.add_argument("--download", action="store_true", help="fetch missing dataset files")
    p.add_argument("--base-url", help="where --download fetches from (file:// works)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=run_prepare)


def _choose_folder_settings(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    """Fill a folder's image size and channels from its images when left out, saying why."""
    from vae_atlas.data.survey import suggest_settings, survey_folder

    survey = survey_folder(args.data_dir)
    for choice in suggest_settings(survey, image_size=args.image_size, channels=args.channels):
        name = choice.field.split(".")[1]
        if name in ("image_size", "channels"):
            setattr(args, name, choice.value)
            log(f"chose --{name.replace('_', '-')} {choice.value} because {choice.reason}")


def _source_config(args: argparse.Namespace) -> DataConfig:
    try:
        cfg = data_config_from_args(args, seed=args.seed)
        if args.test_fraction is not None:
            cfg = replace(cfg, test_fraction=args.test_fraction)
    except ConfigError as exc:
        raise ConfigError(flag_message(exc, DATA_OPTIONS)) from None
    return cfg


def describe_source(cfg: DataConfig) -> str:
    """One line saying where a store's images came from, recorded in its header."""
    parts = [cfg.name]
    if cfg.data_dir:
        parts.append(f"from {cfg.data_dir}")
    for name in ("image_size", "channels", "n_samples"):
        if getattr(cfg, name) is not None:
            parts.append(f"{name}={getattr(cfg, name)}")
    parts += [f"test_fraction={cfg.test_fraction}", f"seed={cfg.seed}"]
    return ", ".join(parts)


def run_prepare(args: argparse.Namespace) -> int:
    log = quiet if args.quiet else say
    check_out_dir(args.out)
    check_new_store(args.out)  # refused before the (possibly slow) load
    if args.name == "folder" and args.data_dir is not None:
        _choose_folder_settings(args, log)
    cfg = _source_config(args)
    started = time.perf_counter()
    data = load_dataset(cfg)
    loaded = time.perf_counter()
    out = write_store(data, args.out, source=describe_source(cfg))
    sizes = ", ".join(
        f"{name} {len(part)}"
        for name, part in (("train", data.train), ("val", data.val), ("test", data.test))
        if part is not None
    )
    log(
        f"store: {out}  ({sizes} images of {'×'.join(map(str, data.image_shape))}; "
        f"{store_disk_bytes(out) / 2**20:.1f} MiB; loaded in {loaded - started:.1f} s, "
        f"written in {time.perf_counter() - loaded:.1f} s)"
    )
    log(f"train from it with: vae-atlas train --dataset store --data-dir {out} --out RUN")
    return 0
