"""A run folder: ``metrics.json``, ``config.toml``, ``figures/*.png`` and the reports.

Every file is written atomically, and only after the run's computation has finished, so a
failed or interrupted run leaves an existing folder's files as they were.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ffmatch.core.errors import DataError
from ffmatch.core.io.atomic import atomic_write
from ffmatch.paper.pipeline.config import RunConfig, write_run_config

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _clean(value: Any) -> Any:
    """NaN and infinities as null, numpy scalars as Python numbers: strict JSON."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True, slots=True)
class RunFolder:
    """Where one command writes its results."""

    path: Path

    @classmethod
    def create(cls, path: Path) -> RunFolder:
        """Make the folder (and ``figures/``); a file in the way is a DataError."""
        if path.exists() and not path.is_dir():
            raise DataError(f"{path}: exists and is not a folder; --out needs a folder")
        (path / "figures").mkdir(parents=True, exist_ok=True)
        return cls(path)

    def figure(self, name: str, fig: Figure) -> str:
        """Save ``fig`` as ``figures/<name>.png``; returns the path relative to the folder."""
        import matplotlib.pyplot as plt

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        rel = f"figures/{name}.png"
        with atomic_write(self.path / rel, mode="wb") as fh:
            fh.write(buf.getvalue())
        return rel

    def json(self, name: str, data: Any) -> Path:
        """Write ``data`` as strict JSON (NaN as null)."""
        target = self.path / name
        with atomic_write(target) as fh:
            json.dump(_clean(data), fh, indent=2, allow_nan=False)
            fh.write("\n")
        return target

    def config(self, config: RunConfig, comments: Mapping[str, str] | None = None) -> Path:
        """Write the resolved configuration as ``config.toml`` (with ``comments`` on keys)."""
        target = self.path / "config.toml"
        write_run_config(config, target, comments)
        return target
