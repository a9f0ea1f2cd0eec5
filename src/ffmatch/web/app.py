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

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
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
    rank: int = Field(description="1 = the most likely, over the whole ranking")
    evidence: str = Field(description="what its verdict used: geometry, appearance or both")


class SearchOut(BaseModel):
    query_in_archive: str | None = Field(description="the query's archive id, if it holds it")
    total: int = Field(description="candidates in the whole ranking")
    offset: int = Field(description="best candidates skipped before these")
    limit: int = Field(description="at most this many candidates in this answer")
    next_offset: int | None = Field(description="the offset of the next page; null on the last")
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

    async def search(
        photo: UploadFile | None, top: int, offset: int = 0, *, hold: bool
    ) -> SearchResult:
        with tempfile.TemporaryDirectory(prefix="ffmatch-web-") as tmp:
            ups = await read_uploads({"photo": photo}, Path(tmp))
            try:
                return await on_photo_workers(service.search, ups[0].path, name=ups[0].name,
                                              top=top, offset=offset, hold=hold)  # fmt: skip
            except FFMatchError as err:
                raise DataError(public_message(err, ups)) from None

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

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, err: RequestValidationError) -> Response:
        """FastAPI's own checks (a number that is not one, a missing field), in one line."""
        return await bad_input(request, DataError(validation_message(err)))

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
                    photo_a=data_uri(result.photo_a), photo_b=data_uri(result.photo_b),
                    figure=data_uri(result.figure))  # fmt: skip

    def search_results(request: Request, result: SearchResult, decided: list[Any]) -> Response:
        """The Search page showing one page of ``result``'s ranking."""
        if result.query_key is not None:
            held = f"/uploads/{result.query_key}"
            query = {"crop": f"{held}/face.jpg", "photo": f"{held}/photo.jpg"}
        else:
            assert result.query_id is not None  # an archive photo, or a held upload
            photo = quote(result.query_id, safe="/")
            query = {"crop": f"/faces/{result.query_face}/{photo}", "photo": f"/photos/{photo}"}
        return page(request, "search.html", result=result, error=None, decided=decided,
                    top=result.top, query=query, here=search_address(result, result.page),
                    previous=search_address(result, result.page - 1) if result.page > 1 else None,
                    next=search_address(result, result.page + 1)
                    if result.page < result.pages else None)  # fmt: skip

    @app.get("/search", include_in_schema=False)
    async def search_page(
        request: Request,
        photo: str | None = None,
        upload: str | None = None,
        top: int = 10,
        page_number: Annotated[int, Query(alias="page")] = 1,
    ) -> Response:
        if photo is None and upload is None:
            return page(request, "search.html", result=None, error=None)
        check_top(top, "top")
        if page_number < 1:
            raise DataError(f"page: expected a page number from 1, found {page_number}")
        offset = (page_number - 1) * top
        if photo is not None:
            result = await on_photo_workers(service.search_archived, photo, top=top,
                                            offset=offset)  # fmt: skip
            decided = [d for d in await run_in_threadpool(service.decisions)
                       if photo in (d.a, d.b)]  # fmt: skip
        else:
            assert upload is not None
            result = await on_photo_workers(service.search_held, upload, top=top, offset=offset)
            decided = []
        return search_results(request, result, decided)

    @app.post("/search", include_in_schema=False)
    async def search_form(
        request: Request,
        photo: Annotated[UploadFile | None, File()] = None,
        top: Annotated[int, Form()] = 10,
    ) -> Response:
        try:
            check_top(top, "top")
            result = await search(photo, top, hold=True)
        except FFMatchError as err:
            return page(request, "search.html", 422, result=None, error=str(err))
        # Either way the shortlist moves to an address that reloads and pages.
        return RedirectResponse(search_address(result, 1), status_code=303)

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
        return page(request, "groups.html", groups=result.groups, conflicts=result.conflicts,
                    threshold=result.threshold, evidence=result.evidence)  # fmt: skip

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

    @app.get("/uploads/{key}/{which}", include_in_schema=False)
    async def held_file(key: str, which: str) -> Response:
        """The searched face or the small copy of an upload the page holds (Search)."""
        data = await run_in_threadpool(service.held_jpeg, key, which.removesuffix(".jpg"))
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
        limit: Annotated[
            int | None, Form(description=f"candidates in this answer, 1 to {MAX_TOP} (default 10)")
        ] = None,
        offset: Annotated[
            int,
            Form(description="best candidates to skip, 0 or more (the next page: offset + limit)"),
        ] = 0,
        top: Annotated[int | None, Form(description="the former name of limit")] = None,
    ) -> SearchOut:
        """The archive's faces most likely to show the person in ``photo``, best first: ranks
        ``offset + 1`` to ``offset + limit`` of ``total``."""
        if limit is not None and top is not None and limit != top:
            raise DataError(f"limit {limit} and top {top}: top is the former name of limit; "
                            "give one of them")  # fmt: skip
        size = limit if limit is not None else top if top is not None else 10
        check_top(size, "limit" if limit is not None or top is None else "top")
        if offset < 0:
            raise DataError(f"offset: expected 0 or more, found {offset}")
        result = await search(photo, size, offset, hold=False)
        return SearchOut(
            query_in_archive=result.query_id,
            total=result.total,
            offset=result.offset,
            limit=result.top,
            next_offset=result.offset + result.top
            if result.offset + result.top < result.total else None,
            candidates=[CandidateOut(photo=c.photo, face=c.face, probability=c.probability,
                                     verdict=c.verdict, person=c.person, rank=c.rank,
                                     evidence=c.evidence)
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


def check_top(n: int, name: str) -> None:
    """Shortlist pages hold 1 to ``MAX_TOP`` candidates."""
    if not 1 <= n <= MAX_TOP:
        raise DataError(f"{name}: expected a number from 1 to {MAX_TOP}, found {n}")


def search_address(result: SearchResult, page: int) -> str:
    """The address of page ``page`` of ``result``'s ranking (by archive id or held upload)."""
    which = (f"photo={quote(result.query_id, safe='')}" if result.query_id is not None
             else f"upload={result.query_key}")  # fmt: skip
    return f"/search?{which}&top={result.top}&page={page}"


def validation_message(err: RequestValidationError) -> str:
    """The first of FastAPI's validation errors as one line: the field, what it expects."""
    first = err.errors()[0]
    if first.get("type") == "json_invalid":
        return "request body: not valid JSON"
    field = str(first["loc"][-1]) if first.get("loc") else "request"
    if first.get("type") == "missing":
        return f"{field}: missing (a required field)"
    if first.get("type") == "int_parsing":
        return f"{field}: expected a whole number, found {first.get('input')!r}"
    return f"{field}: {str(first.get('msg', 'not valid')).lower()}"
