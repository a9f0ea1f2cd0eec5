"""Start-up stays light: a command imports only what its work needs (checked structurally, in
a fresh interpreter, by the modules loaded; never by timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "matplotlib", "pandas", "mediapipe", "sklearn", "scipy.stats", "numba")
SRC = str(Path(__file__).resolve().parents[2] / "src")

# What each case runs before printing the heavy modules then loaded.
CASES = {
    # Every command: the CLI and all command modules (main() registers them all).
    "cli": "import ffmatch.cli.app; from ffmatch.cli import commands",
    # A command that fails on its arguments does so before importing any of them.
    "bad arguments": (
        "from ffmatch.cli.app import main\n"
        "sys.argv = ['ffmatch', 'match', 'one.jpg']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    ),
    # ffmatch match: its modules up to the face-mesh extractor, which imports MediaPipe
    # only when opened, and the shipped model.
    "match": (
        "from ffmatch.cli import commands\n"
        "from ffmatch.matcher.photos.extract import FaceMeshExtractor\n"
        "from ffmatch.matcher.photos.match import judge_pairs\n"
        "from ffmatch.matcher.photos.models import photo_model\n"
        "photo_model()"
    ),
    # ffmatch evolve: the CLI and the pipeline it runs, up to where its work starts.
    "evolve": "from ffmatch.cli import commands\nfrom ffmatch.paper.pipeline.run import run_step",
}


def _loaded(code: str) -> list[str]:
    script = (
        "import sys\n"
        f"{code}\n"
        "import json\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_command_start_up_imports_none_of_the_heavy_libraries(case: str) -> None:
    assert _loaded(CASES[case]) == []


@pytest.mark.slow
def test_a_whole_evolve_run_never_imports_torch(tmp_path: Path) -> None:
    """ffmatch evolve trains on the compiled engine (numba): torch, 1.5-3 s to import, is
    needed nowhere on its path, from start-up to the report."""
    config = Path(__file__).parents[1] / "data" / "golden" / "reproduce-tiny.toml"
    argv = ["-q", "evolve", "--config", str(config), "--out", str(tmp_path / "run")]
    loaded = _loaded(f"from ffmatch.cli.app import run\nassert run({argv!r}) == 0")
    assert "numba" in loaded  # it did train: the check would notice an import that failed
    assert "torch" not in loaded
