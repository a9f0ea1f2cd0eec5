"""What produced a report: ffmatch's version and commit, Python's and PyTorch's, the date.

Collected once per run by ``ffmatch.paper.pipeline.run`` and shown in the report only
(``metrics.json`` stays the same for the same seed).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

import ffmatch


@dataclass(frozen=True, kw_only=True, slots=True)
class Provenance:
    """The software and the moment behind a run."""

    ffmatch: str
    commit: str | None  # None outside a git checkout
    python: str
    torch: str
    date: str  # UTC, ISO 8601 to the second

    def line(self) -> str:
        """One sentence for a report."""
        commit = f" (commit {self.commit})" if self.commit else ""
        return (
            f"ffmatch {self.ffmatch}{commit}, Python {self.python}, PyTorch {self.torch}; "
            f"run on {self.date}."
        )


def git_commit(where: Path) -> str | None:
    """The commit checked out at ``where`` (with ``+`` when files differ from it), or None
    when ``where`` is not in a git checkout or git is missing."""
    try:
        # the package's own files must be tracked there: an installed copy inside some
        # other checkout (a virtualenv in a project folder) is not that checkout's commit
        subprocess.run(
            ["git", "-C", str(where), "ls-files", "--error-unmatch", "__init__.py"],
            capture_output=True, check=True, timeout=10,
        )  # fmt: skip
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+" if dirty else head or None


def collect() -> Provenance:
    """The provenance of the running process."""
    return Provenance(
        ffmatch=ffmatch.__version__,
        commit=git_commit(Path(ffmatch.__file__).parent),
        python=platform.python_version(),
        # the installed distribution's version (torch.__version__ without importing torch,
        # which a run on the compiled engine never loads: 1.5-3 s)
        torch=importlib.metadata.version("torch"),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
