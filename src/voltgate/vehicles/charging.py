"""Charging commands (`vehicle_charging_cmds` or `vehicle_cmds`): start and stop, the limit,
the current, scheduled charging and the charge port door."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import Field, model_validator

from voltgate.errors import ValidationFailed
from voltgate.vehicles.commands import CHARGING, Body, Command, NoBody, Outcome, done, refused
from voltgate.vehicles.store import SessionEnd, SessionStart, Vehicle


class ChargeLimit(Body):
    percent: int = Field(ge=50, le=100)


class ChargingAmps(Body):
    charging_amps: int = Field(ge=1, le=80)  # and at most the vehicle's maximum


class ScheduledCharging(Body):
    enable: bool
    time: int | None = Field(default=None, ge=0, le=1439, description="minutes after midnight")

    @model_validator(mode="after")
    def _time_when_enabled(self) -> ScheduledCharging:
        if self.enable and self.time is None:
            raise ValueError("time (minutes after midnight, 0-1439) is needed when enable is true")
        return self


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
        return refused(vehicle, "disconnected")
    if vehicle.charging:
        return refused(vehicle, "is_charging")
    if vehicle.battery_level >= vehicle.charge_limit:
        return refused(vehicle, "complete")
    return start_charging(vehicle, now)


def _charge_stop(vehicle: Vehicle, _body: NoBody, now: float) -> Outcome:
    if not vehicle.charging:
        return refused(vehicle, "not_charging")
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
        return refused(vehicle, "already_set")
    changed = replace(vehicle, charge_limit=body.percent)
    # Like the car: a charge that completed resumes when the limit is raised above the level.
    resumes = vehicle.plugged_in and vehicle.charging_state == "Complete"
    if resumes and changed.battery_level < body.percent:
        return start_charging(changed, now)
    return done(changed)


def _check_amps(vehicle: Vehicle, body: ChargingAmps) -> None:
    if body.charging_amps > vehicle.max_amps:
        raise ValidationFailed(
            f"set_charging_amps: charging_amps must be between 1 and {vehicle.max_amps} "
            "for this vehicle"
        )


def _set_charging_amps(vehicle: Vehicle, body: ChargingAmps, _now: float) -> Outcome:
    return done(replace(vehicle, charging_amps=body.charging_amps))


def _set_scheduled_charging(vehicle: Vehicle, body: ScheduledCharging, _now: float) -> Outcome:
    minutes = body.time if body.enable else vehicle.scheduled_minutes
    return done(replace(vehicle, scheduled_charging=body.enable, scheduled_minutes=minutes))


def _charge_port_door_open(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    # A plugged-in vehicle's door is already open around the cable.
    return done(vehicle if vehicle.plugged_in else replace(vehicle, charge_port_open=True))


def _charge_port_door_close(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    if vehicle.plugged_in:
        return refused(vehicle, "cable_connected")
    return done(replace(vehicle, charge_port_open=False))


COMMANDS: tuple[Command[Any], ...] = (
    Command("charge_start", CHARGING, NoBody, _charge_start),
    Command("charge_stop", CHARGING, NoBody, _charge_stop),
    Command("set_charge_limit", CHARGING, ChargeLimit, _set_charge_limit),
    Command("set_charging_amps", CHARGING, ChargingAmps, _set_charging_amps, _check_amps),
    Command("set_scheduled_charging", CHARGING, ScheduledCharging, _set_scheduled_charging),
    Command("charge_port_door_open", CHARGING, NoBody, _charge_port_door_open),
    Command("charge_port_door_close", CHARGING, NoBody, _charge_port_door_close),
)
