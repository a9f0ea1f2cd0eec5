"""What the web page shows, as typed results, computed by the matcher and the archive.

The page is a thin adapter: each route calls one method here, and every method calls the
library (``ffmatch.matcher`` for Compare, ``ffmatch.archive`` for the rest). Nothing here
scores faces or writes the database by itself.
"""

from __future__ import annotations

import base64
import io
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ffmatch import archive
from ffmatch.archive.decisions import DECISIONS
from ffmatch.core.errors import DataError
from ffmatch.matcher.verdict import VERDICT_WORDS

if TYPE_CHECKING:
    from ffmatch.matcher.photos.extract import FaceMeshExtractor
    from ffmatch.matcher.verdict import FusionModel, Verdict


QUERIES_HELD = 32  # uploaded queries kept measured for paging (a few kB of faces and two JPEGs)


class NotFoundError(DataError, LookupError):
    """A photo or face id the archive does not hold (the page answers 404)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    """Two photos compared: what ``POST /api/compare`` returns and the Compare page shows."""

    probability: float
    verdict: Verdict
    reasons: tuple[str, ...]
    evidence: str  # which evidence decided: geometry, appearance or both
    measurements: tuple[str, ...]  # the telling measurements, in words
    face_a: bytes = b""  # JPEG: the face of photo a, cropped, with its markers (empty when
    face_b: bytes = b""  # pictures were not asked)
    photo_a: bytes = b""  # JPEG: the whole photo a with its markers (a smaller copy)
    photo_b: bytes = b""
    figure: bytes = b""  # PNG: the evidence figure

    @property
    def words(self) -> str:
        return VERDICT_WORDS[self.verdict]


def data_uri(data: bytes) -> str:
    """A JPEG or PNG as a ``data:`` URI, so a result page needs no temporary files on the server."""
    kind = "png" if data.startswith(b"\x89PNG") else "jpeg"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def jpeg_thumbnail(image: Any, side: int = 640) -> bytes:
    """A Pillow image shrunk to at most ``side`` pixels, as JPEG bytes (a page, not an archive)."""
    image.thumbnail((side, side))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=85)
    return buf.getvalue()


_local = threading.local()  # one MediaPipe extractor per photo worker thread


def _extractor() -> FaceMeshExtractor:
    """This thread's extractor (3 s to open and not thread-safe, so one per worker thread)."""
    from ffmatch.matcher.photos.extract import FaceMeshExtractor

    ex: FaceMeshExtractor | None = getattr(_local, "extractor", None)
    if ex is None:
        ex = _local.extractor = FaceMeshExtractor()
    return ex


class Service:
    """The archive database at ``db_path`` and the photo matcher, for one running page."""

    def __init__(self, db_path: str | os.PathLike[str], *, workers: int = 2) -> None:
        self.db_path = Path(db_path)
        # Photos are measured (MediaPipe, dlib) only on these threads: however many requests
        # arrive, at most ``workers`` photos are measured at once, and each of these threads
        # keeps its extractor open (the archive's search keeps its own per thread as well).
        self.photo_workers = ThreadPoolExecutor(workers, thread_name_prefix="ffmatch-photos")
        self._model: FusionModel | None = None
        self._model_lock = threading.Lock()
        self._held: OrderedDict[str, HeldQuery] = OrderedDict()  # sha256 -> query, oldest first
        self._held_lock = threading.Lock()

    def close(self) -> None:
        self.photo_workers.shutdown(wait=False, cancel_futures=True)

    def _fusion(self) -> FusionModel:
        """The shipped calibrated model, loaded once for the page's lifetime."""
        with self._model_lock:
            if self._model is None:
                from ffmatch.matcher.verdict import load_fusion_model

                self._model = load_fusion_model()
            return self._model

    def compare(self, path_a: Path, path_b: Path, *, pictures: bool) -> Comparison:
        """Compare two photo files with ``ffmatch.matcher.verdict`` (as ``ffmatch match``);
        DataError (one line) when a photo has no usable face."""
        from ffmatch.matcher.photos.extract import extract_photos
        from ffmatch.matcher.verdict import compare_extractions

        # compare_photos would extract the photos itself; extracting here keeps them for the
        # pictures, on this thread's open extractor.
        x, y = extract_photos([path_a, path_b], _extractor())
        for e in (x, y):
            if not e.ok:
                raise DataError(f"{e.source}: {e.error}")
        v = compare_extractions(x, y, model=self._fusion())
        low, high = v.bands
        reasons = (*v.reasons, *v.notes) or (
            f"P = {v.probability:.2f}: "
            + ("at or above the 'same person' band" if v.verdict == "same" else
               "at or below the 'different people' band" if v.verdict == "different" else
               "between the bands")
            + f" (different at or below {low:.2f}, same at or above {high:.2f})",
        )  # fmt: skip
        measurements = tuple(
            f"{m.words} [{m.code}] {kind}: {m.value_x:.2f} vs {m.value_y:.2f} eye widths, "
            f"{m.score:.1f}x an ordinary gap for one person"
            for kind, items in (("differs", v.differing(3)), ("agrees", v.agreeing(3)))
            for m in items
        )
        face_a = face_b = photo_a = photo_b = figure = b""
        if pictures:
            from ffmatch.matcher.photos.figure import verdict_figure
            from ffmatch.matcher.photos.image import read_photo
            from ffmatch.matcher.photos.overlay import overlay

            rgb_a, rgb_b = read_photo(path_a), read_photo(path_b)
            marked_a, marked_b = overlay(rgb_a, x), overlay(rgb_b, y)
            photo_a, photo_b = jpeg_thumbnail(marked_a.copy()), jpeg_thumbnail(marked_b.copy())
            face_a, face_b = (_face_crop(m, rgb, e) for m, rgb, e in
                              ((marked_a, rgb_a, x), (marked_b, rgb_b, y)))  # fmt: skip
            buf = io.BytesIO()
            verdict_figure(v, x, y, rgb_a, rgb_b).savefig(buf, format="png", dpi=80)
            figure = buf.getvalue()
        return Comparison(probability=v.probability, verdict=v.verdict, reasons=reasons,
                          evidence=v.evidence, measurements=measurements, face_a=face_a,
                          face_b=face_b, photo_a=photo_a, photo_b=photo_b,
                          figure=figure)  # fmt: skip

    # The archive (ffmatch.archive) -------------------------------------------------------

    def search(
        self, path: Path, *, name: str, top: int, offset: int = 0, hold: bool = False
    ) -> SearchResult:
        """A page of the archive's ranking for the photo at ``path`` (``name``: the user's
        name for it). With ``hold``, a photo the archive does not hold is kept measured (its
        faces, a crop and a small copy; never the file) under ``query_key``, so the page's
        Previous and Next links can ask for its other pages."""
        query = archive.read_query(self.db_path, path)
        result = self._ranked(query, name=name, top=top, offset=offset)
        if not hold or query.in_archive:
            return result
        held = HeldQuery(name=name, query=query, crop=archive.crop_jpeg(path, result.query_box),
                         photo=_photo_jpeg(path))  # fmt: skip
        with self._held_lock:
            self._held[query.sha256] = held
            self._held.move_to_end(query.sha256)
            while len(self._held) > QUERIES_HELD:
                self._held.popitem(last=False)
        return self._with_held(result, query.sha256, held)

    def _held_query(self, key: str) -> HeldQuery:
        """The upload held under ``key``; NotFoundError once it has been let go (the page keeps
        the last ``QUERIES_HELD``, and none across restarts)."""
        with self._held_lock:
            held = self._held.get(key)
        if held is None:
            raise NotFoundError(
                "this uploaded photo is no longer held by the page (it keeps the last "
                f"{QUERIES_HELD} searched until it stops): search with it again"
            )
        return held

    def held_jpeg(self, key: str, which: str) -> bytes:
        """The searched face (``face``) or the small copy (``photo``) of a held upload."""
        held = self._held_query(key)
        if which not in ("face", "photo"):
            raise NotFoundError(f"no {which!r} of an uploaded photo")
        return held.crop if which == "face" else held.photo

    def search_held(self, key: str, *, top: int, offset: int) -> SearchResult:
        """Another page for an uploaded photo held by ``search``."""
        held = self._held_query(key)
        result = self._ranked(held.query, name=held.name, top=top, offset=offset)
        return self._with_held(result, key, held)

    def search_archived(self, photo_id: str, *, top: int, offset: int = 0) -> SearchResult:
        """A page of the ranking for a photo the archive holds (so decisions can name it)."""
        return self.search(self.photo_file(photo_id), name=photo_id, top=top, offset=offset)

    def _ranked(self, query: archive.Query, *, name: str, top: int, offset: int) -> SearchResult:
        shortlist = archive.search_query(self.db_path, query, top=top, offset=offset)
        if shortlist.error:
            raise DataError(f"{name}: {shortlist.error}")
        return SearchResult(
            query_name=name,
            query_id=shortlist.query_photo,
            query_face=shortlist.query_face,
            query_box=shortlist.query_box,
            candidates=tuple(
                CandidateView(photo=c.photo, face=c.face, probability=c.probability,
                              verdict=c.verdict, person=c.person, reasons=tuple(c.reasons),
                              rank=c.rank, evidence=c.evidence)
                for c in shortlist.candidates
            ),
            top=top,
            offset=offset,
            total=shortlist.total,
        )  # fmt: skip

    @staticmethod
    def _with_held(result: SearchResult, key: str, held: HeldQuery) -> SearchResult:
        return replace(result, query_key=key, query_crop=held.crop, query_photo=held.photo)

    def decide(self, a: str, b: str, decision: str, *, note: str | None) -> DecisionView:
        """Record a decision about photos ``a`` and ``b`` (in one transaction, by the archive)."""
        if decision not in DECISIONS:
            raise DataError(f"decision: expected one of {', '.join(DECISIONS)}, found {decision!r}")
        for photo in (a, b):
            self.photo_file(photo)  # NotFoundError unless the archive holds it
        d = archive.record_decision(self.db_path, a, b, decision, note=note, who="web page")
        return _decision_view(d)

    def decisions(self) -> list[DecisionView]:
        return [_decision_view(d) for d in archive.list_decisions(self.db_path)]

    def groups(self) -> Groups:
        """Likely-same-person groups, largest first, each with its weakest link; decisions
        that contradict each other or known names, in words."""
        grouping = archive.group(self.db_path)
        out = []
        for g in grouping.groups:
            faces = tuple(_face(m) for m in g.members)
            weak = None
            if g.weakest is not None:  # the member least tied to the rest, its closest one
                a, b, p = g.weakest
                weak = (_face(a), _face(b), float(p))
            out.append(GroupView(number=g.number, faces=faces, weakest=weak))
        return Groups(groups=tuple(out), conflicts=grouping.conflicts,
                      threshold=grouping.threshold, evidence=grouping.evidence)  # fmt: skip

    def summary(self) -> SummaryView:
        s = archive.archive_summary(self.db_path)
        return SummaryView(
            counts=tuple(s.counts.items()),
            failed=tuple((f.photo, f.reason) for f in s.failed),
            indexed_at=s.indexed_at,
            photo_dir=s.photo_dir,
        )

    def photo_file(self, photo_id: str) -> Path:
        """The file of archive photo ``photo_id``; NotFoundError unless the archive holds it."""
        try:
            return Path(archive.photo_path(self.db_path, photo_id))
        except DataError:
            raise NotFoundError(f"no photo {photo_id!r} in the archive") from None

    def face_jpeg(self, photo_id: str, face: int) -> bytes:
        """The JPEG crop of face ``face`` (1 = leftmost) of archive photo ``photo_id``."""
        try:
            return bytes(archive.face_crop(self.db_path, photo_id, face))
        except DataError:
            raise NotFoundError(f"no face {face} of photo {photo_id!r} in the archive") from None


FACE_SIDE = 320  # px: a compared face, cropped with its markers (their labels stay legible)


def _face_crop(marked: Any, rgb: Any, extraction: Any) -> bytes:
    """The chosen face of ``extraction`` cut from ``marked`` (its photo ``rgb`` with the
    markers drawn, perhaps enlarged), as JPEG bytes."""
    from ffmatch.archive.photos import crop_face

    zoom = marked.width / rgb.shape[1]  # overlay enlarges small photos by a whole factor
    return jpeg_thumbnail(crop_face(marked, extraction.face.box, zoom=zoom), FACE_SIDE)


def _photo_jpeg(path: Path) -> bytes:
    """A small JPEG copy of an uploaded photo (the whole photo, shown one click from its crop)."""
    from PIL import Image

    from ffmatch.matcher.photos.image import read_photo

    # read_photo, as the crop does: EXIF orientation applied, so photo and crop agree.
    return jpeg_thumbnail(Image.fromarray(read_photo(path)), 480)


def _face(m: Any) -> GroupFace:
    return GroupFace(photo=m.photo, face=m.face, person=m.person)


def _decision_view(d: Any) -> DecisionView:
    return DecisionView(a=d.a, b=d.b, decision=d.decision, note=d.note, who=d.who,
                        when=d.decided_at)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class CandidateView:
    """One face of the shortlist: archive photo id, face number, verdict and known name."""

    photo: str
    face: int
    probability: float
    verdict: Verdict
    person: str
    reasons: tuple[str, ...] = ()
    rank: int = 0  # 1 = most likely the same person, over the whole ranking
    evidence: str = ""  # what was compared: geometry, appearance or both

    @property
    def words(self) -> str:
        return VERDICT_WORDS[self.verdict]


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchResult:
    """One page of the ranking for a query photo: ``candidates`` are ranks ``offset + 1`` to
    ``offset + top`` of ``total``. ``query_id`` is set when the archive holds the photo,
    ``query_key`` (with the query's crop and small copy) when the page holds an upload."""

    query_name: str
    query_id: str | None
    candidates: tuple[CandidateView, ...]
    query_face: int = 1  # which face of the query was searched (1 = leftmost)
    query_box: tuple[float, ...] = ()  # its box in the query photo (left, top, right, bottom)
    top: int = 10
    offset: int = 0
    total: int = 0
    query_key: str | None = None
    query_crop: bytes = b""  # JPEG of the searched face of a held upload
    query_photo: bytes = b""  # small JPEG of a held upload, whole

    @property
    def page(self) -> int:
        """This page's number, 1 = the best ``top``."""
        return self.offset // self.top + 1

    @property
    def pages(self) -> int:
        """How many pages the whole ranking fills (at least 1)."""
        return max(1, -(-self.total // self.top))


@dataclass(frozen=True, kw_only=True, slots=True)
class HeldQuery:
    """An uploaded query kept measured for its other pages (never the file itself)."""

    name: str
    query: archive.Query
    crop: bytes  # JPEG of the searched face
    photo: bytes  # small JPEG of the whole photo


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionView:
    """A person's decision about two archive photos."""

    a: str
    b: str
    decision: str
    note: str
    who: str
    when: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupFace:
    photo: str
    face: int
    person: str


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupView:
    """One likely-same-person group; ``weakest``: the member least tied to the rest, the
    member it is most alike, and that pair's P(same)."""

    number: int
    faces: tuple[GroupFace, ...]
    weakest: tuple[GroupFace, GroupFace, float] | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Groups:
    """The Groups page: every face in one group, and the constraints that could not be met."""

    groups: tuple[GroupView, ...]
    conflicts: tuple[str, ...]  # decisions or names contradicting each other, in words
    threshold: float  # P(same) at which pairs were cut
    evidence: str  # geometry, appearance or both


@dataclass(frozen=True, kw_only=True, slots=True)
class SummaryView:
    """The Archive page: counts, failed photos with their reasons, when it was indexed."""

    counts: tuple[tuple[str, int], ...]
    failed: tuple[tuple[str, str], ...]  # (photo id, why)
    indexed_at: str
    photo_dir: str
