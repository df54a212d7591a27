"""Configs are dataclasses: defaults in code, optionally overridden by a TOML file, then by CLI flags."""
import dataclasses
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from multistyle import UserError

T = TypeVar("T")


def load_config(cls: type[T], toml_path: str | Path | None = None, **overrides: Any) -> T:
    """Build `cls` from its defaults, a TOML file's top-level keys, then non-None overrides."""
    values: dict[str, Any] = {}
    if toml_path is not None:
        try:
            values = tomllib.loads(Path(toml_path).read_text())
        except FileNotFoundError:
            raise UserError(f"{toml_path}: config file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{toml_path}: not valid TOML ({e})") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"unknown config keys for {cls.__name__}: {', '.join(unknown)}")
    for f in dataclasses.fields(cls):  # TOML has no tuples: keep the declared sequence type
        if f.name in values and isinstance(values[f.name], list) and isinstance(getattr(cls, f.name, None), tuple):
            values[f.name] = tuple(values[f.name])
    return cls(**values)


def config_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
