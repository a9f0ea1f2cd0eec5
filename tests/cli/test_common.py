"""CLI helpers: the notice for a wait that is usually short."""

from __future__ import annotations

import io
import threading

import pytest
from rich.console import Console

from ffmatch.cli import common


def _terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Point the CLI's stderr console at a buffer that reports itself as a terminal."""
    buffer = io.StringIO()
    monkeypatch.setattr(common, "err", Console(file=buffer, force_terminal=True, width=200))
    return buffer


def test_a_slow_block_gets_its_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = _terminal(monkeypatch)
    printed = threading.Event()
    monkeypatch.setattr(common.err, "print", lambda *a, **k: (buffer.write(a[0]), printed.set()))
    with common.notice_if_slow("compiling, please wait", after_s=0.0):
        assert printed.wait(timeout=60)  # the block is still running when the notice comes
    assert buffer.getvalue() == "compiling, please wait"


def test_a_quick_block_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = _terminal(monkeypatch)
    with common.notice_if_slow("compiling, please wait", after_s=3600.0):
        pass
    assert buffer.getvalue() == ""


@pytest.mark.parametrize("terminal", [True, False])
def test_no_notice_when_quiet_or_not_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    console = Console(file=io.StringIO(), force_terminal=terminal, width=200)
    monkeypatch.setattr(common, "err", console)

    def no_timer(*args: object, **kw: object) -> None:
        raise AssertionError("a notice was scheduled")

    monkeypatch.setattr(common.threading, "Timer", no_timer)
    with common.notice_if_slow("compiling", after_s=0.0, quiet=terminal):
        pass  # quiet on a terminal, or not quiet but not on a terminal: no notice either way
