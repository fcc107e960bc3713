"""The scale path under test: a stream of its own per test on the NATS server (its name and
subject prefix unique, deleted at the end), writers run in process, and waits on the stream."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from nats.js.errors import NotFoundError

from tests.conftest import Backend, make_settings
from tests.fixtures.services import probe_nats
from tests.fleettelemetry.ingest.support import MASTER
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry import protos
from voltgate.fleettelemetry.bus import Bus, JetStreamStore
from voltgate.fleettelemetry.ingest.store import NO_NUMBERS, Committed, IngestStore, Message
from voltgate.fleettelemetry.writer import Writer

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
async def writer_running(
    settings: Settings,
    store: IngestStore,
    committed: Committed | None = None,
) -> AsyncIterator[WriterTask]:
    """A writer in process (as `run_writer` makes one) until the block ends."""
    bus = await Bus.connect(settings)
    try:
        await bus.ensure_stream()
        writer = Writer(bus, store, settings.nats_writer_batch, committed)
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(writer.run(stop, ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()  # it failed at start: say why
        try:
            yield WriterTask(writer)
        finally:
            stop.set()
            await task
    finally:
        await bus.close()


class WriterTask:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def writer_messages(self) -> int:
        return self.writer.messages


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


def process_env(values: dict[str, Any]) -> dict[str, str]:
    """The environment of a `voltgate` child process with these settings (no other VOLTGATE_*
    leaks in from the test's own environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTGATE_")}
    env.update({f"VOLTGATE_{k.upper()}": str(v) for k, v in values.items()})
    env["VOLTGATE_MASTER_KEY"] = base64.urlsafe_b64encode(MASTER).decode().rstrip("=")
    env["VOLTGATE_LOG_LEVEL"] = "warning"
    return env


def voltgate(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    """`voltgate ARGS` as its own process, its output in `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "voltgate", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def published(settings: Settings, messages: list[Message]) -> None:
    """Puts messages on the stream as a listener does."""
    async with connected(settings) as bus:
        await bus.ensure_stream()
        publisher = JetStreamStore(bus, _NoDatabase(), settings.nats_publish_timeout)
        await publisher.start()
        await publisher.append(messages, [NO_NUMBERS for _ in messages])


class _NoDatabase:
    """For a publisher that only publishes."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the publisher reached for the database ({name})")


def signal_messages(vin: str, count: int, items: list[tuple[str, Any]]) -> list[Message]:
    """`count` `V` messages of a vehicle, each with these signals, a second apart."""
    times = [time.time() - count + n for n in range(count)]
    return [Message(vin, "V", os.urandom(8), t, t, protos.payload(vin, t, items)) for t in times]
