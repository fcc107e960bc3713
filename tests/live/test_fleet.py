"""Live: simulated chargers against a real `voltgate sandbox` (embedded default) — 200 of them
for 60 s with no failed call, each reporting throughout, an operator's command reaching its
charger through the long-poll within a second and flowing back to `completed`, every accepted
reading stored and nothing else; and the sandbox's own small fleet showing up in the operator
API."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.fixtures.live import free_port, server_env, voltgate_process
from voltgate.sdk.operator import OperatorClient
from voltgate.sdk.session import unwrap
from voltgate.simulator.charger import Behaviour, SimulatedCharger
from voltgate.simulator.fleet import Fleet, FleetConfig

CHARGERS = 200
RUN_SECONDS = 60.0


@dataclass
class Sandbox:
    base_url: str
    operator: dict[str, Any]
    database: Path


@contextlib.contextmanager
def sandbox(tmp_path: Path, fleet: int) -> Iterator[Sandbox]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    creds = tmp_path / "creds.json"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", str(fleet)]
    args += ["--credentials-out", str(creds)]
    env = server_env(tmp_path / "data")
    with voltgate_process(args, env, tmp_path / "sandbox.log", base):
        operator = orjson.loads(creds.read_bytes())["operator"]  # with its site_ids
        yield Sandbox(base, operator, tmp_path / "data" / "voltgate.db")


def _idle(fleet: Fleet, bidirectional: bool | None = None) -> tuple[SimulatedCharger, int]:
    for charger in fleet.chargers:
        if bidirectional is not None and charger.model.bidirectional is not bidirectional:
            continue
        for connector in charger.connectors:
            if not connector.busy and connector.state == "available":
                return charger, connector.number
    raise AssertionError("no idle connector in the fleet")


class Lag:
    """How late the test's own event loop woke from a 0.1 s sleep, at worst: the chargers run
    on it, so a starved or blocked client shows here rather than as a slow server."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.1)
            self.worst = max(self.worst, loop.time() - before - 0.1)

    def stop(self) -> None:
        self._task.cancel()

    def __str__(self) -> str:
        return f"the test's loop woke at worst {self.worst:.3f} s late"


_SHOWN = ("status", "reason", "device_id", "created_at", "delivered_at", "updated_at")


async def _settled(
    ops: OperatorClient, fleet: Fleet, lag: Lag, command_id: str, timeout: float = 30.0
) -> dict[str, object]:
    """The command once it has settled. The timeout only catches one that never does: between
    arriving and `completed` its charger makes four calls, seconds apart on a busy machine.
    Failing, it shows where the command and the fleet were."""
    deadline = time.monotonic() + timeout
    while True:
        command = await ops.command(command_id)
        if command["status"] in ("completed", "failed", "rejected", "expired"):
            return command
        assert time.monotonic() < deadline, (
            {k: command.get(k) for k in _SHOWN},
            f"received by its charger at {fleet.stats.received.get(command_id)}",
            fleet.stats.summary(),
            list(fleet.stats.recent_errors),
            str(lag),
        )
        await asyncio.sleep(0.1)


def _query(database: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchall()


async def _stored(database: Path, accepted: int, timeout: float = 10.0) -> int:
    """Telemetry rows once the server has written what it acknowledged (it writes in batches
    every 0.25 s), or as many as there are at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        rows = int(_query(database, "SELECT count(*) FROM telemetry")[0][0])
        if rows >= accepted or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


def _reports(database: Path) -> dict[str, tuple[int, float]]:
    """Each charger's telemetry posts stored (one `received_at` each) and when the last came."""
    sql = "SELECT device_id, count(DISTINCT received_at), max(received_at) FROM telemetry"
    return {device: (posts, last) for device, posts, last in _query(database, sql + " GROUP BY 1")}


def _acknowledged(http: httpx.AsyncClient) -> list[int]:
    """The `accepted` of each telemetry post the server acknowledged (2xx), as its answer
    reaches the fleet's connection pool. Not `Stats.readings`: adding across an await, it can
    lose an increment when many chargers stop mid-post at once."""
    accepted: list[int] = []

    async def count(response: httpx.Response) -> None:
        request = response.request
        path = (request.method, request.url.path)
        if path == ("POST", "/v1/device/telemetry") and response.is_success:
            await response.aread()
            accepted.append(int(unwrap(response)["accepted"]))

    http.event_hooks["response"].append(count)
    return accepted


async def test_200_chargers_for_60_s_with_no_errors_and_a_command_round_trip(
    tmp_path: Path,
) -> None:
    with sandbox(tmp_path, fleet=0) as sb:
        config = FleetConfig(
            sb.base_url, CHARGERS, behaviour=Behaviour(fault_rate=6.0, arrival_rate=6.0), seed=4
        )
        async with (
            Fleet(config) as fleet,
            OperatorClient(
                sb.base_url, sb.operator["client_id"], sb.operator["client_secret"]
            ) as ops,
        ):
            await fleet.register()
            assert len(fleet.chargers) == CHARGERS, list(fleet.stats.recent_errors)
            acknowledged = _acknowledged(fleet.http)
            lag = Lag()
            began = time.time()
            running = asyncio.create_task(fleet.run(RUN_SECONDS))
            await asyncio.sleep(15)  # every charger has reported and holds a long-poll

            charger, connector = _idle(fleet)
            # The operator's token and connection first: what is measured is the command's
            # way, from the operator's request to the charger, not a token request's.
            await ops.devices(size=1)
            sent = time.monotonic()
            issued = await ops.start(
                charger.device_id, connector, charge_power=7.0, duration=600, target_soc=90
            )
            answered = time.monotonic() - sent
            assert issued["status"] == "queued" and issued["device_online"] is True
            while issued["command_id"] not in fleet.stats.received:
                assert time.monotonic() - sent < 1.0, "the command did not arrive within 1 s"
                await asyncio.sleep(0.005)
            latency = fleet.stats.received[issued["command_id"]] - sent
            assert latency < 1.0, (
                f"arrived {latency:.3f} s after sending; answered in {answered:.3f}"
            )
            assert (await _settled(ops, fleet, lag, issued["command_id"]))["status"] == "completed"
            latest = await ops.latest_telemetry(charger.device_id)
            session = next(c for c in latest["connectors"] if c["connector"] == connector)
            assert session["state"] == "charging"

            # V2G on a bidirectional charger completes; an AC charger refuses it.
            v2g, number = _idle(fleet, bidirectional=True)
            discharge = await ops.discharge(
                v2g.device_id, number, discharge_power=5.0, duration=600, min_soc=20
            )
            settled = await _settled(ops, fleet, lag, discharge["command_id"])
            assert settled["status"] == "completed"
            ac, number = _idle(fleet, bidirectional=False)
            refused = await ops.discharge(
                ac.device_id, number, discharge_power=5.0, duration=600, min_soc=20
            )
            assert (await _settled(ops, fleet, lag, refused["command_id"]))["status"] == "rejected"

            stats = await running
            lag.stop()
            devices = {c.device_id for c in fleet.chargers}
        stored = await _stored(sb.database, sum(acknowledged))
        reports = _reports(sb.database)
    assert stats.error_count == 0, (dict(stats.errors), list(stats.recent_errors))
    # Every charger kept reporting: more than one post of each stored, the last in the final
    # third of the run. Not a rate: how soon 200 chargers get their first token, and how far a
    # busy machine stretches each 5 s pause, depend on the machine.
    final_third = began + RUN_SECONDS * 2 / 3
    stalled = {
        device: reports.get(device)
        for device in devices
        if device not in reports or reports[device][0] < 2 or reports[device][1] < final_third
    }
    assert not stalled, f"(posts, last) of chargers that stopped reporting: {stalled}; {lag}"
    assert stats.ok["heartbeat"] >= CHARGERS and stats.ok["commands"] > 0
    assert stats.ok["events"] > 0 and stats.ok["charging_record"] > 0
    # Nothing the server acknowledged was lost, and nothing was stored unacknowledged: a post on
    # the wire when the fleet stops is finished (SimulatedCharger.report).
    assert stored == sum(acknowledged), (stored, sum(acknowledged), len(acknowledged))
    took = f"{latency * 1000:.1f} ms (answered in {answered * 1000:.1f} ms)"
    print(f"command latency {took}; {stored} readings stored; {stats.summary()}")


async def test_the_sandbox_starts_a_small_fleet_the_operator_sees(tmp_path: Path) -> None:
    with sandbox(tmp_path, fleet=3) as sb:
        async with OperatorClient(
            sb.base_url, sb.operator["client_id"], sb.operator["client_secret"]
        ) as ops:
            deadline = time.monotonic() + 30
            while True:  # each reports telemetry within 5 s of starting
                listed = await ops.devices()
                latest = [await ops.latest_telemetry(d["id"]) for d in listed["items"]]
                if len(latest) == 4 and all(t["online"] and t["connectors"] for t in latest):
                    break
                assert time.monotonic() < deadline, (listed, latest)
                await asyncio.sleep(0.5)
        # Three public chargers spread over the operator's sites, and a driver's home charger.
        sites = sorted(d["site_id"] or "" for d in listed["items"])
        assert sites[0] == "" and set(sites[1:]) == set(sb.operator["site_ids"]), sites
    async with httpx.AsyncClient() as http:  # stopped with the sandbox, fleet included
        with contextlib.suppress(httpx.TransportError):
            await http.get(sb.base_url + "/healthz", timeout=1)
            raise AssertionError("the sandbox is still answering")
