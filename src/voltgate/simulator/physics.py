"""What a simulated connector does between two readings: vehicles arrive, charge along a
believable curve (a ramp up, full power, a taper above 80 % SoC), discharge to the grid (V2G)
down to a floor, and leave.

Energy is the integral of power over time; SoC moves by energy over the battery's capacity.
All of it is plain state advanced by `step(dt)`; the charger (`charger.py`) reports it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

TAPER_FROM = 80.0  # SoC % above which a battery takes less and less power
TAPER_FLOOR = 0.05  # the share of full power still taken at 100 %
RAMP_SECONDS = 15.0  # from 0 to full power
AC_PHASE_VOLTS = 230.0
METER_EVERY = 60.0  # seconds between two meter values of a session


@dataclass(frozen=True, slots=True)
class Model:
    """A charger model: its connectors' (type, max kW), and whether they can discharge."""

    name: str
    connectors: tuple[tuple[str, float], ...]
    bidirectional: bool
    weight: int  # how common it is in a simulated fleet

    @property
    def dc(self) -> bool:
        return self.connectors[0][0] in ("CCS1", "CCS2", "CHAdeMO", "GBT", "NACS")


MODELS = (
    Model("Tellus AC22", (("Type2", 22.0), ("Type2", 22.0)), bidirectional=False, weight=5),
    Model("Tellus DC60", (("CCS2", 60.0),), bidirectional=True, weight=3),
    Model("Tellus DC150", (("CCS2", 150.0), ("CCS2", 150.0)), bidirectional=True, weight=2),
)
# A driver's wallbox at home: never drawn for a public fleet, placed by the sandbox's world.
HOME_MODEL = Model("Tellus Home11", (("Type2", 11.0),), bidirectional=False, weight=0)


@dataclass(slots=True)
class Vehicle:
    capacity_kwh: float
    soc: float
    max_kw: float  # what its battery (DC) or on-board charger (AC) takes at most

    @classmethod
    def arriving(cls, rng: random.Random, dc: bool) -> Vehicle:
        capacity = rng.choice((40.0, 58.0, 64.0, 77.0, 100.0))
        on_board = rng.choice((7.4, 11.0, 22.0))
        return cls(
            capacity, round(rng.uniform(10, 60), 1), rng.uniform(90, 250) if dc else on_board
        )


@dataclass(slots=True)
class Session:
    transaction_id: str
    started_at: float
    meter_start: float
    target_soc: float
    ends_at: float | None  # the requested duration runs out (Unix seconds)
    discharge: bool = False
    requested_kw: float | None = None  # a start command's charge_power / discharge_power
    min_soc: float = 0.0
    energy_kwh: float = 0.0
    meter_values: list[dict[str, Any]] = field(default_factory=list)
    last_meter_at: float = 0.0


@dataclass(slots=True)
class Connector:
    number: int
    type: str
    max_kw: float
    dc: bool
    bidirectional: bool
    state: str = "available"
    vehicle: Vehicle | None = None
    session: Session | None = None
    power_kw: float = 0.0
    meter_kwh: float = 0.0  # the connector's lifetime energy register
    fault_until: float | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)  # events to report

    @property
    def busy(self) -> bool:
        return self.session is not None

    def plug_in(self, vehicle: Vehicle, now: float) -> None:
        self.vehicle = vehicle
        self.state = "preparing"
        self.pending.append({"type": "plug_in", "connector": self.number, "at": now})

    def begin(self, session: Session) -> None:
        self.session = session
        self.state = "discharging" if session.discharge else "charging"
        self.pending.append(
            {"type": "session_started", "connector": self.number, "at": session.started_at}
        )

    def finish(self, now: float) -> Session | None:
        """End the session (if any): the record to report. The vehicle stays plugged in."""
        session, self.session = self.session, None
        self.power_kw = 0.0
        if self.state not in ("faulted",):
            self.state = "finishing" if self.vehicle is not None else "available"
        if session is not None:
            self.pending.append({"type": "session_stopped", "connector": self.number, "at": now})
        return session

    def unplug(self, now: float) -> None:
        if self.vehicle is not None:
            self.vehicle = None
            self.pending.append({"type": "plug_out", "connector": self.number, "at": now})
        if self.state != "faulted":
            self.state = "available"

    def fault(self, now: float, until: float, code: str, message: str) -> Session | None:
        ended = self.finish(now)
        self.state, self.fault_until = "faulted", until
        self.pending.append(
            {"type": "fault", "connector": self.number, "code": code, "message": message, "at": now}
        )
        return ended

    def clear_fault(self, now: float) -> None:
        self.fault_until = None
        self.state = "preparing" if self.vehicle is not None else "available"
        self.pending.append({"type": "fault_cleared", "connector": self.number, "at": now})

    def target_kw(self, cap_fraction: float, paused: bool) -> float:
        """Where power is heading now (negative while discharging)."""
        session, vehicle = self.session, self.vehicle
        if session is None or vehicle is None or paused:
            return 0.0
        limit = min(self.max_kw * cap_fraction, vehicle.max_kw)
        if session.requested_kw is not None:
            limit = min(limit, session.requested_kw)
        if session.discharge:
            return -limit
        if vehicle.soc > TAPER_FROM:
            share = (100.0 - vehicle.soc) / (100.0 - TAPER_FROM)
            limit *= max(TAPER_FLOOR, share)
        return limit

    def step(self, dt: float, now: float, cap_fraction: float = 1.0, paused: bool = False) -> bool:
        """Advance `dt` seconds; True when the session reached its end (target, floor, time)."""
        target = self.target_kw(cap_fraction, paused)
        ramp = self.max_kw * dt / RAMP_SECONDS
        previous = self.power_kw
        self.power_kw = (
            target
            if abs(target - previous) <= ramp
            else previous + math.copysign(ramp, target - previous)
        )
        session, vehicle = self.session, self.vehicle
        if session is None or vehicle is None:
            return False
        if paused and not session.discharge:
            self.state = "suspended"
        elif self.state == "suspended":
            self.state = "charging"
        energy = (previous + self.power_kw) / 2 * dt / 3600  # trapezoid: kWh this step
        session.energy_kwh += abs(energy)
        self.meter_kwh += abs(energy)
        vehicle.soc = min(100.0, max(0.0, vehicle.soc + energy / vehicle.capacity_kwh * 100))
        if now - session.last_meter_at >= METER_EVERY:
            session.last_meter_at = now
            session.meter_values.append(
                {
                    "at": round(now, 3),
                    "energy_kwh": round(session.energy_kwh, 4),
                    "power_kw": round(self.power_kw, 3),
                    "soc": round(vehicle.soc, 2),
                }
            )
        if session.ends_at is not None and now >= session.ends_at:
            return True
        if session.discharge:
            return vehicle.soc <= session.min_soc
        return vehicle.soc >= session.target_soc

    def reading(self) -> dict[str, Any]:
        """This connector's telemetry entry."""
        power = round(self.power_kw, 3)
        reading: dict[str, Any] = {
            "connector": self.number,
            "state": self.state,
            "power_kw": power,
            "energy_kwh": round(self.session.energy_kwh, 4) if self.session else 0.0,
        }
        if self.vehicle is not None:
            reading["soc"] = round(self.vehicle.soc, 2)
            volts = (350.0 + self.vehicle.soc) if self.dc else AC_PHASE_VOLTS
            phases = 1 if self.dc else 3
            reading["voltage"] = round(volts, 1)
            reading["current"] = round(power * 1000 / (volts * phases), 2)
        return reading
