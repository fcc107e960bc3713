"""The proxy's own HTTP/1.1 client against real sockets on 127.0.0.1: answers with a length or
chunked, kept-alive connections reused, one the server closed while idle replaced without the
caller noticing, and what is not HTTP refused."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from voltgate.proxy.wire import Wire, WireError

Reply = Callable[[int], bytes | None]  # request number -> bytes to answer (None: close)


@contextlib.asynccontextmanager
async def _server(reply: Reply) -> AsyncIterator[tuple[str, list[int]]]:
    """A server answering each request with `reply(n)`; the connections it accepted."""
    count = 0
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        connections.append(len(connections))
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                count += 1
                answer = reply(count)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Content-Length" not in answer and b"chunked" not in answer:
                    break  # not an answer to keep a connection for: nothing more
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", connections
    finally:
        server.close()
        await server.wait_closed()


def _ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


async def test_answers_come_back_and_the_connection_is_kept() -> None:
    async with _server(lambda n: _ok(b'{"n": %d}' % n)) as (url, connections):
        wire = Wire(url)
        first = await wire.post("/x", b"{}", {"Authorization": "Bearer t"})
        second = await wire.post("/x", b"{}", {})
        await wire.close()
    assert (first.status, first.body, second.body) == (200, b'{"n": 1}', b'{"n": 2}')
    assert len(connections) == 1


async def test_a_chunked_answer_is_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
        b"4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nTrailer: x\r\n\r\n"
    )
    async with _server(lambda n: chunked) as (url, _):
        wire = Wire(url)
        answer = await wire.post("/x", b"{}", {})
        await wire.close()
    assert (answer.status, answer.body, answer.headers["x-a"]) == (201, b"abcdefg", "b")


async def test_a_connection_closed_while_idle_is_replaced_once() -> None:
    # The server answers the first request, then closes when the second arrives.
    async with _server(lambda n: _ok(b"ok") if n != 2 else None) as (url, connections):
        wire = Wire(url)
        assert (await wire.post("/x", b"{}", {})).body == b"ok"
        assert (await wire.post("/x", b"{}", {})).body == b"ok"  # request 3, on a new connection
        await wire.close()
    assert len(connections) == 2


@pytest.mark.parametrize(
    "garbage",
    [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\nno length", b"HTTP/1.1 2"],
)
async def test_what_is_not_http_is_a_wire_error(garbage: bytes) -> None:
    sent = [garbage]

    def once(n: int) -> bytes | None:
        return sent.pop() if sent else None

    async with _server(once) as (url, _):
        wire = Wire(url)
        with pytest.raises(WireError):
            async with asyncio.timeout(10):
                await wire.post("/x", b"{}", {})
        await wire.close()


async def test_nothing_listening_is_a_wire_error() -> None:
    async with _server(lambda n: None) as (url, _):
        pass
    with pytest.raises(WireError):
        await Wire(url).post("/x", b"{}", {})
