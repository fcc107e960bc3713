"""Live: simulated chargers against a real `voltgate sandbox` (embedded default) — 200 of them
for 60 s with no failed call, an operator's command reaching its charger through the long-poll
within a second and flowing back to `completed`, every accepted reading stored; and the
sandbox's own small fleet showing up in the operator API."""

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


async def _settled(
    ops: OperatorClient, command_id: str, timeout: float = 10.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        command = await ops.command(command_id)
        if command["status"] in ("completed", "failed", "rejected", "expired"):
            return command
        assert time.monotonic() < deadline, command
        await asyncio.sleep(0.1)


def _telemetry_rows(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM telemetry").fetchone()[0])


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
            assert (await _settled(ops, issued["command_id"]))["status"] == "completed"
            latest = await ops.latest_telemetry(charger.device_id)
            session = next(c for c in latest["connectors"] if c["connector"] == connector)
            assert session["state"] == "charging"

            # V2G on a bidirectional charger completes; an AC charger refuses it.
            v2g, number = _idle(fleet, bidirectional=True)
            discharge = await ops.discharge(
                v2g.device_id, number, discharge_power=5.0, duration=600, min_soc=20
            )
            assert (await _settled(ops, discharge["command_id"]))["status"] == "completed"
            ac, number = _idle(fleet, bidirectional=False)
            refused = await ops.discharge(
                ac.device_id, number, discharge_power=5.0, duration=600, min_soc=20
            )
            assert (await _settled(ops, refused["command_id"]))["status"] == "rejected"

            stats = await running
        await asyncio.sleep(1.0)  # accepted readings are durable within a second
        stored = _telemetry_rows(sb.database)
    assert stats.error_count == 0, (dict(stats.errors), list(stats.recent_errors))
    # About every 5 s each; the floor only shows every charger kept reporting (a busy CI box
    # stretches each 5 s pause by the post's own latency).
    assert stats.ok["telemetry"] >= CHARGERS * (RUN_SECONDS / 5 - 4)
    assert stats.ok["heartbeat"] >= CHARGERS and stats.ok["commands"] > 0
    assert stats.ok["events"] > 0 and stats.ok["charging_record"] > 0
    # Every reading the server accepted is stored. A post still on the wire when the fleet
    # stops may be stored without its answer reaching the simulator (at most one per charger).
    assert stats.readings <= stored <= stats.readings + 2 * CHARGERS, (stored, stats.readings)
    took = f"{latency * 1000:.1f} ms (answered in {answered * 1000:.1f} ms)"
    print(f"command latency {took}; {stats.summary()}")


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
