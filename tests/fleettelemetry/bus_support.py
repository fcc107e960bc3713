"""The scale path under test: a stream of its own per test on the NATS server (its name and
subject prefix unique, deleted at the end), writers run in process, and waits on the stream."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from tests.conftest import Backend, make_settings
from tests.fixtures.services import probe_nats
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry.bus import Bus
from voltgate.fleettelemetry.ingest.store import IngestStore
from voltgate.fleettelemetry.writer import Writer, run_writer

# The scale path is NATS + PostgreSQL: these tests take the `backend` fixture on PostgreSQL only.
ON_POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture(scope="session")
def nats_url() -> str:
    return probe_nats()


@pytest.fixture
async def bus_settings(nats_url: str) -> AsyncIterator[dict[str, Any]]:
    """Settings naming a stream no other test uses; the stream is deleted afterwards."""
    tag = secrets.token_hex(6)
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "nats_stream": f"VGTEST_{tag}",
        "nats_subject_prefix": f"vgtest.{tag}",
        "nats_ack_wait": 2.0,  # a dead writer's messages go to another after this
    }
    yield values
    await _delete_stream(Settings(**values))


async def _delete_stream(settings: Settings) -> None:
    bus = await Bus.connect(settings)
    try:
        with contextlib.suppress(NotFoundError):
            await bus.delete_stream()
    finally:
        await bus.close()


def scale_settings(backend: Backend, bus: dict[str, Any], **overrides: Any) -> Settings:
    return make_settings(backend, **{**bus, **overrides})


@contextlib.asynccontextmanager
async def connected(settings: Settings) -> AsyncIterator[Bus]:
    bus = await Bus.connect(settings)
    try:
        yield bus
    finally:
        await bus.close()


async def until(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    """Waits until `condition()` (a value or an awaitable) is true; fails after `timeout`."""
    async with asyncio.timeout(timeout):
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            await asyncio.sleep(0.02)


async def drained(bus: Bus, timeout: float = 20.0) -> None:
    """Waits until the writers hold nothing unacknowledged and nothing waits for them."""

    async def empty() -> bool:
        return await bus.lag() == 0

    await until(empty, timeout)


@contextlib.asynccontextmanager
async def writer_running(settings: Settings, store: IngestStore) -> AsyncIterator[WriterTask]:
    """A writer in process (as `voltgate telemetry writer` runs it) until the block ends."""
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_writer(settings, store, stop, ready=ready))
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # it failed at start: say why
    handle = WriterTask(task)
    try:
        yield handle
    finally:
        stop.set()
        handle.writer = await task


class WriterTask:
    def __init__(self, task: asyncio.Task[Writer]) -> None:
        self.task = task
        self.writer: Writer | None = None  # once stopped


async def stored_txids(db: Database, vins: list[str]) -> dict[tuple[str, bytes], int]:
    """How many rows `vehicle_messages` holds of each (vin, txid)."""
    pool = await db.reader.pool()  # type: ignore[attr-defined]
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT vin, txid, count(*) FROM vehicle_messages WHERE vin = ANY($1::text[])"
            " GROUP BY vin, txid",
            vins,
        )
    return {(row[0], bytes(row[1])): int(row[2]) for row in rows}
