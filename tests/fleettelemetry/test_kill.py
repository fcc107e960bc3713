"""Acknowledged means stored, for vehicles too: `voltgate telemetry serve` is killed with
SIGKILL at a random moment while vehicles stream over mutual TLS, ten times on each backend
(the embedded default and PostgreSQL direct; NATS is `test_kill_nats.py`'s).

Each trial: the vehicles stream (each keeping a few messages in flight) until the drawn moment,
the listener's process group is killed, and then
- every message acknowledged is in `vehicle_messages`, and none is there twice;
- the restarted listener has closed the killed one's connection records (`ingest_restarted`):
  no vehicle is reported online;
- the vehicles reconnect and send again all they had not seen acknowledged; once those are
  acknowledged every message sent is stored exactly once, and the rollups count each stored
  message's signals once.
The restarted listener is the next trial's. The moments come from a seeded generator (the seed
and each drawn delay are printed and in the failure messages); everything else waits on a
condition (port bound, acknowledgements, records) with a generous bound, never on time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from tests.conftest import Backend, make_settings
from tests.fixtures.live import free_port, listening, server_env, voltgate_process
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.fleettelemetry.configs.repository import SqlConfigStore
from voltgate.fleettelemetry.configs.store import FieldConfig, TelemetryConfig
from voltgate.fleettelemetry.ingest.links import ConnectivityLinks
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore

TRIALS = 10
SEED = 20261207
DELAY = (0.05, 0.6)  # seconds of streaming before the kill, drawn per trial
VINS = [f"5YJ3E1EA7KF{n:06d}" for n in range(1, 7)]
KILL_ON = ("moment", "send", "ack")
WINDOW = 6  # messages each vehicle keeps in flight
MASTER = bytes(range(32))
INSTANCE = "kill-test"
BOUND = 30.0  # seconds any awaited condition may take before the test fails

_STORED = Statement("SELECT vin, txid, count(*) FROM vehicle_messages GROUP BY vin, txid")
_SOC_COUNTS = Statement(
    "SELECT vin, sum(count) FROM vehicle_signal_rollups WHERE field = 'Soc' GROUP BY vin"
)
_LAST_RECORDS = Statement(
    "SELECT vin, status, reason FROM vehicle_connectivity WHERE id IN"
    " (SELECT max(id) FROM vehicle_connectivity GROUP BY vin)"
)


class Killer:
    """SIGKILL for the listener's process group, once armed: at once (`on` "moment"), or right
    after a vehicle's next send ("send": a message surely in the listener's hands or on the
    way) or right after a vehicle saw an acknowledgement ("ack": the listener amid the next
    batches)."""

    def __init__(self, pid: int, on: str) -> None:
        self.pid = pid
        self.on = on
        self.done = asyncio.Event()
        self.armed = False

    def arm(self) -> None:
        self.armed = True
        if self.on == "moment":
            self.kill()

    def at(self, event: str) -> None:
        if self.armed and event == self.on:
            self.kill()

    def kill(self) -> None:
        if not self.done.is_set():
            os.killpg(self.pid, signal.SIGKILL)
            self.done.set()


class Fleet:
    """The vehicles, and every txid each has sent (kept across trials)."""

    def __init__(self, ca: CertificateAuthority, port: int) -> None:
        self.cars: list[VehicleClient] = []
        for vin in VINS:
            cert, key = ca.issue_vehicle(vin)
            context = client_context(ca.cert_pem, cert, key)
            self.cars.append(VehicleClient(f"wss://localhost:{port}/", vin, context))
        self.sent: dict[str, set[bytes]] = {vin: set() for vin in VINS}

    def all_sent(self) -> set[tuple[str, bytes]]:
        return {(vin, txid) for vin, txids in self.sent.items() for txid in txids}

    def acknowledged(self) -> set[tuple[str, bytes]]:
        """What the listener acknowledged: sent and no longer waiting (only an ack removes)."""
        return {(car.vin, t) for car in self.cars for t in self.sent[car.vin] - set(car.unacked)}

    async def connect(self) -> None:
        await asyncio.gather(*(car.connect() for car in self.cars))

    async def stream(self, killer: Killer) -> None:
        """Every vehicle sends continuously, `WINDOW` messages in flight, until the listener
        is killed; each tells `killer` when it sent a message and when it saw acknowledgements."""
        await asyncio.gather(*(self._stream(car, killer) for car in self.cars))

    async def _stream(self, car: VehicleClient, killer: Killer) -> None:
        sent, n, acked = self.sent[car.vin], 0, car.acked
        with contextlib.suppress(ConnectionClosed):
            while not killer.done.is_set():
                if car.acked != acked:
                    acked = car.acked
                    killer.at("ack")
                    continue
                if len(car.unacked) >= WINDOW:
                    await asyncio.sleep(0.002)  # until an acknowledgement makes room
                    continue
                n += 1
                items = [("Soc", 50.0 + n % 40), ("VehicleSpeed", float(n % 90)), ("Gear", "D")]
                sent.add(await car.send_signals(items))
                killer.at("send")
        sent.update(car.unacked)  # one whose sending failed waits for its resend too

    async def acknowledging(self, where: str) -> None:
        """Returns once every vehicle has had an acknowledgement since the call."""
        before = [car.acked for car in self.cars]
        await _until(
            lambda: all(car.acked > n for car, n in zip(self.cars, before, strict=True)),
            f"{where}: every vehicle has an acknowledgement",
        )

    async def lost(self) -> None:
        """The listener is gone: each vehicle reads what reached it, then drops its socket."""
        for car in self.cars:
            if car._ws is not None:
                await asyncio.wait_for(car._ws.wait_closed(), BOUND)
            await car.drop()

    async def resend(self) -> int:
        """Reconnects and sends again all not acknowledged; returns (the number resent) once
        all is acknowledged."""
        await self.connect()
        counts = await asyncio.gather(*(car.resend_all() for car in self.cars))
        for car in self.cars:
            assert await car.acknowledged(BOUND), f"{car.vin}: its resends are not acknowledged"
        return sum(counts)

    async def close(self) -> None:
        await asyncio.gather(*(car.close() for car in self.cars))


async def _until(check: Callable[[], bool], what: str) -> None:
    try:
        async with asyncio.timeout(BOUND):
            while not check():
                await asyncio.sleep(0.005)
    except TimeoutError:
        raise AssertionError(f"not within {BOUND} s: {what}") from None


@contextlib.contextmanager
def _listener(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`voltgate telemetry serve` on `port`, in a process group of its own; on entry once its
    port is bound (after it closed the records a killed predecessor left open)."""
    args = ["telemetry", "serve", "--port", str(port)]
    with voltgate_process(args, env, log, ready=partial(listening, port)) as process:
        yield process


async def _kill_while_streaming(
    fleet: Fleet, listener: subprocess.Popen[bytes], on: str, delay: float, where: str
) -> None:
    """The vehicles stream until every one has an acknowledgement from this listener, then
    for `delay` seconds more; then the listener's process group is killed (at once, or on the
    next send or acknowledgement) and the vehicles stop."""
    killer = Killer(listener.pid, on)
    streaming = asyncio.create_task(fleet.stream(killer))
    await fleet.acknowledging(where)
    await asyncio.sleep(delay)
    killer.arm()
    await _until(lambda: streaming.done() or killer.done.is_set(), f"{where}: the kill")
    await asyncio.wait_for(streaming, BOUND)
    assert killer.done.is_set(), f"{where}: the vehicles stopped before the kill"


async def _seed(db: Database, data_dir: Path) -> CertificateAuthority:
    """The vehicles' CA (under the master key the listener is given) and a configuration for
    each vehicle (the listener's allow-list)."""
    authority = CertificateAuthority.init(data_dir / "telemetry-ca", MASTER)
    fields = {"Soc": FieldConfig(1), "VehicleSpeed": FieldConfig(1)}
    configs = [(vin, TelemetryConfig("localhost", 443, fields)) for vin in VINS]
    await SqlConfigStore(db).save("kill-app", "kill-user", configs, time.time())
    return authority


async def _stored(db: Database) -> dict[tuple[str, bytes], int]:
    """How often each (vin, txid) is in `vehicle_messages`."""
    return {(row[0], bytes(row[1])): int(row[2]) for row in await db.reader.all(_STORED)}


async def _links(db: Database) -> dict[str, str | None]:
    """What the API would say of each vehicle's connection (read afresh from the records)."""
    links = ConnectivityLinks(SqlIngestStore(db))
    await links.refresh()
    return {vin: links.link(vin) for vin in VINS}


def _listener_env(backend: Backend, port: int) -> dict[str, str]:
    settings = {k: v for k, v in backend.settings.items() if k != "data_dir"}
    settings |= {
        "master_key": base64.urlsafe_b64encode(MASTER).decode().rstrip("="),
        "telemetry_instance": INSTANCE,
        "telemetry_port": str(port),
        "telemetry_rate_messages": "1000000000",  # no drops: every message is acknowledged
    }
    return server_env(Path(backend.settings["data_dir"]), **settings)


async def test_nothing_acknowledged_is_lost_when_the_listener_is_killed(
    backend: Backend, tmp_path: Path
) -> None:
    port = free_port()
    env = _listener_env(backend, port)
    draw = random.Random(SEED)
    log = tmp_path / "listener.log"
    db = Database(make_settings(backend))
    try:
        fleet = Fleet(await _seed(db, Path(backend.settings["data_dir"])), port)
        with contextlib.ExitStack() as listeners:
            listener = listeners.enter_context(_listener(env, port, log))
            await fleet.connect()
            for trial in range(TRIALS):
                started, earlier = time.monotonic(), len(fleet.all_sent())
                delay, on = draw.uniform(*DELAY), KILL_ON[trial % len(KILL_ON)]
                where = f"{backend.name} trial {trial} (seed {SEED}, {delay:.3f} s, on {on})"
                await _kill_while_streaming(fleet, listener, on, delay, where)
                listener.wait(timeout=BOUND)
                await fleet.lost()

                acked = fleet.acknowledged()
                stored = await _stored(db)
                missing = acked - stored.keys()
                assert not missing, f"{where}: {len(missing)} acknowledged messages lost"
                twice = {key for key, count in stored.items() if count > 1}
                assert not twice, f"{where}: {len(twice)} messages stored twice"
                unheard = len(stored.keys() - acked)  # committed, its ack cut off by the kill

                listener = listeners.enter_context(_listener(env, port, log))
                last = {row[0]: (row[1], row[2]) for row in await db.reader.all(_LAST_RECORDS)}
                closed = ("DISCONNECTED", "ingest_restarted")
                assert last == {vin: closed for vin in VINS}, f"{where}: {last}"
                links = await _links(db)
                assert links == {vin: "offline" for vin in VINS}, f"{where}: {links}"

                resent = await fleet.resend()
                stored = await _stored(db)
                sent = fleet.all_sent()
                assert stored.keys() == sent, f"{where}: {len(sent - stored.keys())} not stored"
                assert set(stored.values()) == {1}, f"{where}: a resend stored twice"
                per_vin = {vin: sum(1 for v, _ in stored if v == vin) for vin in VINS}
                rolled = {row[0]: int(row[1]) for row in await db.reader.all(_SOC_COUNTS)}
                assert rolled == per_vin, f"{where}: rollups {rolled}, messages {per_vin}"
                assert await _links(db) == {vin: "online" for vin in VINS}, where
                print(
                    f"{where}: {len(acked) - earlier} acknowledged before the kill, {unheard}"
                    f" stored without their ack, {resent} resent after, {len(sent)} stored in"
                    f" all; {time.monotonic() - started:.2f} s"
                )
            await fleet.close()
    finally:
        await db.dispose()
