"""A small HTTP/1.1 server for pulse's few pages (the dashboard, the sign-in's redirect and
callback) and voltgate's webhook deliveries: asyncio streams only, no web framework."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("voltgate.pulse")
MAX_BODY = 65_536
_REASONS = {
    200: "OK",
    204: "No Content",
    302: "Found",
    401: "Unauthorized",
    413: "Content Too Large",
    500: "Internal Server Error",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
}


@dataclass
class Request:
    path: str
    query: dict[str, str]
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]
_HEADERS = (
    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
    "Cache-Control: no-store\r\n"
)


async def _serve_one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handle: Handler
) -> None:
    try:
        line = await asyncio.wait_for(reader.readline(), 10)
        headers: dict[str, str] = {}
        while (raw := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        parts = line.decode("latin-1").split()
        if len(parts) != 3:
            return
        method, target, _ = parts
        size = int(headers.get("content-length") or 0) if method == "POST" else 0
        if method not in ("GET", "HEAD", "POST"):
            response = Response(405, b"GET or POST")
        elif not 0 <= size <= MAX_BODY:
            response = Response(413, b"too large")
        else:
            body = await asyncio.wait_for(reader.readexactly(size), 10) if size else b""
            split = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            try:
                response = await handle(Request(split.path, query, method, headers, body))
            except Exception:  # one page failing must not stop the server
                log.exception("page %s failed", split.path)
                response = Response(500, b"pulse: this page failed; see its log", "text/plain")
        extra = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
        head = (
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}\r\n"
            f"Content-Type: {response.content_type}\r\nContent-Length: {len(response.body)}\r\n"
            f"Connection: close\r\n{_HEADERS}{extra}\r\n"
        )
        writer.write(head.encode("latin-1") + (b"" if method == "HEAD" else response.body))
        await writer.drain()
    except (TimeoutError, ConnectionError, ValueError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class CannotListen(Exception):
    """The address is taken, or not this machine's: a line for the user, not a traceback."""


async def serve(host: str, port: int, handle: Handler) -> asyncio.Server:
    try:
        return await asyncio.start_server(lambda r, w: _serve_one(r, w, handle), host, port)
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason}") from exc
