"""The scale path's bus: a listener in NATS mode acknowledges what JetStream stored, on subjects
per record type and VIN, resends dropped by their message id, a full stream refusing rather
than dropping acknowledged messages, and two listeners feeding one stream that a writer empties
into PostgreSQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api

from tests.conftest import Backend
from tests.fleettelemetry import bus_support
from tests.fleettelemetry.bus_support import (
    ON_POSTGRES,
    connected,
    drained,
    scale_settings,
    stored_txids,
    until,
    writer_running,
)
from tests.fleettelemetry.ingest.support import MASTER, OTHER_VIN, VIN, FixedConfigs, live_ingest
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.bus import MSG_ID, Bus, headers, message_of
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import Unacked, VehicleClient
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.service import start_ingest
from voltgate.fleettelemetry.ingest.store import Message

nats_url, bus_settings = bus_support.nats_url, bus_support.bus_settings  # fixtures
ITEMS: list[tuple[str, Any]] = [("Soc", 55.5), ("ChargeLimitSoc", 80), ("Gear", "P")]


def test_a_message_crosses_the_bus_unchanged() -> None:
    at = 1_765_000_000.123456789
    sent = Message(VIN, "V", b"\x00\xff tx\n", at, at + 1.5, b"\x08\x01")
    found = headers(sent)
    assert found[MSG_ID] == f"{VIN}/{sent.txid.hex()}/{sent.created_at!r}"
    assert len(found) == 2  # the dedupe id and one header for the rest
    msg = Msg(Client(), subject="s", data=sent.payload, headers=found)
    assert message_of(msg) == sent


def test_a_message_an_earlier_listener_put_on_the_stream_is_read_too() -> None:
    at = 1_765_000_000.25
    sent = Message(VIN, "alerts", b"tx-1", at, at + 1.0, b"\x08\x01")
    five = {
        MSG_ID: f"{VIN}/{b'tx-1'.hex()}/{at!r}",
        "Voltgate-Vin": VIN,
        "Voltgate-Topic": "alerts",
        "Voltgate-Txid": b"tx-1".hex(),
        "Voltgate-Created-At": repr(at),
        "Voltgate-Received-At": repr(at + 1.0),
    }
    assert message_of(Msg(Client(), subject="s", data=sent.payload, headers=five)) == sent


def test_a_subject_names_the_record_type_and_the_vehicle() -> None:
    bus = Bus(Client(), Settings(nats_subject_prefix="fleet.t"))
    assert bus.subject("V", VIN) == f"fleet.t.V.{VIN}"
    assert bus.subject("alerts", VIN) == f"fleet.t.alerts.{VIN}"
    assert bus.subject("errors", "A.B*C>D E") == "fleet.t.errors.A_B_C_D_E"


async def _subjects(bus: Bus) -> dict[str, int]:
    info = await bus.js.stream_info(bus.stream, subjects_filter=">")
    return info.state.subjects or {}


@pytest.mark.services
@ON_POSTGRES
async def test_acknowledged_once_in_the_stream_and_stored_by_a_writer(
    backend: Backend, tmp_path: Path, bus_settings: dict[str, Any]
) -> None:
    async with live_ingest(backend, tmp_path, **bus_settings) as harness:
        settings = scale_settings(backend, bus_settings)
        car = harness.vehicle()
        await car.connect()
        for _ in range(20):
            await car.send_signals(ITEMS)
        await car.send_raw(b"alerts", b"")
        assert await car.acknowledged(10)
        assert car.acked == 21
        # Acknowledged from the stream alone: no writer has run, the database holds nothing.
        assert await harness.count("vehicle_messages") == 0
        async with connected(settings) as bus:
            assert await _subjects(bus) == {
                f"{bus.prefix}.V.{VIN}": 20,
                f"{bus.prefix}.alerts.{VIN}": 1,
            }
            async with writer_running(settings, SqlIngestStore(harness.db)) as running:
                await drained(bus)
            assert await _subjects(bus) == {}  # work queue: written messages leave the stream
        assert running.writer.messages == 21
        assert await harness.count("vehicle_messages", f"vin = '{VIN}' AND topic = 'V'") == 20
        rows = await harness.db.reader.all(
            Statement("SELECT field, sum(count) FROM vehicle_signal_rollups GROUP BY field")
        )
        assert sorted((r[0], int(r[1])) for r in rows) == [("ChargeLimitSoc", 20), ("Soc", 20)]
        await car.close()


@pytest.mark.services
@ON_POSTGRES
async def test_a_resend_is_acknowledged_and_stored_once(
    backend: Backend, tmp_path: Path, bus_settings: dict[str, Any]
) -> None:
    async with live_ingest(backend, tmp_path, **bus_settings) as harness:
        settings = scale_settings(backend, bus_settings)
        car = harness.vehicle(resend_after=0.0)
        await car.connect()
        items: list[tuple[str, Any]] = [("Soc", 40.0)]
        txid = await car.send_signals(items, created_at=1_765_000_000.25)
        assert await car.acknowledged(10)
        # Its ack was lost on the way: the vehicle sends it again, marked as a resend.
        car.unacked[txid] = Unacked(txid, b"V", 1_765_000_000.25, items, 0.0, b"")
        assert await car.resend_due() == 1
        assert await car.acknowledged(10)
        assert car.acked == 2
        socket = next(iter(harness.ingest.listener.sockets.values()))
        assert socket.duplicates == 1  # the PubAck said so
        async with connected(settings) as bus:
            assert sum((await _subjects(bus)).values()) == 1
            async with writer_running(settings, SqlIngestStore(harness.db)):
                await drained(bus)
        assert await stored_txids(harness.db, [VIN]) == {(VIN, txid): 1}
        counts = await harness.db.reader.all(Statement("SELECT count FROM vehicle_signal_rollups"))
        assert [int(row[0]) for row in counts] == [1]
        await car.close()


@pytest.mark.services
@ON_POSTGRES
async def test_a_full_stream_refuses_so_nothing_acknowledged_is_dropped(
    backend: Backend, tmp_path: Path, bus_settings: dict[str, Any]
) -> None:
    small = {**bus_settings, "nats_max_bytes": 1024**2}
    async with live_ingest(backend, tmp_path, **small) as harness:
        settings = scale_settings(backend, small)
        car = harness.vehicle(resend_after=0.0)
        await car.connect()
        batcher = harness.ingest.batcher
        for n in range(8):  # 1.6 MB for a 1 MiB stream, one at a time
            await car.send_raw(b"alerts", b"\x01" * 200_000)
            await until(lambda n=n: car.acked + batcher.failures == n + 1)
        # Five fit; the rest were refused, so not acknowledged: the vehicle still holds them.
        assert (car.acked, batcher.failures, len(car.unacked)) == (5, 3, 3)
        async with (
            connected(settings) as bus,
            writer_running(settings, SqlIngestStore(harness.db)),
        ):
            await drained(bus)
            await car.resend_all()  # room again: what was refused goes in now
            assert await car.acknowledged(10)
            await drained(bus)
        stored = await stored_txids(harness.db, [VIN])
        assert len(stored) == 8 and set(stored.values()) == {1}
        await car.close()


@pytest.mark.services
async def test_the_stream_is_made_with_its_limits_and_follows_them(
    bus_settings: dict[str, Any],
) -> None:
    first = Settings(**bus_settings, nats_max_age=3600.0, nats_duplicate_window=60.0)
    async with connected(first) as bus:
        await bus.ensure_stream()
        await bus.ensure_stream()  # again, unchanged: nothing to do
        config = (await bus.js.stream_info(bus.stream)).config
        assert config.subjects == [f"{bus.prefix}.>"]
        assert config.storage == api.StorageType.FILE
        assert config.retention == api.RetentionPolicy.WORK_QUEUE
        assert config.discard == api.DiscardPolicy.NEW
        assert (config.max_age, config.duplicate_window) == (3600.0, 60.0)
        assert config.max_bytes == first.nats_max_bytes
    changed = Settings(**bus_settings, nats_max_age=7200.0, nats_max_bytes=2 * 1024**3)
    async with connected(changed) as bus:
        await bus.ensure_stream()
        config = (await bus.js.stream_info(bus.stream)).config
        assert (config.max_age, config.max_bytes) == (7200.0, 2 * 1024**3)


@pytest.mark.services
@ON_POSTGRES
async def test_two_listeners_on_one_stream_share_the_vehicles(
    backend: Backend, tmp_path: Path, bus_settings: dict[str, Any]
) -> None:
    ca = CertificateAuthority.init(tmp_path / "telemetry-ca", MASTER)
    settings = scale_settings(backend, bus_settings, telemetry_port=0)
    db = Database(settings)
    configs = FixedConfigs({VIN, OTHER_VIN})
    ingests = []
    cars: list[VehicleClient] = []
    try:
        for name in ("ingest-a", "ingest-b"):
            each = settings.model_copy(update={"telemetry_instance": name})
            ingests.append(await start_ingest(each, ca, configs, db))
        sent: list[tuple[str, bytes]] = []
        # Each vehicle on its own listener, then each moves to the other one.
        for turn in range(2):
            for n, vin in enumerate((VIN, OTHER_VIN)):
                port = ingests[(n + turn) % 2].port
                cert, key = ca.issue_vehicle(vin)
                car = VehicleClient(
                    f"wss://localhost:{port}/", vin, client_context(ca.cert_pem, cert, key)
                )
                cars.append(car)
                await car.connect()
                for _ in range(10):
                    sent.append((vin, await car.send_signals(ITEMS)))
                assert await car.acknowledged(10)
                await car.close()
        assert [ingest.batcher.messages for ingest in ingests] == [20, 20]
        async with connected(settings) as bus, writer_running(settings, SqlIngestStore(db)):
            await drained(bus)
        assert await stored_txids(db, [VIN, OTHER_VIN]) == {key: 1 for key in sent}
    finally:
        for car in cars:
            with contextlib.suppress(Exception):
                await car.close()
        for ingest in ingests:
            await ingest.stop()
        await db.dispose()
