"""Charge schedules (`vehicle_charging_cmds` or `vehicle_cmds`): `add_charge_schedule` adds one
or, given the `id` of one, replaces it; `remove_charge_schedule {id}` removes it. They are kept
with the vehicle and shown in `vehicle_data`'s `charge_schedule_data`; they do not start or
stop charging by themselves.

The body is the one Tesla's vehicle command proxy reads: `days_of_week` a comma-separated list
of day names (`Monday`, `Mon`, … any case; `All`, `Weekdays`), `start_time`/`end_time` minutes
after midnight (needed when `start_enabled`/`end_enabled`), `lat`/`lon` where the schedule
applies. A new schedule's id is the time it was added (Unix seconds), as the proxy makes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import Field, field_validator, model_validator

from voltgate.vehicles.commands import CHARGING, Body, Command, Outcome, done, refused
from voltgate.vehicles.store import ChargeSchedule, Vehicle

MAX_SCHEDULES = 10
_MAX_ID = 2**53 - 1  # exact in JavaScript
_DAYS = {
    **dict.fromkeys(("sun", "sunday"), 1),
    **dict.fromkeys(("mon", "monday"), 2),
    **dict.fromkeys(("tue", "tues", "tuesday"), 4),
    **dict.fromkeys(("wed", "wednesday"), 8),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 16),
    **dict.fromkeys(("fri", "friday"), 32),
    **dict.fromkeys(("sat", "saturday"), 64),
    "weekdays": 62,
    "all": 127,
}


def days_mask(days: str) -> int:
    """`Thursday,Saturday` → 80 (1 Sunday … 64 Saturday); ValueError naming an unknown day."""
    mask = 0
    for name in days.split(","):
        bit = _DAYS.get(name.strip().lower())
        if bit is None:
            raise ValueError(
                f"unknown day {name.strip()[:20]!r}; use day names (Monday or Mon …), "
                "All or Weekdays, separated by commas"
            )
        mask |= bit
    return mask


class NewSchedule(Body):
    id: int | None = Field(default=None, ge=1, le=_MAX_ID, description="replace this schedule")
    days_of_week: str = Field(max_length=100, description="e.g. Thursday,Saturday; All; Weekdays")
    enabled: bool
    start_enabled: bool
    start_time: int | None = Field(default=None, ge=0, le=1439)
    end_enabled: bool
    end_time: int | None = Field(default=None, ge=0, le=1439)
    one_time: bool = False
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)

    @field_validator("days_of_week")
    @classmethod
    def _known_days(cls, value: str) -> str:
        days_mask(value)
        return value

    @model_validator(mode="after")
    def _times_when_enabled(self) -> NewSchedule:
        for end in ("start", "end"):
            if getattr(self, f"{end}_enabled") and getattr(self, f"{end}_time") is None:
                raise ValueError(
                    f"{end}_time (minutes after midnight, 0-1439) is needed when "
                    f"{end}_enabled is true"
                )
        return self


class ScheduleId(Body):
    id: int = Field(ge=1, le=_MAX_ID)


def _add(vehicle: Vehicle, body: NewSchedule, now: float) -> Outcome:
    held = vehicle.charge_schedules
    key = body.id
    if key is None:
        key = max(int(now), max((s.id for s in held), default=0) + 1)
    schedule = ChargeSchedule(
        id=key,
        days_of_week=days_mask(body.days_of_week),
        enabled=body.enabled,
        start_enabled=body.start_enabled,
        start_time=body.start_time or 0,
        end_enabled=body.end_enabled,
        end_time=body.end_time or 0,
        one_time=body.one_time,
        latitude=body.lat,
        longitude=body.lon,
    )
    if any(s.id == key for s in held):
        changed = tuple(schedule if s.id == key else s for s in held)
    elif len(held) >= MAX_SCHEDULES:
        return refused(vehicle, "max_schedules_reached")
    else:
        changed = (*held, schedule)
    return done(replace(vehicle, charge_schedules=changed))


def _remove(vehicle: Vehicle, body: ScheduleId, _now: float) -> Outcome:
    kept = tuple(s for s in vehicle.charge_schedules if s.id != body.id)
    if len(kept) == len(vehicle.charge_schedules):
        return refused(vehicle, "no_such_schedule")
    return done(replace(vehicle, charge_schedules=kept))


COMMANDS: tuple[Command[Any], ...] = (
    Command("add_charge_schedule", CHARGING, NewSchedule, _add),
    Command("remove_charge_schedule", CHARGING, ScheduleId, _remove),
)
