"""Grouping: SciPy's average linkage, cut at the band, with must-link and cannot-link."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage

from ffmatch.archive import group, record_decision
from ffmatch.archive.group import cluster_bank, constrained_average_linkage
from ffmatch.archive.store import bank_from_arrays
from ffmatch.core.errors import DataError

from .conftest import BASE, DescriptorScorer


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((np.equal.outer(a, a) == np.equal.outer(b, b)).all())


def test_without_constraints_it_is_scipys_average_linkage() -> None:
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(c, 0.3, (6, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    prob = np.clip(1 - d / d.max(), 0, 1)
    ids, conflicts = constrained_average_linkage(prob, 0.7, labels=[""] * len(pts))
    iu = np.triu_indices(len(pts), 1)
    ref = fcluster(linkage((1 - prob)[iu], "average"), t=0.3, criterion="distance")
    assert _same_partition(ids, ref)
    assert conflicts == []
    assert len(set(ids)) == 3


def test_must_link_joins_and_cannot_link_splits() -> None:
    prob = np.array(
        [[1, 0.9, 0.1, 0.1], [0.9, 1, 0.1, 0.1], [0.1, 0.1, 1, 0.2], [0.1, 0.1, 0.2, 1]]
    )
    ids, _ = constrained_average_linkage(prob, 0.5, labels=[""] * 4)
    assert _same_partition(ids, np.array([0, 0, 1, 2]))
    ids, _ = constrained_average_linkage(prob, 0.5, labels=[""] * 4, must=[(2, 3)])
    assert _same_partition(ids, np.array([0, 0, 1, 1]))
    ids, _ = constrained_average_linkage(prob, 0.5, labels=[""] * 4, cannot=[(0, 1)])
    assert len(set(ids)) == 4
    ids, _ = constrained_average_linkage(prob, 0.5, labels=["x", "y", "", ""])
    assert ids[0] != ids[1]


def test_contradicting_constraints_are_reported() -> None:
    prob = np.full((2, 2), 0.9)
    ids, conflicts = constrained_average_linkage(
        prob, 0.5, labels=["", ""], must=[(0, 1)], cannot=[(0, 1)]
    )
    assert ids[0] != ids[1]
    assert conflicts == [[0, 1]]


def test_a_must_link_joins_the_two_clusters_whole() -> None:
    """A "same" decision about 0 and 2 says their groups show one person: all four join (two
    faces alone pulled together would leave 1 and 3, far from the other pair, on their own)."""
    near, far = 0.95, 0.05
    prob = np.array(
        [[1, near, far, far], [near, 1, far, far], [far, far, 1, near], [far, far, near, 1]]
    )
    ids, conflicts = constrained_average_linkage(prob, 0.6, labels=[""] * 4, must=[(0, 2)])
    assert len(set(ids)) == 1
    assert conflicts == []


def test_a_contradicting_must_link_is_left_out_and_tears_nothing_apart() -> None:
    near, far = 0.95, 0.05
    prob = np.array([[1, near, far], [near, 1, far], [far, far, 1]])
    ids, conflicts = constrained_average_linkage(
        prob, 0.6, labels=["x", "x", "y"], must=[(0, 1), (1, 2)]
    )
    assert _same_partition(ids, np.array([0, 0, 1]))  # x stays whole, y apart
    assert conflicts == [[0, 1, 2]]


def _bank(people: list[str], scale: float = 0.05) -> tuple[object, DescriptorScorer]:
    rng = np.random.default_rng(1)
    centres = {p: rng.standard_normal(128) for p in sorted(set(people))}
    desc = np.array([centres[p] + scale * rng.standard_normal(128) for p in people])
    bank = bank_from_arrays(
        photo=[f"{p}{k}" for k, p in enumerate(people)],
        face=[1] * len(people),
        markers=np.broadcast_to(BASE, (len(people), 14, 2)),
        descriptor=desc,
    )
    return bank, DescriptorScorer()


def test_groups_are_largest_first_with_the_weakest_link_marked() -> None:
    bank, scorer = _bank(["a", "a", "a", "b", "b", "c"])
    g = cluster_bank(bank, scorer)  # type: ignore[arg-type]
    assert [grp.size for grp in g.groups] == [3, 2, 1]
    assert [m.photo for m in g.groups[0].members] == ["a0", "a1", "a2"]
    weakest = g.groups[0].weakest
    assert weakest is not None
    least, partner, p = weakest
    assert least.link == min(m.link for m in g.groups[0].members)
    assert partner != least
    assert partner in g.groups[0].members
    assert least.link <= p <= 1.0
    assert g.groups[2].weakest is None
    assert np.isnan(g.groups[2].members[0].link)
    assert (g.method, g.faces) == ("exact", 6)


def test_the_approximate_graph_gives_the_exact_groups() -> None:
    pytest.importorskip("faiss")
    bank, scorer = _bank([p for p in "abcdefgh" for _ in range(5)])
    exact = cluster_bank(bank, scorer, approximate=False)  # type: ignore[arg-type]
    approx = cluster_bank(bank, scorer, approximate=True)  # type: ignore[arg-type]
    assert approx.method == "approximate"
    assert [[m.photo for m in g.members] for g in approx.groups] == [
        [m.photo for m in g.members] for g in exact.groups
    ]


def test_decisions_and_faces_of_one_photo_constrain_the_archive(
    small_archive: tuple[Path, Path], scorer: DescriptorScorer
) -> None:
    _, db = small_archive
    before = group(db, scorer=scorer)
    ann = next(g for g in before.groups if any(m.photo == "ann/0.jpg" for m in g.members))
    assert {m.photo for m in ann.members} == {
        "ann/0.jpg",
        "ann/1.jpg",
        "ann/2.jpg",
        "group/ann-and-bob.jpg",
    }
    bob = next(g for g in before.groups if any(m.photo == "bob/0.jpg" for m in g.members))
    assert ("group/ann-and-bob.jpg", 2) in {(m.photo, m.face) for m in bob.members}
    record_decision(db, "ann/0.jpg", "ann/1.jpg", "different", who="t")
    record_decision(db, "cy/0.jpg", "bob/0.jpg", "same", who="t")
    after = group(db, scorer=scorer)
    where = {(m.photo, m.face): g.number for g in after.groups for m in g.members}
    assert where[("ann/0.jpg", 1)] != where[("ann/1.jpg", 1)]
    assert where[("cy/0.jpg", 1)] == where[("bob/0.jpg", 1)]
    assert after.faces == before.faces == 11


def test_a_failed_contact_sheet_keeps_the_earlier_group_list(
    small_archive: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ffmatch.cli.app import run

    _, db = small_archive
    out, sheet = tmp_path / "groups.csv", tmp_path / "groups.html"
    out.write_text("earlier groups")

    def broken(*args: object, **kwargs: object) -> None:
        raise DataError("the sheet could not be drawn")

    monkeypatch.setattr("ffmatch.archive.sheets.groups_html", broken)
    args = ["group", "--db", str(db), "--evidence", "geometry", "--out", str(out)]
    assert run([*args, "--html", str(sheet)]) == 2
    assert "the sheet could not be drawn" in capsys.readouterr().err
    assert out.read_text() == "earlier groups"
    assert not sheet.exists()
    assert run(args) == 0
    assert out.read_text().startswith("photo,face,group,person")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging
