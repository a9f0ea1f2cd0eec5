"""The FastAPI application: four pages (Compare, Search, Groups, Archive) and the JSON API.

Every route is a thin adapter: it checks the request, calls one ``Service`` method and
renders or returns its typed result. Templates and static files ship in this package;
nothing is loaded from elsewhere (FastAPI's interactive docs pages, which load their
scripts from a CDN, are turned off; ``/openapi.json`` stays).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ffmatch.archive.decisions import DECISIONS
from ffmatch.core.errors import DataError, FFMatchError
from ffmatch.matcher.verdict import VERDICT_WORDS
from ffmatch.web.guard import BodyLimit, TokenGuard, too_large_message
from ffmatch.web.service import (
    Comparison,
    NotFoundError,
    SearchResult,
    Service,
    data_uri,
    jpeg_thumbnail,
)
from ffmatch.web.uploads import Upload, public_message, save_upload

MAX_TOP = 50
T = TypeVar("T")


class DecisionIn(BaseModel):
    """``POST /api/decisions``: two archive photo ids and what a person decided about them."""

    a: str = Field(description="archive photo id (its path relative to the indexed folder)")
    b: str = Field(description="the other archive photo id")
    decision: str = Field(description="same, different or unsure")
    note: str | None = Field(default=None, description="free text kept with the decision")


class CompareOut(BaseModel):
    probability: float = Field(description="calibrated P(same person)")
    verdict: str = Field(description="same, inconclusive or different")
    reasons: list[str]
    evidence: str = Field(description="the evidence used: geometry, appearance or both")
    measurements: list[str] = Field(description="the telling measurements, in words")


class CandidateOut(BaseModel):
    photo: str
    face: int
    probability: float
    verdict: str
    person: str


class SearchOut(BaseModel):
    query_in_archive: str | None = Field(description="the query's archive id, if it holds it")
    candidates: list[CandidateOut]


class FaceOut(BaseModel):
    photo: str = Field(description="archive photo id")
    face: int = Field(description="face number in that photo, 1 = leftmost")
    person: str = Field(description="its known name, empty if none")


class WeakestOut(BaseModel):
    face: FaceOut = Field(description="the member least tied to the rest of its group")
    closest: FaceOut = Field(description="the member it is most alike")
    probability: float = Field(description="P(same) of that pair")


class GroupOut(BaseModel):
    number: int = Field(description="1 = the largest group")
    faces: list[FaceOut]
    weakest: WeakestOut | None = Field(description="null for a group of one")


class GroupsOut(BaseModel):
    evidence: str = Field(description="the evidence compared: geometry, appearance or both")
    threshold: float = Field(description="P(same) at which pairs were cut")
    conflicts: list[str] = Field(description="decisions or known names that contradict "
                                 "each other (not applied), in words")  # fmt: skip
    groups: list[GroupOut]


class DecisionOut(BaseModel):
    a: str
    b: str
    decision: str
    note: str
    who: str
    when: str


def create_app(
    db_path: str | os.PathLike[str],
    *,
    token: str | None = None,
    max_upload_mb: float = 20,
    workers: int = 2,
) -> FastAPI:
    """The page over the archive at ``db_path``; ``token`` required of every request if set.

    ``max_upload_mb`` bounds each uploaded photo (413 above it); ``workers`` bounds how many
    photos are measured at once (each holds a MediaPipe graph).
    """
    if max_upload_mb <= 0:
        raise DataError(f"max_upload_mb: expected a positive size in MB, found {max_upload_mb}")
    service = Service(db_path, workers=workers)
    max_bytes = int(max_upload_mb * 2**20)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(title="ffmatch", summary="Compare photos and search an archive of faces.",
                  version="1", docs_url=None, redoc_url=None, lifespan=lifespan)  # fmt: skip
    app.state.service = service
    web = resources.files("ffmatch.web")
    templates = Jinja2Templates(directory=str(web / "templates"))
    templates.env.globals["verdict_words"] = VERDICT_WORDS
    templates.env.globals["decisions"] = DECISIONS
    templates.env.filters["urlpath"] = lambda s: quote(str(s), safe="/")
    app.mount("/static", StaticFiles(packages=[("ffmatch.web", "static")]), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context = {"page": name.removesuffix(".html"), **context}
        return templates.TemplateResponse(request, name, context, status_code=status)

    async def on_photo_workers(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn`` on the service's photo threads (bounded), without blocking the server."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(service.photo_workers, partial(fn, *args, **kwargs))

    async def read_uploads(files: dict[str, UploadFile | None], folder: Path) -> list[Upload]:
        """Each named upload read (bounded), checked by Pillow and saved under ``folder``."""
        saved = []
        for field, up in files.items():
            if up is None or not (up.filename or up.size):
                raise DataError(f"{field}: no photo chosen")
            data = await up.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise HTTPException(413, too_large_message(max_upload_mb))
            saved.append(save_upload(data, filename=up.filename, field=field, folder=folder))
        return saved

    async def compare(a: UploadFile | None, b: UploadFile | None, *, pictures: bool) -> Comparison:
        with tempfile.TemporaryDirectory(prefix="ffmatch-web-") as tmp:
            ups = await read_uploads({"a": a, "b": b}, Path(tmp))
            try:
                return await on_photo_workers(service.compare, ups[0].path, ups[1].path,
                                              pictures=pictures)  # fmt: skip
            except FFMatchError as err:
                raise DataError(public_message(err, ups)) from None

    async def search(photo: UploadFile | None, top: int) -> tuple[SearchResult, bytes]:
        if not 1 <= top <= MAX_TOP:
            raise DataError(f"top: expected a number from 1 to {MAX_TOP}, found {top}")
        with tempfile.TemporaryDirectory(prefix="ffmatch-web-") as tmp:
            ups = await read_uploads({"photo": photo}, Path(tmp))
            try:
                result = await on_photo_workers(service.search, ups[0].path,
                                                 name=ups[0].name, top=top)  # fmt: skip
            except FFMatchError as err:
                raise DataError(public_message(err, ups)) from None
            return result, ups[0].path.read_bytes()

    # Errors: one line for people, JSON for scripts; never a stack trace. ----------------

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, err: NotFoundError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(err)}, status_code=404)
        return page(request, "error.html", 404, message=str(err))

    @app.exception_handler(FFMatchError)
    async def bad_input(request: Request, err: FFMatchError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(err)}, status_code=422)
        return page(request, "error.html", 422, message=str(err))

    # Pages --------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def compare_page(request: Request) -> Response:
        return page(request, "compare.html", result=None, error=None)

    @app.post("/compare", include_in_schema=False)
    async def compare_form(
        request: Request,
        a: Annotated[UploadFile | None, File()] = None,
        b: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        try:
            result = await compare(a, b, pictures=True)
        except FFMatchError as err:
            return page(request, "compare.html", 422, result=None, error=str(err))
        return page(request, "compare.html", result=result, error=None,
                    face_a=data_uri(result.face_a), face_b=data_uri(result.face_b),
                    figure=data_uri(result.figure))  # fmt: skip

    @app.get("/search", include_in_schema=False)
    async def search_page(request: Request, photo: str | None = None, top: int = 10) -> Response:
        if photo is None:
            return page(request, "search.html", result=None, error=None, query_image=None)
        if not 1 <= top <= MAX_TOP:
            raise DataError(f"top: expected a number from 1 to {MAX_TOP}, found {top}")
        result = await on_photo_workers(service.search_archived, photo, top=top)
        decided = [d for d in await run_in_threadpool(service.decisions) if photo in (d.a, d.b)]
        return page(request, "search.html", result=result, error=None, top=top,
                    decided=decided, query_image="/photos/" + quote(photo, safe="/"))  # fmt: skip

    @app.post("/search", include_in_schema=False)
    async def search_form(
        request: Request,
        photo: Annotated[UploadFile | None, File()] = None,
        top: Annotated[int, Form()] = 10,
    ) -> Response:
        try:
            result, data = await search(photo, top)
        except FFMatchError as err:
            return page(request, "search.html", 422, result=None, error=str(err),
                        query_image=None)  # fmt: skip
        if result.query_id is not None:  # an archive photo: show it at an address that reloads
            target = f"/search?photo={quote(result.query_id, safe='')}&top={top}"
            return RedirectResponse(target, status_code=303)
        return page(request, "search.html", result=result, error=None, top=top,
                    query_image=_image_uri(data))  # fmt: skip

    @app.post("/decisions", include_in_schema=False)
    async def decision_form(
        a: Annotated[str, Form()],
        b: Annotated[str, Form()],
        decision: Annotated[str, Form()],
        note: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "/groups",
    ) -> Response:
        await run_in_threadpool(service.decide, a, b, decision, note=note or None)
        # Only a path on this site: an absolute or scheme-relative address goes to /groups.
        safe = back if back.startswith("/") and not back.startswith("//") else "/groups"
        return RedirectResponse(safe, status_code=303)

    @app.get("/groups", include_in_schema=False)
    async def groups_page(request: Request) -> Response:
        result = await run_in_threadpool(service.groups)
        return page(request, "groups.html", groups=result.groups, conflicts=result.conflicts)

    @app.get("/archive", include_in_schema=False)
    async def archive_page(request: Request) -> Response:
        summary = await run_in_threadpool(service.summary)
        decisions = await run_in_threadpool(service.decisions)
        return page(request, "archive.html", summary=summary, decisions=decisions)

    # Files, by archive id only ------------------------------------------------------------

    @app.get("/photos/{photo_id:path}", include_in_schema=False)
    async def photo_file(photo_id: str) -> Response:
        path = await run_in_threadpool(service.photo_file, photo_id)
        return FileResponse(path)

    @app.get("/faces/{face}/{photo_id:path}", include_in_schema=False)
    async def face_file(face: int, photo_id: str) -> Response:
        data = await run_in_threadpool(service.face_jpeg, photo_id, face)
        return Response(data, media_type="image/jpeg")

    # JSON API -----------------------------------------------------------------------------

    @app.post("/api/compare", response_model=CompareOut, tags=["api"])
    async def api_compare(
        a: Annotated[UploadFile, File(description="the first photo")],
        b: Annotated[UploadFile, File(description="the second photo")],
    ) -> CompareOut:
        """Do two photos show the same person? P(same), the verdict and its reasons."""
        r = await compare(a, b, pictures=False)
        return CompareOut(probability=r.probability, verdict=r.verdict, reasons=list(r.reasons),
                          evidence=r.evidence, measurements=list(r.measurements))  # fmt: skip

    @app.post("/api/search", response_model=SearchOut, tags=["api"])
    async def api_search(
        photo: Annotated[UploadFile, File(description="the query photo")],
        top: Annotated[int, Form(description=f"shortlist length, 1 to {MAX_TOP}")] = 10,
    ) -> SearchOut:
        """The archive's faces most likely to show the person in ``photo``, best first."""
        result, _ = await search(photo, top)
        return SearchOut(
            query_in_archive=result.query_id,
            candidates=[CandidateOut(photo=c.photo, face=c.face, probability=c.probability,
                                     verdict=c.verdict, person=c.person)
                        for c in result.candidates],
        )  # fmt: skip

    @app.post("/api/decisions", status_code=201, response_model=DecisionOut, tags=["api"])
    async def api_decide(body: DecisionIn) -> DecisionOut:
        """Record that photos ``a`` and ``b`` show the same person, different people, or unsure."""
        d = await run_in_threadpool(service.decide, body.a, body.b, body.decision,
                                    note=body.note)  # fmt: skip
        return DecisionOut(**asdict(d))

    @app.get("/api/groups", response_model=GroupsOut, tags=["api"])
    async def api_groups() -> GroupsOut:
        """The archive's likely-same-person groups, largest first, honouring every decision."""
        r = await run_in_threadpool(service.groups)
        return GroupsOut(
            evidence=r.evidence, threshold=r.threshold, conflicts=list(r.conflicts),
            groups=[GroupOut(number=g.number, faces=[FaceOut(**asdict(f)) for f in g.faces],
                             weakest=None if g.weakest is None else WeakestOut(
                                 face=FaceOut(**asdict(g.weakest[0])),
                                 closest=FaceOut(**asdict(g.weakest[1])),
                                 probability=g.weakest[2]))
                    for g in r.groups],
        )  # fmt: skip

    @app.get("/api/decisions", response_model=list[DecisionOut], tags=["api"])
    async def api_decisions() -> list[DecisionOut]:
        """Every decision recorded in the archive, oldest first."""
        return [DecisionOut(**asdict(d)) for d in await run_in_threadpool(service.decisions)]

    # Each add wraps the ones before: the token is checked before the body is read. A
    # request may carry two photos (compare), each up to the limit, and its form fields.
    app.add_middleware(BodyLimit, max_bytes=2 * max_bytes + 2**20, per_photo_mb=max_upload_mb)
    app.add_middleware(TokenGuard, token=token)
    return app


def _image_uri(data: bytes) -> str:
    """A small JPEG copy of an uploaded photo as a ``data:`` URI (shown beside candidates)."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return data_uri(jpeg_thumbnail(im, 480))
