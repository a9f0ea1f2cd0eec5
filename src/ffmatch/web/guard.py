"""Two ASGI guards in front of the page: the access token and the upload size limit.

Written as plain ASGI wrappers (a few lines each) rather than Starlette's
``BaseHTTPMiddleware`` so that an over-long body is refused while it streams in, before
the multipart parser spools it to disk.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "ffmatch_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


class TokenGuard:
    """401 for requests that do not carry ``token`` (header, cookie or ``?token=``).

    A browser opens ``http://host:port/?token=...`` once; the answer sets a cookie so the
    links and forms of the page work without the token in every address. Without a token
    the page is for this machine only: requests naming another host (a DNS-rebinding page)
    or posting from another origin are refused.
    """

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin and scope["method"] not in ("GET", "HEAD") and urlsplit(origin).netloc != host:
            await _plain(send, 403, "403: requests from other sites are refused")
            return
        if self.token is None:
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if host and name not in (*LOOPBACK_HOSTS, "testserver"):
                await _plain(send, 403, f"403: this page answers on 127.0.0.1 only, not {name}")
                return
            await self.app(scope, receive, send)
            return
        given = self._given(scope, headers)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            await _plain(send, 401, "401: this page needs its token: open the address that "
                         "'ffmatch serve' printed (it ends in ?token=...)")  # fmt: skip
            return
        set_cookie = (f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict").encode()

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", set_cookie)]}  # fmt: skip
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    def _given(scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return str(query["token"][0])
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except CookieError:  # a malformed cookie header carries no token
            return None
        morsel = cookie.get(TOKEN_COOKIE)
        return None if morsel is None else str(morsel.value)


class _TooLargeError(Exception):
    """The request body passed the limit while streaming in."""


class BodyLimit:
    """413 for a body over ``max_bytes``, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, per_photo_mb: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_photo_mb = per_photo_mb  # for the message: the limit users set and know

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _headers(scope).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        state = {"received": 0, "over": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["over"] = True
                    raise _TooLargeError
            return message

        async def tracked(message: Message) -> None:
            if state["over"]:  # whatever the parser made of the cut body, the answer is 413
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await self._refuse(send)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLargeError:
            if not state["started"]:
                await self._refuse(send)

    def _refuse(self, send: Send) -> Awaitable[None]:
        return _plain(send, 413, too_large_message(self.per_photo_mb))


def too_large_message(per_photo_mb: float) -> str:
    return f"413: photo too large (the limit is {per_photo_mb:g} MB a photo)"
