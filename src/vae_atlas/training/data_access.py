"""Where the data of an existing run comes from: the user's flags, never the run's files.

A run directory may come from anyone, and its ``config.json`` data section could ask for a
download from any URL into any folder. So for a run that already exists (``evaluate``,
``report``, ``explore``, ``compare``, ``train --resume``) that section is only a *description*
of the data (which dataset, its geometry, split and seed). Where the files are read from and
whether they may be fetched is decided by the command line:

- the folder: ``--data-dir``; else the folder the run recorded, if it exists (read only: nothing
  is ever written there); else ``$VAE_ATLAS_DATA`` or the user cache dir;
- a download happens only with ``--download`` on that command, from ``--base-url`` (else the
  public mirror), into ``--data-dir``, ``$VAE_ATLAS_DATA`` or the user cache dir — never into
  the recorded folder;
- checksums are verified unless that command says ``--no-verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vae_atlas.config import DataConfig

_IDX = ("mnist", "fashion-mnist")


@dataclass(frozen=True, kw_only=True)
class DataAccess:
    """The user's say on reaching a run's data (the flags of the current command)."""

    data_dir: str | None = None
    download: bool = False
    base_url: str | None = None
    verify: bool = True


def data_config_for_run(recorded: DataConfig, access: DataAccess) -> DataConfig:
    """The :class:`DataConfig` to load an existing run's data with: the run's description of
    the data, with location, download and verification taken from ``access``."""
    data_dir: str | None = None
    if access.data_dir:
        data_dir = str(Path(access.data_dir).expanduser())
    elif recorded.name in ("folder", "store") or (
        recorded.name in (*_IDX, "celeba")
        and not access.download
        and recorded.data_dir
        and Path(recorded.data_dir).is_dir()
    ):
        data_dir = recorded.data_dir
    return replace(
        recorded,
        data_dir=data_dir,
        download=access.download and recorded.name in _IDX,
        base_url=access.base_url,
        verify=access.verify,
    )
