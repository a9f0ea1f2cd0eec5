"""The PLDA fit behind ``ffmatch train`` and the benchmark's ``plda`` and ``plda_pose``."""

from __future__ import annotations

import numpy as np
import pytest

from ffmatch.core.errors import DataError
from ffmatch.core.io.muct import muct_camera
from ffmatch.core.table import PhotoTable
from ffmatch.matcher.train import fit_plda

PLAIN = {"mean", "between", "within"}
MIXTURE = PLAIN | {"offsets", "log_prior"}


def test_two_poses_give_the_mixture_and_one_pose_the_plain_model(muct_small: PhotoTable) -> None:
    cameras = muct_camera(muct_small.photo_id)
    mixture = fit_plda(muct_small, poses=cameras, n_iter=3)
    assert set(mixture.params) == MIXTURE
    assert mixture.poses == sorted(set(cameras[np.isfinite(muct_small.coords).all(axis=(1, 2))]))
    plain = fit_plda(muct_small, n_iter=3)
    assert set(plain.params) == PLAIN
    assert plain.poses == ["all"]
    one = np.full(len(muct_small), "a")
    assert set(fit_plda(muct_small, poses=one, n_iter=3).params) == PLAIN
    assert set(fit_plda(muct_small, poses=one, always_mixture=True, n_iter=3).params) == MIXTURE
    assert plain.n_photos == mixture.n_photos < len(muct_small)  # side views lack a marker


def test_poses_must_name_one_pose_per_photo(muct_small: PhotoTable) -> None:
    expected = r"poses: expected one pose per photo \(360\), found \(2,\)"
    with pytest.raises(DataError, match=expected):
        fit_plda(muct_small, poses=["a", "b"], n_iter=1)
