"""The proxy's own HTTP/1.1 client for the one call on its hot path: `POST signed_command` to
Fleet API, a small JSON body each way.

Measured on the 2 vCPU box: a request through httpx's AsyncClient costs ~2 ms of Python against
~0.1 ms for the same request written on a kept-alive asyncio stream, and a signed command makes
one or two of them. So this writes the request itself and reads the answer (status line,
headers, then a `Content-Length` body or a chunked one), over a small pool of kept-alive
connections (TLS when the upstream is https). Anything unusual (no length, a `Connection:
close`, a broken connection) drops that connection; a request that found its kept-alive
connection closed before any byte of the answer is sent again once on a new one. Everything
else the proxy forwards goes through httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 16_384
MAX_BODY = 1_048_576
POOL = 16  # idle connections kept


class WireError(Exception):
    """The upstream could not be reached, or answered something that is not HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-case
    body: bytes


class _Stale(Exception):
    """A kept-alive connection was closed by the other side before answering."""


class Wire:
    def __init__(self, base_url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        default = self._port == (443 if self._tls else 80)
        self._authority = parts.netloc if not default else self._host
        self._ssl = (ssl_context or ssl.create_default_context()) if self._tls else None
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        head = [f"POST {path} HTTP/1.1", f"Host: {self._authority}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        request = "\r\n".join(head).encode("latin-1") + body
        for attempt in range(2):
            reused = bool(self._idle)
            reader, writer = self._idle.pop() if reused else await self._connect()
            try:
                writer.write(request)
                answer, keep = await _read(reader)
            except _Stale:
                writer.close()
                if reused and attempt == 0:
                    continue  # the server closed it while idle: once more on a new one
                raise WireError("the upstream closed the connection without answering") from None
            except (
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ) as exc:
                writer.close()
                raise WireError(f"the upstream's answer broke off: {type(exc).__name__}") from None
            except BaseException:  # cancelled (the proxy's timeout): the stream is unusable
                writer.close()
                raise
            if keep and len(self._idle) < POOL:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return answer
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection(
                self._host, self._port, ssl=self._ssl, limit=MAX_HEAD
            )
        except OSError as exc:
            raise WireError(f"cannot connect: {exc.strerror or type(exc).__name__}") from None


async def _read(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    try:  # the whole head in one read (the stream's limit is MAX_HEAD)
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise _Stale from None
        raise
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ValueError("not an HTTP/1.x status line")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _chunked(reader)
    elif (length := headers.get("content-length", "")).isdigit():
        if int(length) > MAX_BODY:
            raise ValueError("the answer is too big")
        body = await reader.readexactly(int(length))
    else:
        raise ValueError("an answer without a length")  # read to close: not on this path
    keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
    return Answer(int(code), headers, body), keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
        size = int(size_line, 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY:
            raise ValueError("the answer is too big")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
