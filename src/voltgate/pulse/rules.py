"""The owner's rules run on what the vehicles stream: a charge limit (weekday or weekend) and a
departure schedule when a vehicle plugs in, preconditioning when it comes home inside the
window (or before departure when parked at home), and alerts. Nothing here reads vehicle_data:
the only inputs are stream frames and pulse's own clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from voltgate.pulse.config import Rules, distance_m, in_window
from voltgate.pulse.store import Alert, PulseStore

Send = Callable[[str, str, dict[str, Any]], Awaitable[None]]
PLOTTED = {"Soc": "soc", "ACChargingPower": "power_kw"}


@dataclass
class Car:
    charge_state: str | None = None
    soc: float | None = None
    limit: float | None = None
    location: tuple[float, float] | None = None
    near_home: bool | None = None  # None: not known yet (no approach from nowhere)
    drain_base: float | None = None  # SoC when it was last parked or last alerted
    energy_in: float | None = None
    reminded: str | None = None  # the local day of the last reminder check
    departed: str | None = None  # the local day of the last departure preconditioning
    capacity: float | None = None  # kWh at 100 %, from EnergyRemaining and Soc
    session_soc: float | None = None  # SoC when the charge started
    session_kwh: float = 0.0  # energy in since then


class Engine:
    def __init__(self, rules: Rules, store: PulseStore, send: Send) -> None:
        self.rules = rules
        self.store = store
        self.send = send
        self.cars: dict[str, Car] = {}

    def car(self, vin: str) -> Car:
        return self.cars.setdefault(vin, Car())

    async def frame(self, vin: str, at: float, now: float, data: list[dict[str, Any]]) -> None:
        """One stream message; SoC first so a state change judges the level it ended at."""
        values = {item["key"]: item["value"] for item in data}
        car = self.car(vin)
        for key, name in PLOTTED.items():
            if isinstance(values.get(key), int | float):
                self.store.sample(vin, at, name, float(values[key]))
        if isinstance(values.get("ChargeLimitSoc"), int | float):
            car.limit = float(values["ChargeLimitSoc"])
        if isinstance(values.get("ACChargingEnergyIn"), int | float):
            self._energy(vin, car, at, float(values["ACChargingEnergyIn"]))
        if isinstance(values.get("Soc"), int | float):
            self._soc(vin, car, at, float(values["Soc"]))
            remaining = values.get("EnergyRemaining")
            if isinstance(remaining, int | float) and float(values["Soc"]) > 5:
                car.capacity = float(remaining) * 100 / float(values["Soc"])
        if isinstance(values.get("ChargeState"), str):
            await self._charge_state(vin, car, at, now, values["ChargeState"])
        where = values.get("Location")
        if isinstance(where, dict) and "latitude" in where and "longitude" in where:
            await self._location(
                vin, car, now, (float(where["latitude"]), float(where["longitude"]))
            )

    def _energy(self, vin: str, car: Car, at: float, total: float) -> None:
        # A session's counter only grows; a smaller value is a new session starting from 0.
        added = (
            total - car.energy_in if car.energy_in is not None and total >= car.energy_in else total
        )
        car.energy_in = total
        if car.charge_state == "Charging":
            car.session_kwh += max(added, 0.0)
        if added > 0:
            self.store.add_energy(self.rules.local(at).date().isoformat(), vin, added)

    def _soc(self, vin: str, car: Car, at: float, soc: float) -> None:
        car.soc = soc
        if car.charge_state in (None, "Charging"):
            return
        if car.drain_base is None or soc > car.drain_base:
            car.drain_base = soc
        elif car.drain_base - soc >= self.rules.drain_threshold:
            lost = car.drain_base - soc
            message = (
                f"lost {lost:.1f} % while parked, not charging ({car.drain_base:.1f} → {soc:.1f} %)"
            )
            self._alert(at, vin, "idle_drain", message)
            car.drain_base = soc

    async def _charge_state(self, vin: str, car: Car, at: float, now: float, state: str) -> None:
        before, car.charge_state = car.charge_state, state
        if before == state:
            return
        car.drain_base = None if state == "Charging" else car.soc
        if state == "Charging":
            car.session_soc, car.session_kwh = car.soc, 0.0
        elif before == "Charging":
            self._efficiency(vin, car, at)
        stopped = before == "Charging" and state in ("Stopped", "Disconnected", "NoPower")
        soc, limit = car.soc, car.limit
        margin = self.rules.stopped_early_margin
        if stopped and soc is not None and limit is not None and soc < limit - margin:
            message = f"charging stopped at {soc:.1f} %, below its limit of {limit:.0f} %"
            self._alert(at, vin, "stopped_early", message)
        if before == "Disconnected" and state != "Disconnected":
            await self._plugged_in(vin, now)

    def _efficiency(self, vin: str, car: Car, at: float) -> None:
        """A finished charge whose energy in and SoC gained disagree beyond the usual losses."""
        start, end, capacity = car.session_soc, car.soc, car.capacity
        car.session_soc = None
        if start is None or end is None or capacity is None:
            return
        if car.session_kwh < self.rules.efficiency_min_kwh or end <= start:
            return
        stored = (end - start) / 100 * capacity
        ratio = stored / car.session_kwh
        low, high = self.rules.efficiency_range
        if not low <= ratio <= high:
            message = (
                f"{car.session_kwh:.1f} kWh in, {stored:.1f} kWh stored ({ratio:.0%}; "
                f"usual {low:.0%}-{high:.0%})"
            )
            self._alert(at, vin, "efficiency", message)

    async def _plugged_in(self, vin: str, now: float) -> None:
        rules = self.rules
        await self.send(vin, "set_charge_limit", {"percent": rules.limit_on(now)})
        if rules.departure is not None:
            minutes = rules.departure.hour * 60 + rules.departure.minute
            schedule: dict[str, Any] = {
                "id": 1,  # pulse's one schedule, replaced each time
                "days_of_week": rules.departure_days,
                "enabled": True,
                "start_enabled": False,
                "end_enabled": True,
                "end_time": minutes,
                "lat": rules.home[0] if rules.home else 0.0,
                "lon": rules.home[1] if rules.home else 0.0,
            }
            await self.send(vin, "add_charge_schedule", schedule)

    async def _location(self, vin: str, car: Car, now: float, where: tuple[float, float]) -> None:
        car.location = where
        home = self.rules.home
        if home is None:
            return
        away = distance_m(where, home)
        near = away <= self.rules.home_radius_m
        arriving = car.near_home is False and near
        if near or away > self.rules.home_radius_m * 1.5:  # between: keep what it was
            car.near_home = near
        if arriving and in_window(self.rules.local(now).time(), self.rules.precondition_window):
            await self.send(vin, "auto_conditioning_start", {})

    async def tick(self, now: float) -> None:
        """The clock's rules: the evening reminder and preconditioning before departure."""
        local = self.rules.local(now)
        day = local.date().isoformat()
        for vin, car in self.cars.items():
            self._remind(vin, car, now, local, day)
            await self._before_departure(vin, car, local, day)

    def _remind(self, vin: str, car: Car, now: float, local: datetime, day: str) -> None:
        rules = self.rules
        if rules.reminder_time is None or car.reminded == day or local.time() < rules.reminder_time:
            return
        car.reminded = day
        if (
            car.charge_state == "Disconnected"
            and car.soc is not None
            and car.soc < rules.reminder_below
        ):
            message = f"not plugged in at {car.soc:.0f} % (below {rules.reminder_below:.0f} %)"
            self._alert(now, vin, "reminder", message)

    async def _before_departure(self, vin: str, car: Car, local: datetime, day: str) -> None:
        rules = self.rules
        if rules.departure is None or car.departed == day or not car.near_home:
            return
        leave = local.replace(hour=rules.departure.hour, minute=rules.departure.minute, second=0)
        if leave - timedelta(minutes=rules.precondition_before_departure_min) <= local <= leave:
            car.departed = day
            await self.send(vin, "auto_conditioning_start", {})

    def _alert(self, at: float, vin: str, kind: str, message: str) -> None:
        self.store.alert(Alert(at, vin, kind, message))
