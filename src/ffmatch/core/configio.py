"""Frozen-dataclass configurations to and from TOML, with unknown keys rejected.

A run's configuration is a tree of frozen dataclasses. ``from_mapping`` builds one from parsed
TOML, checking every key (a misspelt key gets a "did you mean" hint) and every value's type;
``to_mapping`` turns it back into plain data so the resolved configuration can be written
beside every result.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from ffmatch.core.errors import ConfigError
from ffmatch.core.io.atomic import atomic_write

T = TypeVar("T")

NONE = "none"
"""How an optional setting that is unset is written: TOML has no null."""


def _check_scalar(value: Any, kind: Any, where: str) -> Any:
    """Coerce a TOML scalar to ``kind`` (int to float allowed), else ConfigError."""
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        choices = typing.get_args(kind)
        if value not in choices:
            raise ConfigError(
                f"{where}: expected one of {', '.join(map(repr, choices))}, found {value!r}"
            )
        return value
    if origin in (types.UnionType, typing.Union):
        if value == NONE and type(None) in typing.get_args(kind):
            return None
        errors = []
        for option in typing.get_args(kind):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check_scalar(value, option, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{where}: unexpected value {value!r}")
    if origin is tuple:
        args = typing.get_args(kind)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, found {value!r}")
        item = args[0]
        return tuple(_check_scalar(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is Path and isinstance(value, str):
        return Path(value)
    name = getattr(kind, "__name__", str(kind))
    raise ConfigError(f"{where}: expected {name}, found {value!r}")


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys and wrong types raise ConfigError."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint} (known: {', '.join(fields)})")
        kind = hints[key]
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}.{key}: expected a table, found {value!r}")
            kwargs[key] = from_mapping(kind, value, f"{where}.{key}")
        else:
            kwargs[key] = _check_scalar(value, kind, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"{where}: {err}") from None


def to_mapping(obj: Any) -> dict[str, Any]:
    """Plain data (dicts, lists, scalars) from a dataclass tree; None is written ``"none"``."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            out[f.name] = to_mapping(value)
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        elif isinstance(value, Path):
            out[f.name] = str(value)
        elif value is None:
            out[f.name] = NONE
        else:
            out[f.name] = value
    return out


def load_toml(cls: type[T], path: Path) -> T:
    """Read ``path`` as TOML into dataclass ``cls``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return from_mapping(cls, data, where=str(path))


def write_toml(obj: Any, path: Path) -> None:
    """Write a dataclass tree as TOML, atomically."""
    with atomic_write(path, mode="wb") as fh:
        tomli_w.dump(to_mapping(obj), fh)
