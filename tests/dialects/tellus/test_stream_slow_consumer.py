"""A consumer of `/v1/operator/stream` that stops reading is dropped once its buffer is full
(close 1013), while another consumer of the same charger gets every frame, as it did before
the slow one came: the publisher never waits on a socket.

The latencies (from a reading's 202 to its frame at the fast consumer) with and without the
slow consumer are printed, not compared: on a shared 2 vCPU box their p99 says more about the
machine than the server. What is asserted is what the design guarantees: every frame, and
the slow one gone."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.conftest import Backend
from tests.fixtures.live import LiveServer, live_server
from tests.fixtures.streams import STREAM, Fleet, fleet, open_stream, post

# Frames a consumer may have waiting: more than one poll's worth of this test's readings (a
# poll publishes every reading committed since the last at once).
BUFFER = 256
CONNECTORS = 16  # a frame of ~1.5 kB: the slow socket's kernel buffers fill sooner
BEFORE = AFTER = 60  # readings posted without the slow consumer, and after it was dropped
# The stalled socket's kernel buffers (the server's send buffer grows to 4 MB) take ~2,500 of
# these frames before the server's sender waits and its buffer fills: readings are posted
# AT_ONCE at a time, up to MOST.
AT_ONCE = 8
MOST = 8000


@pytest.fixture
def server(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    settings = {k: v for k, v in backend.settings.items() if k != "data_dir"}
    with live_server(
        tmp_path / "data", tmp_path / "server.log", stream_buffer_frames=str(BUFFER), **settings
    ) as running:
        yield running


class Reader:
    """The fast consumer: when each frame arrived, by its reading's timestamp."""

    def __init__(self, stream: ClientConnection) -> None:
        self.stream = stream
        self.arrived: dict[float, float] = {}
        self.order: list[float] = []
        self.sizes: set[int] = set()  # connectors a frame
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):  # seen by `has` as frames missing
            async for message in self.stream:
                frame = orjson.loads(message)
                self.arrived[frame["timestamp"]] = time.perf_counter()
                self.order.append(frame["timestamp"])
                self.sizes.add(len(frame["connectors"]))

    async def has(self, stamps: list[float], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not set(stamps) <= self.arrived.keys():
                await asyncio.sleep(0.01)


def _stalled(server: LiveServer, query: str, token: str) -> socket.socket:
    """A consumer that completes the handshake and then never reads: a socket with a small
    receive buffer, so its kernel buffers fill after a few frames."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    host, port = server.base_url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET {STREAM}?{query} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    sock.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)  # byte by byte: nothing of the frames after it is read
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _dropped(server: LiveServer) -> bool:
    for line in server.logs().splitlines():
        if '"event":"websocket"' in line and orjson.loads(line).get("close") == 1013:
            return True
    return False


class Poster:
    """Readings of the charger, `AT_ONCE` at a time, each with a timestamp of its own."""

    def __init__(self, http: httpx.AsyncClient, found: Fleet) -> None:
        self._http = http
        self._found = found
        self._base = time.time()
        self._count = 0

    async def _one(self) -> tuple[float, float]:
        self._count += 1
        at = round(self._base + self._count / 10_000, 4)
        await post(self._http, self._found, at)
        return at, time.perf_counter()

    async def many(self, count: int) -> list[tuple[float, float]]:
        """`count` readings: (timestamp, when its 202 came) of each."""
        posted: list[tuple[float, float]] = []
        while len(posted) < count:
            posted += await asyncio.gather(*(self._one() for _ in range(AT_ONCE)))
        return posted


def _p99(reader: Reader, posted: list[tuple[float, float]]) -> float:
    delays = sorted(reader.arrived[at] - accepted for at, accepted in posted)
    return statistics.quantiles(delays, n=100)[98] if len(delays) > 1 else delays[0]


async def test_a_consumer_that_stops_reading_is_dropped_and_another_gets_every_frame(
    server: LiveServer,
) -> None:
    found = fleet(server, CONNECTORS)
    query = f"devices={found.device_id}"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        fast = Reader(await open_stream(server, query, found.token))
        poster = Poster(http, found)
        alone = await poster.many(BEFORE)
        await fast.has([at for at, _ in alone])

        stalled = _stalled(server, query, found.token)
        crowded: list[tuple[float, float]] = []
        while not _dropped(server):
            assert len(crowded) < MOST, "the stalled consumer was never dropped"
            crowded += await poster.many(10 * AT_ONCE)
        crowded += await poster.many(AFTER)
        await fast.has([at for at, _ in crowded])

        posted = [at for at, _ in alone + crowded]
        # Every frame, once (readings posted together may commit in any order).
        assert sorted(fast.order) == sorted(posted) and len(set(posted)) == len(posted)
        assert fast.sizes == {CONNECTORS}  # each reading whole, in one frame
        before, during = _p99(fast, alone), _p99(fast, crowded)
        print(
            f"\nfast consumer p99 from 202 to frame: {before * 1000:.1f} ms alone, "
            f"{during * 1000:.1f} ms with the stalled one "
            f"(dropped after {len(crowded) - AFTER} readings)"
        )
        assert during < 1.0  # the promise, whatever the machine's p99 alone

        # The stalled consumer got some of the frames, then its connection was closed.
        stalled.settimeout(10)
        received = b""
        while chunk := stalled.recv(65536):
            received += chunk
        stalled.close()
        assert 0 < received.count(b'"device_id"') < len(posted)
        await fast.stream.close()
        await fast.task
