"""The vehicles domain's records and the storage interface it owns (`repository.py` implements
it for SQLite and PostgreSQL).

A vehicle row is its state as of `state_at` plus what the present follows from (charging at
`charging_amps` * `charger_voltage`, last activity, when a wake-up completes, the cabin's
temperature as of `climate_at`); the present is computed by `physics.py`, never ticked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from voltgate.readmodel import Versions


@dataclass(frozen=True, slots=True)
class ChargeSchedule:
    """One of Tesla's charge schedules (`add_charge_schedule`), as `charge_schedule_data` shows
    it: days as a bitmask (1 Sunday … 64 Saturday), times in minutes after midnight."""

    id: int
    days_of_week: int
    enabled: bool
    start_enabled: bool
    start_time: int
    end_enabled: bool
    end_time: int
    one_time: bool
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: int
    user_id: str
    vin: str
    seed_slot: int | None
    display_name: str
    car_type: str
    exterior_color: str
    battery_kwh: float
    rated_range_mi: float  # at 100 %
    charger_voltage: float
    max_amps: int
    charging_amps: int
    charge_limit: int
    plugged_in: bool
    charging: bool
    charging_state: str  # Charging | Complete | Stopped | Disconnected, as of `state_at`
    battery_level: float  # percent, as of `state_at`
    state_at: float
    last_active_at: float
    awake_from: float  # a wake-up in progress completes at this time
    session_id: int | None  # the open charging session
    session_start_level: float | None
    energy_added: float  # kWh of the open session at `state_at`, else of the last one
    scheduled_charging: bool
    scheduled_minutes: int | None
    latitude: float
    longitude: float
    heading: int
    location_name: str
    odometer_mi: float
    inside_temp: float
    outside_temp: float
    locked: bool
    charge_port_open: bool  # the door when no cable holds it open
    climate_on: bool
    defrost_on: bool  # max defrost (set_preconditioning_max)
    driver_temp: float
    passenger_temp: float
    climate_at: float  # `inside_temp` is as of this time
    remote_start_at: float | None  # keyless driving allowed for two minutes from then
    charge_schedules: tuple[ChargeSchedule, ...]
    command_signing: str  # off | allowed | required: unsigned commands refused when required
    command_protocol: str  # the vehicle's side of the command protocol as JSON ("" unused)
    version: int
    created_at: float


@dataclass(frozen=True, slots=True)
class ChargingSession:
    id: int
    vehicle_id: int
    user_id: str
    vin: str
    location_name: str
    started_at: float
    ended_at: float | None
    start_level: float
    end_level: float | None
    energy_kwh: float | None
    stop_reason: str | None  # complete | stopped


@dataclass(frozen=True, slots=True)
class SessionEnd:
    session_id: int
    ended_at: float
    end_level: float
    energy_kwh: float
    stop_reason: str


@dataclass(frozen=True, slots=True)
class SessionStart:
    started_at: float
    start_level: float
    location_name: str


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of a vehicle: its new state, and the sessions it ends and starts."""

    before: Vehicle
    after: Vehicle
    ends: tuple[SessionEnd, ...] = ()
    start: SessionStart | None = None


class VehicleStore(Protocol):
    versions: Versions  # per user: moved by every change to one of the user's vehicles

    async def add_all(self, vehicles: list[Vehicle]) -> bool:
        """Insert together; False (nothing inserted) when a VIN or a user's seed slot exists."""

    async def get(self, vehicle_id: int) -> Vehicle | None: ...

    async def by_vin(self, vin: str) -> Vehicle | None: ...

    async def of_user(self, user_id: str) -> list[Vehicle]:
        """The user's vehicles in id order."""

    async def reread(self, user_id: str) -> list[Vehicle]:
        """The user's vehicles in id order as the database holds them now (a read model takes
        them in too): for a decision that must not rest on a copy up to a second old."""

    async def apply(self, change: Transition) -> Vehicle | None:
        """Store `change` if the vehicle is still at `before.version` (compare-and-set): the
        stored vehicle (with the started session's id), or None when another change won (then
        `get` answers the winner's vehicle)."""

    async def sessions(
        self, user_id: str, vehicle_id: int | None, offset: int, limit: int, newest_first: bool
    ) -> tuple[list[ChargingSession], int]:
        """One window of the user's finished charging sessions, and their total."""

    async def add_sessions(self, sessions: Sequence[ChargingSession]) -> None:
        """Insert finished sessions of the past together (a seeded history), their ids given
        by the database in this order (the `id` each carries is not used): insert oldest first,
        before the vehicle's live sessions, as history lists in id order."""


class Links(Protocol):
    """Vehicles' streaming connections (Fleet Telemetry's connectivity records)."""

    def link(self, vin: str) -> str | None:
        """ "online", "asleep" or "offline" by the vehicle's last connectivity record; None
        when it never streamed."""
