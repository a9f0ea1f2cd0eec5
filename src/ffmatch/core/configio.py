"""Frozen-dataclass configurations to and from TOML, with unknown keys rejected.

A run's configuration is a tree of frozen dataclasses. ``from_mapping`` builds one from parsed
TOML, checking every key (a misspelt key gets a "did you mean" hint) and every value's type;
``to_mapping`` turns it back into plain data so the resolved configuration can be written
beside every result. Both are ``ffmatch.core.serial``'s, with TOML's spelling of None.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from ffmatch.core import serial
from ffmatch.core.errors import ConfigError
from ffmatch.core.io.atomic import atomic_write

T = TypeVar("T")

NONE = "none"
"""How an optional setting that is unset is written: TOML has no null."""


def from_mapping(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``; unknown keys and wrong types raise ConfigError."""
    return serial.from_mapping(cls, data, where, error=ConfigError, none=NONE)


def to_mapping(obj: Any) -> dict[str, Any]:
    """Plain data (dicts, lists, scalars) from a dataclass tree; None is written ``"none"``."""
    return typing.cast(dict[str, Any], _none_as_text(serial.to_mapping(obj)))


def _none_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _none_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_none_as_text(v) for v in value]
    return NONE if value is None else value


def load_toml(cls: type[T], path: Path) -> T:
    """Read ``path`` as TOML into dataclass ``cls``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: expected a configuration file, found a folder") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: expected UTF-8 text, found byte {err.object[err.start]:#04x} at offset "
            f"{err.start}"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return from_mapping(cls, data, where=str(path))


def write_toml(obj: Any, path: Path, comments: Mapping[str, str] | None = None) -> None:
    """Write a dataclass tree as TOML, atomically; ``comments`` puts ``# text`` after the
    line of each dotted key (e.g. ``{"eval.n_splits": "folds used: grouped 9"}``)."""
    text = tomli_w.dumps(to_mapping(obj))
    if comments:
        text = _with_comments(text, comments)
    with atomic_write(path) as fh:
        fh.write(text)


def _with_comments(text: str, comments: Mapping[str, str]) -> str:
    # tomli_w writes no comments; its output is one "key = value" line per scalar (a list
    # opens with "key = [", where a comment is allowed too) under "[table]" headers
    table, lines = "", []
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            table = line.strip("[]") + "."
        key = line.split(" = ", 1)[0] if " = " in line and not line.startswith(" ") else None
        note = comments.get(table + key) if key else None
        lines.append(f"{line}  # {note}" if note else line)
    return "\n".join(lines) + "\n"
