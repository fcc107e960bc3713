"""The telemetry domain's records and the storage interface it owns (`repository.py` implements
it for SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

# What a connector can be doing. `discharging` is V2G: power flows from the vehicle (negative).
STATES = frozenset(
    {
        "available",
        "preparing",
        "charging",
        "discharging",
        "suspended",
        "finishing",
        "faulted",
        "unavailable",
    }
)


class Reading(NamedTuple):
    """One connector's reading; a tuple in the column order of the `telemetry` table."""

    device_id: str
    connector: int
    at: float  # when the charger measured it (its timestamp, else when it arrived)
    received_at: float
    state: str
    power_kw: float
    energy_kwh: float
    soc: float | None
    voltage: float | None
    current: float | None


class Event(NamedTuple):
    device_id: str
    connector: int | None
    type: str
    code: str | None
    message: str | None
    at: float
    received_at: float


class TelemetryStore(Protocol):
    async def append(self, readings: Sequence[Reading]) -> None:
        """Insert a batch of readings in one transaction."""

    async def latest(self, device_id: str, connectors: Sequence[int]) -> list[Reading]:
        """The newest stored reading of each of these connectors of the device (those with
        any)."""

    async def add_events(self, events: Sequence[Event]) -> None: ...

    async def events(self, device_id: str, limit: int) -> list[Event]:
        """The device's newest events, newest first."""
