"""A run's whole configuration, :class:`RunConfig`, and its strict JSON round-trip: a ``kind``,
a ``schema_version`` (older versions migrated, newer ones refused in one line), and every key and
value type checked before the sections validate themselves."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from vae_atlas.config.data import DataConfig
from vae_atlas.config.model import ModelConfig
from vae_atlas.config.train import TrainConfig
from vae_atlas.config.validation import ConfigError

SCHEMA_VERSION = 2


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything needed to rebuild a run's model and data pipeline."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "vae-atlas.run",
            "schema_version": SCHEMA_VERSION,
            "data": dataclasses.asdict(self.data),
            "model": dataclasses.asdict(self.model),
            "train": dataclasses.asdict(self.train),
        }

    def to_json(self) -> str:
        # strict JSON: validation keeps NaN/Infinity out, and allow_nan=False makes sure of it
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, raw: object, *, source: str = "config") -> RunConfig:
        """Rebuild a config, refusing unknown kinds, versions, keys and wrongly typed values."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a JSON object, got {type(raw).__name__}")
        if raw.get("kind") != "vae-atlas.run":
            raise ConfigError(f"{source}: kind={raw.get('kind')!r} is not 'vae-atlas.run'")
        version = raw.get("schema_version")
        if version != SCHEMA_VERSION:
            raw = _migrate(raw, version, source)
        unknown = set(raw) - {"kind", "schema_version", "data", "model", "train"}
        if unknown:
            raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
        return cls(
            data=_section(DataConfig, raw.get("data", {}), f"{source}: data"),
            model=_section(ModelConfig, raw.get("model", {}), f"{source}: model"),
            train=_section(TrainConfig, raw.get("train", {}), f"{source}: train"),
        )

    @classmethod
    def from_json(cls, text: str, *, source: str = "config.json") -> RunConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_dict(raw, source=source)


def _migrate(raw: dict[str, Any], version: object, source: str) -> dict[str, Any]:
    """Bring an older config up to SCHEMA_VERSION, or explain why that is impossible."""
    if version == 1:  # written before validation splits existed: it trained on all of train
        data = raw.get("data", {})
        if isinstance(data, dict) and "val_size" not in data:
            data = {**data, "val_size": 0}
        return {**raw, "schema_version": SCHEMA_VERSION, "data": data}
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        raise ConfigError(
            f"{source}: schema_version {version} was written by a newer vae-atlas "
            f"(this one reads up to {SCHEMA_VERSION}); upgrade vae-atlas to load it"
        )
    raise ConfigError(
        f"{source}: schema_version={version!r} is not a version vae-atlas knows "
        f"(expected {SCHEMA_VERSION})"
    )


_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
}


def _section(cls: type, raw: object, where: str) -> Any:
    """Build one config section from JSON, checking keys and value types before validation."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(str(fields[name].type), value, f"{where}.{name}")
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None  # a file's fault, not a flag's


def _coerce(type_text: str, value: Any, where: str) -> Any:
    optional = "None" in type_text
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{where} must not be null")
    if type_text.startswith("tuple[str"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}={value!r} must be a list of strings")
        return tuple(value)
    if type_text.startswith("tuple"):
        if not isinstance(value, list):
            raise ConfigError(f"{where}={value!r} must be a list")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}={value!r} must be a list of integers")
        return tuple(value)
    base = type_text.split("|")[0].strip()
    allowed = _TYPES.get(base)
    if allowed is None:
        return value
    if isinstance(value, bool) and base != "bool":
        raise ConfigError(f"{where}={value!r} must be {base}, not a boolean")
    if not isinstance(value, allowed):
        raise ConfigError(f"{where}={value!r} must be {base}, not {type(value).__name__}")
    if base != "float":
        return value
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range, e.g. 400 digits
        raise ConfigError(f"{where} is too large for a float") from None
