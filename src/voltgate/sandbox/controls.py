"""What happens to a sandbox vehicle in the world, not by a command: a cable plugged in or
pulled out, the car driven somewhere, its battery drained. Each is a change of the stored
vehicle as the car would change (its present first brought up to now by the physics, a charge
started or ended with its session), so the simulated car streams it like any other change.

Pure functions of (vehicle, now, policy): the vehicles service runs them in the vehicle's change
queue (`Vehicles.handle`), the sandbox's HTTP routes (`dialects/canonical/sandbox.py`) call it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from voltgate.errors import Conflict
from voltgate.vehicles.charging import start_charging
from voltgate.vehicles.physics import Policy, rebase
from voltgate.vehicles.store import SessionEnd, Transition, Vehicle

Act = Callable[[Vehicle, float, Policy], Transition | None]
_MILES_PER_METRE = 1 / 1609.344


def _touched(before: Vehicle, after: Vehicle, now: float) -> Vehicle:
    """Something happened to the car: it is awake now, and the change is a new version."""
    awake = min(after.awake_from, now)
    return replace(after, last_active_at=now, awake_from=awake, version=before.version + 1)


def _stopped(
    vehicle: Vehicle, now: float, state: str, reason: str = "stopped"
) -> tuple[Vehicle, tuple[SessionEnd, ...]]:
    """The open charge (if any) ends now with the level and energy the physics reached."""
    if not vehicle.charging:
        return replace(vehicle, charging_state=state), ()
    ends: tuple[SessionEnd, ...] = ()
    if vehicle.session_id is not None:
        ends = (
            SessionEnd(
                vehicle.session_id, now, vehicle.battery_level, vehicle.energy_added, reason
            ),
        )
    stopped = replace(
        vehicle, charging=False, charging_state=state, session_id=None, session_start_level=None
    )
    return stopped, ends


def plug_in(vehicle: Vehicle, now: float, policy: Policy) -> Transition | None:
    """A cable plugged in: the car charges at once below its limit (unless scheduled charging
    waits), like a car with no other settings; at or above it the charge is `Complete`."""
    if vehicle.plugged_in:
        return None  # already plugged in: nothing changes
    base, ends = rebase(vehicle, now, policy)
    plugged = replace(base, plugged_in=True, charge_port_open=True, state_at=now)
    start = None
    if plugged.battery_level >= plugged.charge_limit:
        plugged = replace(plugged, charging_state="Complete")
    elif plugged.scheduled_charging:
        plugged = replace(plugged, charging_state="Stopped")
    else:
        outcome = start_charging(plugged, now)
        plugged, start = outcome.vehicle, outcome.start
    return Transition(vehicle, _touched(vehicle, plugged, now), ends, start)


def unplug(vehicle: Vehicle, now: float, policy: Policy) -> Transition | None:
    """The cable pulled out: a charge under way stops there (its session ends, `stopped`)."""
    if not vehicle.plugged_in:
        return None
    base, completed = rebase(vehicle, now, policy)
    stopped, ends = _stopped(base, now, "Disconnected")
    after = replace(stopped, plugged_in=False, state_at=now)
    return Transition(vehicle, _touched(vehicle, after, now), completed + ends)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(min(h, 1.0)))


def move(latitude: float, longitude: float, name: str | None) -> Act:
    """Driven to (latitude, longitude): the odometer grows by the great-circle distance; a
    plugged-in car cannot drive off (409). The place is called `name`, or nothing (`""`)
    without one: the old place's name would be wrong somewhere else."""

    def act(vehicle: Vehicle, now: float, policy: Policy) -> Transition | None:
        if vehicle.plugged_in:
            raise Conflict("the vehicle is plugged in: unplug it before moving it")
        base, ends = rebase(vehicle, now, policy)
        metres = _metres((vehicle.latitude, vehicle.longitude), (latitude, longitude))
        after = replace(
            base,
            latitude=latitude,
            longitude=longitude,
            location_name=name or "",
            odometer_mi=base.odometer_mi + metres * _MILES_PER_METRE,
            state_at=now,
        )
        return Transition(vehicle, _touched(vehicle, after, now), ends)

    return act


def battery(level: float) -> Act:
    """The battery at `level` % now (drained while parked, or topped up). While charging, the
    charge goes on from there (its session's energy keeps what was added so far); a level at
    or above the limit completes it."""

    def act(vehicle: Vehicle, now: float, policy: Policy) -> Transition | None:
        base, ends = rebase(vehicle, now, policy)
        after = replace(base, battery_level=level, state_at=now)
        if after.charging and after.session_start_level is not None:
            shift = level - base.battery_level
            after = replace(after, session_start_level=after.session_start_level + shift)
        completed: tuple[SessionEnd, ...] = ()
        if after.charging and level >= after.charge_limit:
            after, completed = _stopped(after, now, "Complete", "complete")
        return Transition(vehicle, _touched(vehicle, after, now), ends + completed)

    return act
