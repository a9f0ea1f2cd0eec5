"""Every command and command group has help with an example."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import ffmatch
from ffmatch.cli import commands  # noqa: F401  (registers the commands)
from ffmatch.cli.app import app, run


def _paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in getattr(group, "commands", {}).items():
        out += _paths(sub, (*prefix, name))
    return out


PATHS = _paths(typer.main.get_command(app))


def test_the_tree_holds_the_papers_pipeline() -> None:
    names = {p[0] for p in PATHS if p}
    assert {"select", "cv", "prune", "evolve", "reproduce", "data", "match"} <= names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "ffmatch")
def test_help_has_an_example(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*path, "--help"]) == 0
    assert "Example: ffmatch" in capsys.readouterr().out


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"ffmatch {ffmatch.__version__}\n"


def test_python_m_ffmatch_is_the_same_command_line() -> None:
    src = Path(ffmatch.__file__).parents[1]  # this checkout's code, not an installed copy
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-m", "ffmatch", "--version"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"ffmatch {ffmatch.__version__}\n")
