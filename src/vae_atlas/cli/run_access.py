"""Flags of the commands that open an existing run: where its data may be read from, and where
its model runs.

A run's ``config.json`` only describes its data; the folder, any download and the checksum check
come from these flags (see :mod:`vae_atlas.training.data_access`).
"""

from __future__ import annotations

import argparse

import torch

from vae_atlas.config import DEVICES
from vae_atlas.training.data_access import DataAccess
from vae_atlas.training.trainer import resolve_device


def add_run_data_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("the run's data (never taken from the run's own files)")
    g.add_argument(
        "--data-dir",
        help="folder with the run's dataset (default: the folder the run was trained from, "
        "if it exists, else $VAE_ATLAS_DATA or the user cache dir)",
    )
    g.add_argument(
        "--download",
        action="store_true",
        help="fetch missing mnist/fashion-mnist files into --data-dir, $VAE_ATLAS_DATA or the "
        "user cache dir",
    )
    g.add_argument("--base-url", help="where --download fetches from (file:// works)")
    g.add_argument("--no-verify", action="store_true", help="skip the SHA-256 check (variants)")
    p.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="where the model encodes and decodes (auto: CUDA when there is one, else the CPU)",
    )


def data_access_from_args(args: argparse.Namespace) -> DataAccess:
    return DataAccess(
        data_dir=args.data_dir,
        download=args.download,
        base_url=args.base_url,
        verify=not args.no_verify,
    )


def device_from_args(args: argparse.Namespace) -> torch.device:
    """The device ``--device`` names; ``cuda`` without a CUDA device is a one-line error."""
    return resolve_device(args.device)
