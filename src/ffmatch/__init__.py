"""ffmatch: decide whether two photos show the same person from 14 facial feature markers.

``ffmatch.FFMatchClassifier`` is the scikit-learn classifier over the batched trainer; it is
imported on first use, so ``import ffmatch`` (and the CLI's start-up) does not load PyTorch.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["FFMatchClassifier", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "FFMatchClassifier":
        from ffmatch.paper.estimator import FFMatchClassifier

        return FFMatchClassifier
    raise AttributeError(f"module 'ffmatch' has no attribute {name!r}")
