"""The vehicle-facing listener, live on 127.0.0.1 with mutual TLS: what it stores and
acknowledges, what it refuses and how, and the connectivity records it keeps."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import InvalidMessage, InvalidStatus

from tests.conftest import Backend
from tests.fleettelemetry.ingest.support import OTHER_VIN, VIN, live_ingest
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ca import CertificateAuthority
from voltgate.fleettelemetry.client import Unacked


async def test_messages_are_acknowledged_once_stored_and_rolled_up(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        car = harness.vehicle()
        await car.connect()
        for _ in range(5):
            await car.send_signals([("Soc", 55.5), ("ChargeLimitSoc", 80), ("Gear", "P")])
        assert await car.acknowledged(10)
        assert car.acked == 5
        assert await harness.count("vehicle_messages", f"vin = '{VIN}'") == 5
        rollups = await harness.count("vehicle_signal_rollups", f"vin = '{VIN}'")
        assert rollups in (2, 4)  # Soc and ChargeLimitSoc, in one or two minutes
        await car.close()


async def test_a_resend_is_acknowledged_and_stored_once(backend: Backend, tmp_path: Path) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        car = harness.vehicle(resend_after=0.0)
        await car.connect()
        items: list[tuple[str, object]] = [("Soc", 40.0)]
        txid = await car.send_signals(items, created_at=1_765_000_000.25)
        assert await car.acknowledged(10)
        # Its ack was lost on the way: the vehicle sends it again, marked as a resend.
        car.unacked[txid] = Unacked(txid, b"V", 1_765_000_000.25, items, 0.0, b"")
        assert await car.resend_due() == 1
        assert await car.acknowledged(10)
        assert car.acked == 2
        assert await harness.count("vehicle_messages") == 1
        counts = await harness.db.reader.all(Statement("SELECT count FROM vehicle_signal_rollups"))
        assert [int(row[0]) for row in counts] == [1]  # its signal counted once
        await car.close()


async def test_a_certificate_from_another_ca_is_refused(backend: Backend, tmp_path: Path) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        other = CertificateAuthority.init(tmp_path / "other-ca", bytes(32))
        car = harness.vehicle(ca=other)
        with pytest.raises((ssl.SSLError, OSError, InvalidMessage)):  # TLS 1.3: after the handshake
            await car.connect()
        assert await harness.count("vehicle_connectivity") == 0


async def test_a_vehicle_without_a_configuration_is_refused(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        car = harness.vehicle(OTHER_VIN)
        with pytest.raises(InvalidStatus) as refused:
            await car.connect()
        assert refused.value.response.status_code == 403
        assert b"no telemetry configuration" in refused.value.response.body


async def test_a_payload_of_another_vin_closes_the_socket(backend: Backend, tmp_path: Path) -> None:
    async with live_ingest(backend, tmp_path, allowed={VIN, OTHER_VIN}) as harness:
        car = harness.vehicle()
        await car.connect()
        car.vin = OTHER_VIN  # the payload names another vehicle than the certificate
        await car.send_signals([("Soc", 1.0)])
        assert not await car.acknowledged(2)
        ws = car._ws
        assert ws is not None
        await ws.wait_closed()
        assert ws.close_code == 1008
        assert await harness.count("vehicle_messages") == 0
        await harness.rows("vehicle_connectivity", 2)
        records = await harness.db.reader.all(_CONNECTIVITY)
        assert [(r[0], r[1]) for r in records] == [("CONNECTED", None), ("DISCONNECTED", "refused")]


_CONNECTIVITY = Statement("SELECT status, reason FROM vehicle_connectivity ORDER BY id")


async def test_a_message_over_a_megabyte_closes_the_socket(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        car = harness.vehicle()
        await car.connect()
        await car.send_raw(b"V", b"\0" * 2_000_000)
        ws = car._ws
        assert ws is not None
        await ws.wait_closed()
        assert ws.close_code == 1009
        assert await harness.count("vehicle_messages") == 0


async def test_over_the_rate_messages_are_dropped_unacknowledged(
    backend: Backend, tmp_path: Path
) -> None:
    limits = {"telemetry_rate_messages": 3, "telemetry_rate_interval": 3600.0}
    async with live_ingest(backend, tmp_path, **limits) as harness:
        car = harness.vehicle()
        await car.connect()
        for n in range(5):
            await car.send_signals([("Soc", float(n))])
        await asyncio.wait_for(_until(lambda: car.acked == 3), 10)
        assert not await car.acknowledged(0.5)
        assert len(car.unacked) == 2
        assert await harness.count("vehicle_messages") == 3
        await car.close()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_unknown_topics_are_acknowledged_and_not_stored(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        car = harness.vehicle()
        await car.connect()
        await car.send_raw(b"something_new", b"\x01\x02")
        assert await car.acknowledged(10)
        assert await harness.count("vehicle_messages") == 0
        await car.close()


async def test_connectivity_says_asleep_dropped_and_restarted(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        sleepy, dropping = harness.vehicle(), harness.vehicle()
        await sleepy.connect()
        await sleepy.close()  # 1000: going to sleep
        await harness.rows("vehicle_connectivity", 2)
        await dropping.connect()
        await dropping.drop()  # no closing handshake
        await harness.rows("vehicle_connectivity", 4)
        records = await harness.db.reader.all(_CONNECTIVITY)
        assert [(r[0], r[1]) for r in records] == [
            ("CONNECTED", None),
            ("DISCONNECTED", "asleep"),
            ("CONNECTED", None),
            ("DISCONNECTED", "dropped"),
        ]
