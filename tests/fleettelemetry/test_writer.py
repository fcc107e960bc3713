"""Writers on the scale path: a writer dead between its commit and its acknowledgement loses
nothing and doubles nothing, writers share the consumer, a batch that did not commit is
written again, an unreadable message is set aside, and `voltgate telemetry writer` runs as a
process until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import Backend
from tests.fleettelemetry import bus_support
from tests.fleettelemetry.bus_support import (
    ON_POSTGRES,
    connected,
    drained,
    process_env,
    published,
    scale_settings,
    signal_messages,
    stored_txids,
    until,
    voltgate,
    writer_running,
)
from tests.fleettelemetry.ingest.support import OTHER_VIN, VIN
from voltgate.cli.main import app
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.bus import Bus
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.store import Message, Numbers, signals_of
from voltgate.fleettelemetry.writer import Writer

nats_url, bus_settings = bus_support.nats_url, bus_support.bus_settings  # fixtures
ITEMS: list[tuple[str, Any]] = [("Soc", 61.0), ("ChargeAmps", 16.0)]


class Stalling:
    """The database store, except that `append` stops after its commit until `go` is set (a
    writer that dies there, or is slow there)."""

    def __init__(self, store: SqlIngestStore) -> None:
        self.store = store
        self.committed = asyncio.Event()
        self.go = asyncio.Event()
        self.messages = 0

    async def append(self, messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[bool]:
        fresh = await self.store.append(messages, numbers)
        self.messages += len(messages)
        self.committed.set()
        await self.go.wait()
        return fresh

    async def prepare(self, now: float) -> None:
        await self.store.prepare(now)


@pytest.mark.services
@ON_POSTGRES
async def test_a_writer_dead_between_commit_and_ack_loses_and_doubles_nothing(
    backend: Backend, bus_settings: dict[str, Any]
) -> None:
    settings = scale_settings(backend, bus_settings, nats_writer_batch=20)
    db = Database(settings)
    try:
        messages = signal_messages(VIN, 50, ITEMS)
        await published(settings, messages)
        stalling = Stalling(SqlIngestStore(db))
        dying_bus = await Bus.connect(settings)
        dying = asyncio.create_task(Writer(dying_bus, stalling, 20).run(asyncio.Event()))
        await asyncio.wait_for(stalling.committed.wait(), 20)
        dying.cancel()  # its batch committed, not acknowledged: the process is gone
        await asyncio.gather(dying, return_exceptions=True)
        await dying_bus.close()
        assert 0 < stalling.messages <= 20
        assert len(await stored_txids(db, [VIN])) == stalling.messages

        evaluated: list[Message] = []
        store = SqlIngestStore(db)
        async with (
            connected(settings) as bus,
            writer_running(settings, store, evaluated.extend) as running,
        ):
            await drained(bus)  # the dead writer's batch comes back after the ack wait
        assert await stored_txids(db, [VIN]) == {(VIN, m.txid): 1 for m in messages}
        writer = running.writer
        assert (writer.messages, writer.duplicates) == (50, stalling.messages)
        # The alert rules hear of each signal the writer stored, not of those it found stored.
        signals = [s for m in evaluated for s in signals_of(m)]
        assert len(signals) == (50 - stalling.messages) * len(ITEMS)
        rows = await db.reader.all(_ROLLUP_COUNTS)
        assert {(r[0], int(r[1])) for r in rows} == {("Soc", 50), ("ChargeAmps", 50)}
    finally:
        await db.dispose()


_ROLLUP_COUNTS = Statement("SELECT field, sum(count) FROM vehicle_signal_rollups GROUP BY field")


@pytest.mark.services
@ON_POSTGRES
async def test_writers_share_the_consumer(backend: Backend, bus_settings: dict[str, Any]) -> None:
    settings = scale_settings(backend, bus_settings, nats_writer_batch=10, nats_ack_wait=60.0)
    db = Database(settings)
    try:
        messages = signal_messages(VIN, 150, ITEMS) + signal_messages(OTHER_VIN, 150, ITEMS)
        await published(settings, messages)
        slow = Stalling(SqlIngestStore(db))
        async with writer_running(settings, slow) as first:
            await asyncio.wait_for(slow.committed.wait(), 20)
            # The first holds one batch; everything else can only go to a second writer.
            async with writer_running(settings, SqlIngestStore(db)) as second:
                expected = 300 - slow.messages
                await until(lambda: second.writer_messages() == expected)
                slow.go.set()
                async with connected(settings) as bus:
                    await drained(bus)
        stored = await stored_txids(db, [VIN, OTHER_VIN])
        assert stored == {(m.vin, m.txid): 1 for m in messages}
        assert (first.writer.messages, second.writer.messages) == (slow.messages, expected)
        assert first.writer.duplicates == second.writer.duplicates == 0
    finally:
        await db.dispose()


class FailingOnce:
    """The database store, except that the first `append` fails before it writes anything."""

    def __init__(self, store: SqlIngestStore) -> None:
        self.store = store
        self.failed = False

    async def append(self, messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[bool]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database is away")
        return await self.store.append(messages, numbers)

    async def prepare(self, now: float) -> None:
        await self.store.prepare(now)


@pytest.mark.services
@ON_POSTGRES
async def test_a_batch_that_did_not_commit_is_written_again(
    backend: Backend, bus_settings: dict[str, Any]
) -> None:
    settings = scale_settings(backend, bus_settings)
    db = Database(settings)
    try:
        messages = signal_messages(VIN, 10, ITEMS)
        await published(settings, messages)
        async with (
            connected(settings) as bus,
            writer_running(settings, FailingOnce(SqlIngestStore(db))) as running,
        ):
            await drained(bus)
        assert await stored_txids(db, [VIN]) == {(VIN, m.txid): 1 for m in messages}
        assert (running.writer.failures, running.writer.messages) == (1, 10)
    finally:
        await db.dispose()


@pytest.mark.services
@ON_POSTGRES
async def test_an_unreadable_message_is_set_aside(
    backend: Backend, bus_settings: dict[str, Any]
) -> None:
    settings = scale_settings(backend, bus_settings)
    db = Database(settings)
    try:
        good = signal_messages(VIN, 2, ITEMS)
        bad_payload = good[0]._replace(txid=b"bad", payload=b"\xff\xff\xff")
        await published(settings, [good[0], bad_payload, good[1]])
        async with connected(settings) as bus:
            await bus.js.publish(f"{bus.prefix}.V.{VIN}", b"no headers")
            async with writer_running(settings, SqlIngestStore(db)) as running:
                await drained(bus)
        assert await stored_txids(db, [VIN]) == {(VIN, m.txid): 1 for m in good}
        assert running.writer.messages == 2
    finally:
        await db.dispose()


@pytest.mark.services
@ON_POSTGRES
async def test_the_writer_command_writes_until_sigterm(
    backend: Backend, bus_settings: dict[str, Any], tmp_path: Path
) -> None:
    settings = scale_settings(backend, bus_settings)
    db = Database(settings)
    env = process_env({**backend.settings, **bus_settings})
    process = voltgate(env, "telemetry", "writer", log=tmp_path / "writer.log")
    try:
        messages = signal_messages(VIN, 30, ITEMS)
        await published(settings, messages)

        async def written() -> bool:
            return len(await stored_txids(db, [VIN])) == 30

        await until(written, 60)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
        async with connected(settings) as bus:
            assert await bus.lag() == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        await db.dispose()


def test_the_writer_command_needs_a_nats_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOLTGATE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VOLTGATE_NATS_URL", raising=False)
    result = CliRunner().invoke(app, ["telemetry", "writer"])
    assert result.exit_code == 1
    assert "needs VOLTGATE_NATS_URL" in " ".join(result.output.split())
