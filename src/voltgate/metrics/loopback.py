"""`GET /metrics` without a token on 127.0.0.1 only (VOLTGATE_METRICS_PORT), for a scraper on
the same host. Served on the event loop, like the API: the counters are read on the thread that
writes them, and stopping is closing a socket. HTTP/1.1 by hand, one request per connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

HOST = "127.0.0.1"
_MAX_HEAD = 8 * 1024
_TIMEOUT = 10.0
# A client gone, slow or sending junk: nothing to answer.
_GONE = (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class Loopback:
    def __init__(self, port: int, render: Callable[[], bytes], content_type: str) -> None:
        self.port = port
        self._render = render
        self._content_type = content_type.encode()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self.port, limit=_MAX_HEAD)
        if self.port == 0:  # tests ask the system for a free port
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(self._answer(head.split(b"\r\n", 1)[0]))
                await writer.drain()
        except _GONE:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, request_line: bytes) -> bytes:
        method, _, rest = request_line.partition(b" ")
        path = rest.partition(b" ")[0].partition(b"?")[0]
        if path != b"/metrics":
            return _response(b"404 Not Found", b"text/plain", b"only /metrics is served here\n")
        if method not in (b"GET", b"HEAD"):
            return _response(b"405 Method Not Allowed", b"text/plain", b"use GET\n")
        return _response(b"200 OK", self._content_type, self._render(), head=method == b"HEAD")


def _response(status: bytes, content_type: bytes, body: bytes, *, head: bool = False) -> bytes:
    lines = [
        b"HTTP/1.1 " + status,
        b"content-type: " + content_type,
        b"content-length: " + str(len(body)).encode(),
        b"cache-control: no-store",
        b"connection: close",
    ]
    return b"\r\n".join([*lines, b"", b""]) + (b"" if head else body)
