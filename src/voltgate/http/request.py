"""The request as the router's handlers see it: read straight from the ASGI scope, no
framework Request object, the body read once and bounded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltgate.errors import InvalidRequest, PayloadTooLarge


class RawRequest:
    """The little of a request a handler needs; `params` are the path's parameters."""

    __slots__ = ("_body", "_receive", "params", "scope")

    def __init__(
        self, scope: Scope, receive: Receive, params: Mapping[str, str] | None = None
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self.params: Mapping[str, str] = params or {}

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    @property
    def address(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    @property
    def request_id(self) -> str | None:
        value = self.scope.get("state", {}).get("request_id")
        return value if isinstance(value, str) else None

    @property
    def secure(self) -> bool:
        return self.scope.get("scheme") == "https"

    @property
    def target(self) -> str:
        """The request target as sent: raw path, plus `?query` if any (what a signature signs)."""
        return request_target(self.scope)

    @property
    def query_string(self) -> str:
        raw: bytes = self.scope.get("query_string", b"")
        return raw.decode("latin-1")

    async def body(self, limit: int) -> bytes:
        """The whole body, refused with 413 past `limit` bytes before it is all read."""
        if self._body is not None:
            return self._body
        declared = self.header(b"content-length")
        if declared is None and self._bodiless():
            self._body = b""
            return self._body
        if declared is not None:
            if not declared.isdigit():
                raise InvalidRequest("Content-Length is not a number")
            if int(declared) > limit:
                raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise InvalidRequest("the client disconnected before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._body

    def _bodiless(self) -> bool:
        """A GET or HEAD over HTTP/1.x without Content-Length or Transfer-Encoding has no
        body (RFC 9112 §6.3): nothing to wait for."""
        scope = self.scope
        return (
            scope["method"] in ("GET", "HEAD")
            and scope.get("http_version") in ("1.1", "1.0")
            and self.header(b"transfer-encoding") is None
        )

    async def disconnected(self) -> None:
        """Returns when the client hangs up (call after the body has been read)."""
        while (await self._receive())["type"] != "http.disconnect":
            pass


class BodyCap:
    """ASGI: `app` reads at most `limit` bytes of a request body, however it reads it
    (Starlette's `body()`, `stream()`, `json()`, `form()`). A Content-Length past `limit` is
    refused before anything is read, a streamed body as soon as a message takes it past:
    PayloadTooLarge either way."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, _Bounded(scope, receive, self.limit), send)


class _Bounded:
    """A `receive` that counts the body; the Content-Length is checked on the first call, so
    a request whose body is never read costs nothing more."""

    __slots__ = ("_left", "_limit", "_receive", "_scope")

    def __init__(self, scope: Scope, receive: Receive, limit: int) -> None:
        self._scope = scope
        self._receive = receive
        self._limit = limit
        self._left: int | None = None

    async def __call__(self) -> Message:
        if self._left is None:
            self._left = self._limit
            for key, value in self._scope["headers"]:
                if key == b"content-length" and value.isdigit() and int(value) > self._limit:
                    raise _too_large(self._limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self._left -= len(message.get("body", b""))
            if self._left < 0:
                raise _too_large(self._limit)
        return message


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body exceeds {limit} bytes")


def request_target(scope: Mapping[str, Any]) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope["path"])
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path
