"""A small HTTP/1.1 server for pulse's few GET pages (the dashboard, the sign-in's redirect and
callback): asyncio streams only, so pulse needs no web framework of the server's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("voltgate.pulse")
_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
}


@dataclass
class Request:
    path: str
    query: dict[str, str]


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
        while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
            pass  # headers: pulse's pages need none
        parts = line.decode("latin-1").split()
        if len(parts) != 3:
            return
        method, target, _ = parts
        if method not in ("GET", "HEAD"):
            response = Response(405, b"only GET")
        else:
            split = urlsplit(target)
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            try:
                response = await handle(Request(split.path, query))
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
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(host: str, port: int, handle: Handler) -> asyncio.Server:
    return await asyncio.start_server(lambda r, w: _serve_one(r, w, handle), host, port)
