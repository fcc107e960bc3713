"""Vehicle commands (`vehicle_cmds`): locks, horn and lights, remote start, and climate.

A locked vehicle answered `door_lock` is still `result: true`, as the car answers; climate
commands act on the cabin's temperature as of now (`physics.cabin_temp`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import Field

from voltgate.vehicles.commands import VEHICLE, Body, Command, NoBody, Outcome, done
from voltgate.vehicles.physics import MAX_TEMP, MIN_TEMP
from voltgate.vehicles.store import Vehicle


class Temps(Body):
    driver_temp: float = Field(ge=MIN_TEMP, le=MAX_TEMP, description="°C")
    passenger_temp: float = Field(ge=MIN_TEMP, le=MAX_TEMP, description="°C")


class PreconditioningMax(Body):
    on: bool = Field(description="max defrost: climate on at the maximum, defrosters on")
    manual_override: bool = False


def _door_lock(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    return done(replace(vehicle, locked=True))


def _door_unlock(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    return done(replace(vehicle, locked=False))


def _signal(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    """Horn and lights: nothing to keep but the activity (the service records it)."""
    return done(vehicle)


def _remote_start_drive(vehicle: Vehicle, _body: NoBody, now: float) -> Outcome:
    return done(replace(vehicle, remote_start_at=now))


def _climate_start(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    return done(replace(vehicle, climate_on=True))


def _climate_stop(vehicle: Vehicle, _body: NoBody, _now: float) -> Outcome:
    return done(replace(vehicle, climate_on=False, defrost_on=False))


def _set_temps(vehicle: Vehicle, body: Temps, _now: float) -> Outcome:
    return done(replace(vehicle, driver_temp=body.driver_temp, passenger_temp=body.passenger_temp))


def _set_preconditioning_max(vehicle: Vehicle, body: PreconditioningMax, _now: float) -> Outcome:
    if body.on:
        return done(replace(vehicle, climate_on=True, defrost_on=True))
    return done(replace(vehicle, defrost_on=False))  # climate runs on at its setpoint


COMMANDS: tuple[Command[Any], ...] = (
    Command("door_lock", VEHICLE, NoBody, _door_lock),
    Command("door_unlock", VEHICLE, NoBody, _door_unlock),
    Command("honk_horn", VEHICLE, NoBody, _signal),
    Command("flash_lights", VEHICLE, NoBody, _signal),
    Command("remote_start_drive", VEHICLE, NoBody, _remote_start_drive),
    Command("auto_conditioning_start", VEHICLE, NoBody, _climate_start),
    Command("auto_conditioning_stop", VEHICLE, NoBody, _climate_stop),
    Command("set_temps", VEHICLE, Temps, _set_temps),
    Command("set_preconditioning_max", VEHICLE, PreconditioningMax, _set_preconditioning_max),
)
