"""SIGKILL of the ingest during streaming loses no acknowledged signal on the scale path (NATS
JetStream + PostgreSQL), over many trials.

Each trial runs `voltgate telemetry serve` with VOLTGATE_NATS_URL as its own process, streams
from several vehicles with a window of messages in flight each, and kills the process at a
random moment once acknowledgements flow. Only then does a writer run, until the consumer holds
nothing: every message a vehicle saw acknowledged must be in `vehicle_messages` exactly once,
and its signals counted once in the rollups. (Set VOLTGATE_KILL_SEED to replay a run.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import Backend
from tests.fleettelemetry import bus_support
from tests.fleettelemetry.bus_support import (
    ON_POSTGRES,
    connected,
    drained,
    process_env,
    scale_settings,
    stored_txids,
    voltgate,
    writer_running,
)
from tests.fleettelemetry.ingest.support import MASTER
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.fleettelemetry.configs.repository import SqlConfigStore
from voltgate.fleettelemetry.configs.store import FieldConfig, TelemetryConfig
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore

nats_url, bus_settings = bus_support.nats_url, bus_support.bus_settings  # fixtures
TRIALS = 10
VINS = [f"5YJ3E1EA7KF{n:06d}" for n in range(100, 104)]
WINDOW = 16  # messages in flight per vehicle
ITEMS: list[tuple[str, Any]] = [("Soc", 70.5), ("ChargeAmps", 16.0), ("Gear", "P")]
_SOC_COUNT = Statement(
    "SELECT coalesce(sum(count), 0) FROM vehicle_signal_rollups WHERE field = 'Soc'"
)


async def _listening(process: subprocess.Popen[bytes], log: Path) -> int:
    """The port the ingest listens on, once its log says so."""
    async with asyncio.timeout(60):
        while True:
            for line in log.read_text(errors="replace").splitlines():
                if "telemetry_listening" in line:
                    return int(orjson.loads(line)["address"].rsplit(":", 1)[1])
            assert process.poll() is None, f"the ingest exited:\n{log.read_text()}"
            await asyncio.sleep(0.05)


async def _stream(car: VehicleClient, sent: list[bytes], stop: asyncio.Event) -> None:
    """Signals as fast as acknowledgements make room, until the socket dies or `stop`."""
    with contextlib.suppress(ConnectionClosed, OSError):
        while not stop.is_set():
            if len(car.unacked) >= WINDOW:
                await asyncio.sleep(0.002)
                continue
            sent.append(await car.send_signals(ITEMS))


async def _trial(
    env: dict[str, str], ca: CertificateAuthority, log: Path, chance: random.Random
) -> set[tuple[str, bytes]]:
    """One ingest killed mid-stream: the messages its vehicles saw acknowledged."""
    process = voltgate(env, "telemetry", "serve", "--port", "0", log=log)
    cars: list[VehicleClient] = []
    sent: dict[str, list[bytes]] = {vin: [] for vin in VINS}
    stop = asyncio.Event()
    try:
        port = await _listening(process, log)
        for vin in VINS:
            cert, key = ca.issue_vehicle(vin)
            car = VehicleClient(
                f"wss://localhost:{port}/", vin, client_context(ca.cert_pem, cert, key)
            )
            await car.connect()
            cars.append(car)
        streams = [asyncio.create_task(_stream(car, sent[car.vin], stop)) for car in cars]
        await bus_support.until(lambda: sum(car.acked for car in cars) >= 1)
        await asyncio.sleep(chance.uniform(0.05, 1.0))  # the random moment of the kill
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 30)
        stop.set()
        await asyncio.gather(*streams)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for car in cars:
            await car.drop()
    return {(car.vin, txid) for car in cars for txid in sent[car.vin] if txid not in car.unacked}


@pytest.mark.services
@ON_POSTGRES
async def test_sigkill_of_the_ingest_loses_no_acknowledged_signal(
    backend: Backend, bus_settings: dict[str, Any], tmp_path: Path
) -> None:
    values = {
        **backend.settings,
        **bus_settings,
        "telemetry_instance": "kill-test-ingest",
        "telemetry_rate_messages": 10_000_000,
    }
    settings = scale_settings(backend, bus_settings)
    env = {**process_env(values), "VOLTGATE_LOG_LEVEL": "info"}
    seed = int(os.environ.get("VOLTGATE_KILL_SEED", time.time_ns()))
    chance = random.Random(seed)
    ca = CertificateAuthority.init(settings.resolved_telemetry_ca_dir, MASTER)
    db = Database(settings)
    config = TelemetryConfig("localhost", 443, {"Soc": FieldConfig(1)})
    await SqlConfigStore(db).save("kill-app", "kill-user", [(v, config) for v in VINS], time.time())
    try:
        for trial in range(TRIALS):
            log = tmp_path / f"ingest-{trial}.log"
            acked = await _trial(env, ca, log, chance)
            assert acked, f"trial {trial} (seed {seed}): nothing acknowledged before the kill"
            async with connected(settings) as bus, writer_running(settings, SqlIngestStore(db)):
                await drained(bus)
            stored = await stored_txids(db, VINS)
            lost = acked - stored.keys()
            doubled = {key for key, count in stored.items() if count != 1}
            assert not lost, f"trial {trial} (seed {seed}): {len(lost)} acknowledged lost"
            assert not doubled, f"trial {trial} (seed {seed}): {len(doubled)} stored twice"
        rows = await db.reader.all(_SOC_COUNT)
        assert int(rows[0][0]) == len(stored)  # each stored message's Soc counted once
    finally:
        await db.dispose()
