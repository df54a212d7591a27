"""Configs are dataclasses: the defaults live in the dataclass, a TOML or JSON file may override them,
then `--set key=value` pairs, then explicit flags. One loader serves every command and saved run.

Values are checked against the field's annotation as they enter: `size = "big"` or `lr = nan` is a
ConfigError naming the key, and TOML/JSON lists become the tuples the dataclass declares.
"""
import dataclasses
import importlib.resources
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from multistyle.errors import ConfigError

T = TypeVar("T")
PACKAGED = "configs"  # multistyle/configs/<modality>/<name>.toml ship inside the package
# Upper bounds of the counts a run may be asked for, by field name, in every config that has the field: a few zeros
# too many is refused at once instead of running for years. Help texts state them (cli.common.default).
COUNT_LIMITS = {"steps": 100_000, "gatys_steps": 100_000, "iterations": 10_000_000, "max_steps": 10_000_000,
                "griffin_lim_iters": 10_000}


def packaged_configs() -> dict[str, Path]:
    """Packaged config files by name, e.g. {"image/adain": .../configs/image/adain.toml}."""
    root = Path(str(importlib.resources.files("multistyle") / PACKAGED))
    return {str(p.relative_to(root).with_suffix("")): p for p in sorted(root.rglob("*.toml"))}


def resolve_config_path(name: str | Path) -> Path:
    """A config file's path: an existing file as given, else a packaged config named like
    `image/adain`, `configs/image/adain.toml` or just `adain`."""
    path = Path(name)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, expected a TOML or JSON config file")
    if path.is_file():
        return path
    packaged = packaged_configs()
    key = str(path.with_suffix("")) if path.suffix in (".toml", ".json") else str(path)
    key = key.removeprefix(f"{PACKAGED}/")
    by_stem = {Path(k).name: p for k, p in packaged.items()}
    found = packaged.get(key) or (by_stem.get(key) if "/" not in key else None)
    if found is None:
        raise ConfigError(f"{name}: config file not found (packaged configs: {', '.join(packaged)})")
    return found


def read_config_file(name: str | Path) -> dict[str, Any]:
    path = resolve_config_path(name)
    try:
        text = path.read_text()
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'} ({e})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a table of keys, found {type(values).__name__}")
    return values


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`key=value` pairs; values are read as TOML literals (3, 1e-4, true, [0.7, 0.3]), else as plain strings."""
    values = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, not {pair!r}")
        try:
            values[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = raw.strip()
    return values


def _coerce(value: Any, kind: Any, key: str) -> Any:
    """`value` as the annotated type `kind`, or a ConfigError naming `key`."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _coerce(value, option, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, not {value!r}")
        args = typing.get_args(kind)
        item = args[0] if args else Any
        return tuple(_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value))
    if kind is Any:
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, not {value!r}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, not {value!r}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, not {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, not {value!r}")
        return value
    return value


def _checked(cls: type, values: dict[str, Any], source: str | dict[str, str]) -> dict[str, Any]:
    """`values` with every key known to `cls` and every value coerced to its field's type and within its limit.
    `source` names where the values came from (one name, or one per key) for the error messages."""
    def origin(key: str) -> str:
        return source.get(key, cls.__name__) if isinstance(source, dict) else source

    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{origin(unknown[0])}: unknown key{'s' * (len(unknown) > 1)} {', '.join(unknown)} for "
                          f"{cls.__name__} (known: {', '.join(sorted(known))})")

    def label(key: str) -> str:  # "--alpha", or "file.toml: alpha"
        where = origin(key)
        return where if where == f"--{key.replace('_', '-')}" else f"{where}: {key}"

    checked = {k: _coerce(v, hints[k], label(k)) for k, v in values.items()}
    for key, value in checked.items():
        if key in COUNT_LIMITS and isinstance(value, int) and value > COUNT_LIMITS[key]:
            raise ConfigError(f"{label(key)}: at most {COUNT_LIMITS[key]:,}, not {value:,}")
    return checked


def from_dict(cls: type[T], values: dict[str, Any], source: str | dict[str, str] = "config") -> T:
    """Build `cls` from its defaults and `values`, checking every key and value. `source` names where the
    values came from (one name, or one per key) for the error messages."""
    return cls(**_checked(cls, values, source))


def load_config(cls: type[T], file: str | Path | None = None, sets: list[str] | tuple[str, ...] = (), **flags: Any) -> T:
    """Defaults, then a config file (path or packaged name), then `--set` pairs, then non-None flags. Each layer is
    checked on its own, so a bad value is refused even where a later layer replaces it."""
    values: dict[str, Any] = read_config_file(file) if file is not None else {}
    assigned = parse_assignments(sets)
    given = {k: v for k, v in flags.items() if v is not None}
    _checked(cls, values, str(file))
    _checked(cls, assigned, "--set")
    sources = {**dict.fromkeys(values, str(file)), **dict.fromkeys(assigned, "--set"),
               **{k: f"--{k.replace('_', '-')}" for k in given}}
    return from_dict(cls, {**values, **assigned, **given}, sources)


def config_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def default_of(cls: type, name: str) -> Any:
    """A dataclass field's default: what help texts quote instead of restating it."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    return field.default_factory()  # type: ignore[misc]


def with_overrides(config: T, overrides: dict[str, Any]) -> T:
    """A copy of `config` with `overrides` (None values ignored), checked like a config file's values."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise ConfigError(f"config must be a config object such as GatysConfig(), not {type(config).__name__}")
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return config
    return from_dict(type(config), {**config_dict(config), **given}, {k: f"argument {k}" for k in given})
