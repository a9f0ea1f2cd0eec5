"""What produced a report: versions read without importing the libraries."""

from __future__ import annotations

import platform

import torch

import ffmatch
from ffmatch.paper.report.provenance import collect


def test_collect_names_the_running_versions() -> None:
    stamp = collect()
    assert stamp.torch == torch.__version__  # read from the installed distribution
    assert stamp.python == platform.python_version()
    assert stamp.ffmatch == ffmatch.__version__
    assert f"PyTorch {torch.__version__}" in stamp.line()
