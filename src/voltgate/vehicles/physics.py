"""A vehicle's present, computed from its stored state and the clock instead of ticked.

While charging, the battery gains `charging_amps * charger_voltage` (kW) until the charge limit;
the moment it gets there is known in advance, so every instance that reads the vehicle later
agrees on it. A vehicle that is not charging and has not been touched for `sleep_after` seconds
is asleep (running climate keeps it awake, as the car's HVAC does); a wake-up makes it online
`wake_seconds` later. The cabin approaches the climate's setpoint (10-minute time constant)
while climate runs, and the outside temperature (2 hours) while it does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from voltgate.vehicles.store import SessionEnd, Transition, Vehicle

MIN_TEMP = 15.0  # Tesla's min_avail_temp / max_avail_temp, °C
MAX_TEMP = 28.0
REMOTE_START_SECONDS = 120.0  # a remote start lapses unless driven off within two minutes
_CLIMATE_TAU = 600.0
_PARKED_TAU = 7200.0


@dataclass(frozen=True, slots=True)
class Policy:
    sleep_after: float
    wake_seconds: float


@dataclass(frozen=True, slots=True)
class Present:
    at: float
    level: float
    charging: bool
    charging_state: str
    energy_added: float
    online: bool
    completed_at: float | None  # the stored charge reached its limit at this time
    inside_temp: float
    remote_start: bool
    # What the vehicle's streaming connection says (`Links`): None for a vehicle that does not
    # stream, else "online", "asleep" (it closed its socket cleanly) or "offline" (it dropped).
    link: str | None = None

    @property
    def state(self) -> str:
        if self.link is not None:
            return self.link
        return "online" if self.online else "asleep"

    @property
    def reachable(self) -> bool:
        """Takes commands and answers: online, by its connection when it streams."""
        return self.online if self.link is None else self.link == "online"


def power_kw(vehicle: Vehicle) -> float:
    return vehicle.charging_amps * vehicle.charger_voltage / 1000


def _percent_per_second(vehicle: Vehicle) -> float:
    return power_kw(vehicle) / vehicle.battery_kwh * 100 / 3600


def session_energy(vehicle: Vehicle, level: float) -> float:
    """kWh added since the open session started, at battery `level`."""
    if vehicle.session_start_level is None:
        return vehicle.energy_added
    return max(0.0, level - vehicle.session_start_level) * vehicle.battery_kwh / 100


def finishes_at(vehicle: Vehicle) -> float:
    """When a charging vehicle reaches its limit (or `inf` when it is not charging)."""
    rate = _percent_per_second(vehicle)
    if not vehicle.charging or rate <= 0:
        return math.inf
    target = max(vehicle.battery_level, vehicle.charge_limit)
    return vehicle.state_at + (target - vehicle.battery_level) / rate


def cabin_temp(vehicle: Vehicle, now: float) -> float:
    """The inside temperature at `now`: exponential approach to the setpoint (max defrost heats
    to the maximum) while climate runs, else to the outside temperature."""
    if vehicle.climate_on:
        target = MAX_TEMP if vehicle.defrost_on else vehicle.driver_temp
        tau = _CLIMATE_TAU
    else:
        target, tau = vehicle.outside_temp, _PARKED_TAU
    elapsed = max(0.0, now - vehicle.climate_at)
    return target + (vehicle.inside_temp - target) * math.exp(-elapsed / tau)


def present(vehicle: Vehicle, now: float, policy: Policy) -> Present:
    level, charging, state = vehicle.battery_level, vehicle.charging, vehicle.charging_state
    completed_at: float | None = None
    if vehicle.charging:
        finish = finishes_at(vehicle)
        if now >= finish:
            level = max(vehicle.battery_level, vehicle.charge_limit)
            charging, state, completed_at = False, "Complete", finish
        else:
            elapsed = max(0.0, now - vehicle.state_at)
            level = vehicle.battery_level + _percent_per_second(vehicle) * elapsed
    quiet_since = max(vehicle.last_active_at, completed_at or -math.inf)
    busy = charging or vehicle.climate_on
    online = now >= vehicle.awake_from and (busy or now < quiet_since + policy.sleep_after)
    started = vehicle.remote_start_at
    return Present(
        at=now,
        level=level,
        charging=charging,
        charging_state=state,
        energy_added=session_energy(vehicle, level) if vehicle.charging else vehicle.energy_added,
        online=online,
        completed_at=completed_at,
        inside_temp=cabin_temp(vehicle, now),
        remote_start=started is not None and started <= now < started + REMOTE_START_SECONDS,
    )


def rebase(vehicle: Vehicle, now: float, policy: Policy) -> tuple[Vehicle, tuple[SessionEnd, ...]]:
    """The vehicle's state as of `now` (a finished charge closed at the time it finished), and
    the session that finish ended. The version is left as it was."""
    if vehicle.climate_at < now:
        vehicle = replace(vehicle, inside_temp=cabin_temp(vehicle, now), climate_at=now)
    if not vehicle.charging:
        return vehicle, ()
    seen = present(vehicle, now, policy)
    if seen.completed_at is None:
        rebased = replace(
            vehicle, battery_level=seen.level, energy_added=seen.energy_added, state_at=now
        )
        return rebased, ()
    done = seen.completed_at
    ends: tuple[SessionEnd, ...] = ()
    if vehicle.session_id is not None:
        ends = (SessionEnd(vehicle.session_id, done, seen.level, seen.energy_added, "complete"),)
    completed = replace(
        vehicle,
        battery_level=seen.level,
        charging=False,
        charging_state="Complete",
        state_at=done,
        last_active_at=max(vehicle.last_active_at, done),
        session_id=None,
        session_start_level=None,
        energy_added=seen.energy_added,
    )
    return completed, ends


def settle(vehicle: Vehicle, now: float, policy: Policy) -> Transition | None:
    """The change that records a charge which finished before `now`, if there is one."""
    if not vehicle.charging or finishes_at(vehicle) > now:
        return None
    completed, ends = rebase(vehicle, now, policy)
    return Transition(vehicle, replace(completed, version=vehicle.version + 1), ends)
