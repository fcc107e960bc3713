"""The vehicle commands (`POST /api/1/vehicles/{id}/command/{name}`), registered by name.

Each command validates its body (strict JSON types, ranges), may check it against the vehicle
(`charging_amps` up to the vehicle's maximum), and turns the vehicle as of now into its next
state. A command the vehicle cannot carry out is answered `result: false` with Tesla's reason
(`complete`, `disconnected`, `is_charging`, `not_charging`, `already_set`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from voltgate.errors import InvalidRequest, ValidationFailed
from voltgate.vehicles.store import SessionEnd, SessionStart, Vehicle

B = TypeVar("B", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NoBody(_Body):
    pass


class ChargeLimit(_Body):
    percent: int = Field(ge=50, le=100)


class ChargingAmps(_Body):
    charging_amps: int = Field(ge=1, le=80)  # and at most the vehicle's maximum


class ScheduledCharging(_Body):
    enable: bool
    time: int | None = Field(default=None, ge=0, le=1439, description="minutes after midnight")

    @model_validator(mode="after")
    def _time_when_enabled(self) -> ScheduledCharging:
        if self.enable and self.time is None:
            raise ValueError("time (minutes after midnight, 0-1439) is needed when enable is true")
        return self


@dataclass(frozen=True, slots=True)
class Outcome:
    result: bool
    reason: str
    vehicle: Vehicle
    ends: tuple[SessionEnd, ...] = ()
    start: SessionStart | None = None


def _refused(vehicle: Vehicle, reason: str) -> Outcome:
    return Outcome(False, reason, vehicle)


@dataclass(frozen=True, slots=True)
class Command(Generic[B]):
    name: str
    body: type[B]
    run: Callable[[Vehicle, B, float], Outcome]
    check: Callable[[Vehicle, B], None] | None = None

    def parse(self, raw: dict[str, Any]) -> B:
        try:
            return self.body.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            message = first.get("msg", "invalid").removeprefix("Value error, ")
            raise ValidationFailed(
                f"{self.name}: {where + ': ' if where else ''}{message}"[:300]
            ) from None


COMMANDS: dict[str, Command[Any]] = {}


def register(command: Command[Any]) -> None:
    COMMANDS[command.name] = command


def find(name: str) -> Command[Any]:
    command = COMMANDS.get(name)
    if command is None:
        known = ", ".join(sorted(COMMANDS))
        raise InvalidRequest(f"unknown vehicle command {name[:64]!r}; the commands are: {known}")
    return command


def start_charging(vehicle: Vehicle, now: float) -> Outcome:
    started = replace(
        vehicle,
        charging=True,
        charging_state="Charging",
        state_at=now,
        session_start_level=vehicle.battery_level,
        energy_added=0.0,
    )
    start = SessionStart(now, vehicle.battery_level, vehicle.location_name)
    return Outcome(True, "", started, start=start)


def _charge_start(vehicle: Vehicle, _body: NoBody, now: float) -> Outcome:
    if not vehicle.plugged_in:
        return _refused(vehicle, "disconnected")
    if vehicle.charging:
        return _refused(vehicle, "is_charging")
    if vehicle.battery_level >= vehicle.charge_limit:
        return _refused(vehicle, "complete")
    return start_charging(vehicle, now)


def _charge_stop(vehicle: Vehicle, _body: NoBody, now: float) -> Outcome:
    if not vehicle.charging:
        return _refused(vehicle, "not_charging")
    ends: tuple[SessionEnd, ...] = ()
    if vehicle.session_id is not None:
        end = SessionEnd(
            vehicle.session_id, now, vehicle.battery_level, vehicle.energy_added, "stopped"
        )
        ends = (end,)
    stopped = replace(
        vehicle,
        charging=False,
        charging_state="Stopped",
        session_id=None,
        session_start_level=None,
    )
    return Outcome(True, "", stopped, ends=ends)


def _set_charge_limit(vehicle: Vehicle, body: ChargeLimit, now: float) -> Outcome:
    if body.percent == vehicle.charge_limit:
        return _refused(vehicle, "already_set")
    changed = replace(vehicle, charge_limit=body.percent)
    # Like the car: a charge that completed resumes when the limit is raised above the level.
    resumes = vehicle.plugged_in and vehicle.charging_state == "Complete"
    if resumes and changed.battery_level < body.percent:
        return start_charging(changed, now)
    return Outcome(True, "", changed)


def _check_amps(vehicle: Vehicle, body: ChargingAmps) -> None:
    if body.charging_amps > vehicle.max_amps:
        raise ValidationFailed(
            f"set_charging_amps: charging_amps must be between 1 and {vehicle.max_amps} "
            "for this vehicle"
        )


def _set_charging_amps(vehicle: Vehicle, body: ChargingAmps, _now: float) -> Outcome:
    return Outcome(True, "", replace(vehicle, charging_amps=body.charging_amps))


def _set_scheduled_charging(vehicle: Vehicle, body: ScheduledCharging, _now: float) -> Outcome:
    minutes = body.time if body.enable else vehicle.scheduled_minutes
    changed = replace(vehicle, scheduled_charging=body.enable, scheduled_minutes=minutes)
    return Outcome(True, "", changed)


register(Command("charge_start", NoBody, _charge_start))
register(Command("charge_stop", NoBody, _charge_stop))
register(Command("set_charge_limit", ChargeLimit, _set_charge_limit))
register(Command("set_charging_amps", ChargingAmps, _set_charging_amps, _check_amps))
register(Command("set_scheduled_charging", ScheduledCharging, _set_scheduled_charging))
