"""The data section of a run's configuration: which dataset, and how it is prepared."""

from __future__ import annotations

from dataclasses import dataclass

from vae_atlas.config.choices import DATASETS, MAX_SEED
from vae_atlas.config.validation import ConfigError, _check_choice, _check_int


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Which dataset to load and how to prepare it.

    ``image_size`` / ``channels`` apply to ``folder`` and ``shapes`` (other datasets have a fixed
    geometry). ``data_dir=None`` means: ``$VAE_ATLAS_DATA`` or the user cache dir, resolved by the
    CLI or :func:`vae_atlas.data.resolve_data_dir`, never here. ``val_size`` training images are
    held out for validation (seeded by ``seed``): ``None`` means the dataset's default (5,000 of
    MNIST's 60,000, else 10 %, see :func:`vae_atlas.data.validation_size`), 0 none; CelebA's
    default is its official "valid" partition. ``attributes`` names an attribute table for an
    image folder (:mod:`vae_atlas.data.attributes`) and ``attributes_sha256`` the checksum it had
    when the run was made, so a later load notices an edited table.
    """

    name: str = "digits"
    data_dir: str | None = None
    verify: bool = True
    download: bool = False
    base_url: str | None = None
    image_size: int | None = None
    channels: int | None = None
    n_samples: int | None = None
    test_fraction: float = 0.2
    val_size: int | None = None
    seed: int = 0
    attributes: str | None = None
    attributes_sha256: str | None = None

    def __post_init__(self) -> None:
        _check_choice("data.name", self.name, DATASETS)
        if self.image_size is not None:
            _check_int("data.image_size", self.image_size, 4)
        if self.channels is not None and self.channels not in (1, 3):
            raise ConfigError(
                f"data.channels={self.channels!r} must be 1 or 3", field="data.channels"
            )
        if self.n_samples is not None:
            _check_int("data.n_samples", self.n_samples, 2)
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(
                f"data.test_fraction={self.test_fraction!r} must be in (0, 1)",
                field="data.test_fraction",
            )
        if self.val_size is not None:
            _check_int("data.val_size", self.val_size, 0)
        _check_int("data.seed", self.seed, 0, MAX_SEED)
        if self.name in ("folder", "store") and not self.data_dir:
            raise ConfigError(
                f"data.data_dir is required for the {self.name!r} dataset", field="data.data_dir"
            )
        if self.attributes is not None and self.name != "folder":
            raise ConfigError(
                f"data.attributes applies to the 'folder' dataset, not {self.name!r}",
                field="data.attributes",
            )
