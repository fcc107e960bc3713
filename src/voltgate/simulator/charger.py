"""One simulated charger: its connectors' physics, reported through a `DeviceClient`, and the
operator's commands carried out (or refused) the way a charger would.

Three loops per charger: every 5 s a physics step and a telemetry post (plus the events and
charging records the step produced); every 30 s a heartbeat; and a long-poll for commands that
is always outstanding. Commands are handled once each, whichever way they arrive.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from voltgate.sdk.device import Command, DeviceClient
from voltgate.simulator.physics import Connector, Model, Session, Vehicle
from voltgate.simulator.stats import Stats

T = TypeVar("T")

FAULTS = (
    ("GFCI", "ground fault detected"),
    ("OVERTEMP", "connector over temperature"),
    ("EVSE_COMM", "lost communication with the vehicle"),
    ("METER", "energy meter not responding"),
)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the simulated world around the chargers behaves."""

    telemetry_every: float = 5.0
    heartbeat_every: float = 30.0
    poll_wait: int = 30
    fault_rate: float = 0.5  # faults per charger per hour
    arrival_rate: float = 1.0  # vehicles arriving per idle connector per hour
    fault_seconds: tuple[float, float] = (20.0, 120.0)
    leave_after: tuple[float, float] = (10.0, 60.0)  # a finished vehicle stays this long


class SimulatedCharger:
    def __init__(
        self,
        client: DeviceClient,
        model: Model,
        stats: Stats,
        behaviour: Behaviour,
        rng: random.Random,
    ) -> None:
        self.client = client
        self.model = model
        self.stats = stats
        self.behaviour = behaviour
        self.rng = rng
        self.connectors = [
            Connector(n, kind, kw, model.dc, model.bidirectional)
            for n, (kind, kw) in enumerate(model.connectors, 1)
        ]
        self._handled: set[str] = set()
        self._cap = (1.0, 0.0)  # (fraction of max power, until) from set_power_limit
        self._paused_until = 0.0
        self._leaving: dict[int, float] = {}  # connector -> when the finished vehicle leaves
        self._transactions = 0
        # Sessions to report: opened (stopped_at None) or ended, since the last report.
        self._records: list[tuple[Connector, Session | None, float | None]] = []
        self._last_step = time.monotonic()

    @property
    def device_id(self) -> str:
        return self.client.device_id or "?"

    async def _call(self, name: str, work: Awaitable[T]) -> T | None:
        """Run one SDK call; every failure is counted, none stops the charger."""
        number = self.stats.began(name)
        try:
            result = await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats.failed(name, exc)
            return None
        finally:
            self.stats.ended(number)
        self.stats.ok[name] += 1
        return result

    async def run(self) -> None:
        # A task group, not gather: cancelled, gather ends as soon as one loop has ended and
        # leaves a telemetry post that `report` lets finish still running, after which the
        # fleet closes the connection pool under it. The group waits for every loop.
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._telemetry_loop())
                group.create_task(self._heartbeat_loop())
                group.create_task(self._command_loop())
        except Exception as exc:  # a bug in the simulator: counted, and raised by Fleet.stop
            self.stats.failed("crashed", exc)
            raise

    # -- the three loops -------------------------------------------------------------------
    async def _telemetry_loop(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.behaviour.telemetry_every))
        while True:
            await self.tick()
            await asyncio.sleep(self.behaviour.telemetry_every)

    async def _heartbeat_loop(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.behaviour.heartbeat_every))
        while True:
            states = [{"connector": c.number, "state": c.state} for c in self.connectors]
            for entry, connector in zip(states, self.connectors, strict=True):
                if connector.vehicle is not None:
                    entry["soc"] = round(connector.vehicle.soc, 2)
            beat = await self._call("heartbeat", self.client.heartbeat("ok", states))
            for command in beat.commands if beat else ():
                await self.handle(command)
            await asyncio.sleep(self.behaviour.heartbeat_every)

    async def _command_loop(self) -> None:
        while True:
            commands = await self._call("commands", self.client.commands(self.behaviour.poll_wait))
            if commands is None:
                await asyncio.sleep(self.rng.uniform(1, 3))  # counted; do not spin
                continue
            for command in commands:
                await self.handle(command)

    # -- the world moves on ------------------------------------------------------------------
    async def tick(self) -> None:
        """One physics step since the last, then report it."""
        mono, now = time.monotonic(), time.time()
        dt, self._last_step = mono - self._last_step, mono
        self._maybe_fault(dt, now)
        cap, until = self._cap
        fraction = cap if now < until else 1.0
        for connector in self.connectors:
            self._move(connector, dt, now, fraction)
        await self.report(now)

    def _maybe_fault(self, dt: float, now: float) -> None:
        b = self.behaviour
        for connector in self.connectors:
            if connector.fault_until is not None and now >= connector.fault_until:
                connector.clear_fault(now)
        if self.rng.random() < b.fault_rate * dt / 3600:
            connector = self.rng.choice(self.connectors)
            if connector.state != "faulted":
                code, message = self.rng.choice(FAULTS)
                ended = connector.fault(
                    now, now + self.rng.uniform(*b.fault_seconds), code, message
                )
                if ended is not None:
                    self._records.append((connector, ended, now))

    def _move(self, connector: Connector, dt: float, now: float, fraction: float) -> None:
        b = self.behaviour
        leaving = self._leaving.get(connector.number)
        if leaving is not None and now >= leaving and not connector.busy:
            del self._leaving[connector.number]
            connector.unplug(now)
        if connector.state == "available" and self.rng.random() < b.arrival_rate * dt / 3600:
            connector.plug_in(Vehicle.arriving(self.rng, connector.dc), now)
            target = round(self.rng.uniform(80, 100), 0)
            self._start(connector, now, target, None, None)
        ended = connector.step(dt, now, fraction, paused=now < self._paused_until)
        if ended:
            self._stop(connector, now)

    def _start(
        self,
        connector: Connector,
        now: float,
        target_soc: float,
        duration: float | None,
        power: float | None,
        *,
        discharge: bool = False,
        min_soc: float = 0.0,
        transaction_id: str | None = None,
    ) -> None:
        self._transactions += 1
        meter_start = round(connector.meter_kwh, 4)
        connector.begin(
            Session(
                # Unique across restarts of the simulator (the charger's counter is not kept).
                transaction_id=transaction_id
                or f"{self.device_id[-8:]}-{int(now * 1000):x}-{self._transactions}",
                started_at=now,
                meter_start=meter_start,
                target_soc=target_soc,
                ends_at=None if duration is None else now + duration,
                discharge=discharge,
                requested_kw=power,
                min_soc=min_soc,
                last_meter_at=now,
            )
        )
        self._records.append((connector, connector.session, None))

    def _stop(self, connector: Connector, now: float) -> None:
        ended = connector.finish(now)
        if ended is not None:
            self._records.append((connector, ended, now))
            self._leaving[connector.number] = now + self.rng.uniform(*self.behaviour.leave_after)

    # -- reporting -------------------------------------------------------------------------
    async def report(self, now: float) -> None:
        """Telemetry for every connector, then the events and records since the last report."""
        readings = [c.reading() for c in self.connectors]
        post = asyncio.ensure_future(
            self._call("telemetry", self.client.telemetry(readings, timestamp=now))
        )
        try:
            accepted = await asyncio.shield(post)
        except asyncio.CancelledError:
            # Stopping: a post already on the wire may be stored; finish it so it is counted.
            finished = await post  # read the count after the await: others add meanwhile
            self.stats.readings += finished or 0
            raise
        self.stats.readings += accepted or 0
        events = [e for c in self.connectors for e in c.pending]
        for connector in self.connectors:
            connector.pending.clear()
        if events:
            await self._call("events", self.client.events(events))
        records, self._records = self._records, []
        for connector, session, stopped_at in records:
            if session is not None:
                await self._call(
                    "charging_record",
                    self.client.charging_record(_record(connector, session, stopped_at)),
                )

    # -- commands --------------------------------------------------------------------------
    async def handle(self, command: Command) -> None:
        if command.command_id in self._handled:
            return
        self._handled.add(command.command_id)
        self.stats.received.setdefault(command.command_id, time.monotonic())
        now = time.time()
        if command.expires_at and now > command.expires_at + 5:
            verdict: str | None = "the command expired before it arrived"
        else:
            handler = self._handlers.get(command.type)
            verdict = (
                f"unsupported command type {command.type!r}"
                if handler is None
                else handler(self, command, now)
            )
        if verdict is not None:
            self.stats.commands[f"{command.type}:rejected"] += 1
            await self._call(
                "command_status",
                self.client.command_status(command.command_id, "rejected", verdict),
            )
            return
        self.stats.commands[f"{command.type}:accepted"] += 1
        await self._call(
            "command_status", self.client.command_status(command.command_id, "accepted")
        )
        await self.report(now)  # the operator sees the new state before the command completes
        self.stats.commands[f"{command.type}:completed"] += 1
        await self._call(
            "command_status", self.client.command_status(command.command_id, "completed")
        )

    def _connector(self, command: Command) -> Connector | str:
        if command.connector is None:
            return "this command needs a connector"
        for connector in self.connectors:
            if connector.number == command.connector:
                if connector.state == "faulted":
                    return f"connector {connector.number} is faulted"
                return connector
        return f"no connector {command.connector}"

    def _on_start(self, command: Command, now: float) -> str | None:
        connector = self._connector(command)
        if isinstance(connector, str):
            return connector
        if connector.busy:
            return f"connector {connector.number} is already in a session"
        p = command.params
        if connector.vehicle is None:
            connector.plug_in(Vehicle.arriving(self.rng, connector.dc), now)  # the driver waits
        assert connector.vehicle is not None
        target = float(p.get("target_soc") or 100)
        if connector.vehicle.soc >= target:
            return f"the vehicle is already at {connector.vehicle.soc:.0f} % (target {target:g} %)"
        duration = p.get("duration")
        power = p.get("charge_power")
        transaction = p.get("transaction_id")
        self._leaving.pop(connector.number, None)
        self._start(
            connector,
            now,
            target,
            float(duration) if duration else None,
            float(power) if power else None,
            transaction_id=str(transaction) if transaction else None,
        )
        return None

    def _on_stop(self, command: Command, now: float) -> str | None:
        connector = self._connector(command)
        if isinstance(connector, str):
            return connector
        if not connector.busy:
            return f"no session on connector {connector.number}"
        self._stop(connector, now)
        return None

    def _on_discharge(self, command: Command, now: float) -> str | None:
        connector = self._connector(command)
        if isinstance(connector, str):
            return connector
        if not connector.bidirectional:
            return f"{self.model.name} cannot discharge (not bidirectional)"
        if connector.busy:
            return f"connector {connector.number} is already in a session"
        p = command.params
        if connector.vehicle is None:
            vehicle = Vehicle.arriving(self.rng, connector.dc)
            vehicle.soc = round(self.rng.uniform(60, 90), 1)
            connector.plug_in(vehicle, now)
        assert connector.vehicle is not None
        floor = float(p.get("min_soc") or 20)
        if connector.vehicle.soc <= floor:
            return f"the vehicle is at {connector.vehicle.soc:.0f} %, not above min_soc {floor:g}"
        duration, power = p.get("duration"), p.get("discharge_power")
        self._leaving.pop(connector.number, None)
        self._start(
            connector,
            now,
            connector.vehicle.soc,
            float(duration) if duration else None,
            float(power) if power else None,
            discharge=True,
            min_soc=floor,
        )
        return None

    def _on_schedule(self, command: Command, now: float) -> str | None:
        connector = self._connector(command)
        return connector if isinstance(connector, str) else None  # kept by the charger

    def _on_power_limit(self, command: Command, now: float) -> str | None:
        percent = command.params.get("power_limit_percent")
        if not isinstance(percent, int | float) or not 0 <= percent <= 100:
            return "power_limit_percent must be 0..100"
        duration = float(command.params.get("duration") or 3600)
        self._cap = (percent / 100, now + duration)
        return None

    def _on_pause(self, command: Command, now: float) -> str | None:
        self._paused_until = now + float(command.params.get("duration") or 900)
        return None

    _handlers: dict[str, Callable[[SimulatedCharger, Command, float], str | None]] = {
        "start": _on_start,
        "stop": _on_stop,
        "discharge": _on_discharge,
        "schedule": _on_schedule,
        "set_power_limit": _on_power_limit,
        "pause_charging": _on_pause,
    }


def _record(connector: Connector, session: Session, stopped_at: float | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "transaction_id": session.transaction_id,
        "connector": connector.number,
        "started_at": round(session.started_at, 3),
        "energy_kwh": round(session.energy_kwh, 4),
        "meter_start": session.meter_start,
    }
    if stopped_at is not None:
        record["stopped_at"] = round(stopped_at, 3)
        record["meter_stop"] = round(session.meter_start + session.energy_kwh, 4)
        record["meter_values"] = session.meter_values[-2000:]
    return record
