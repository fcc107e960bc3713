"""The telemetry domain's records and the storage interface it owns (`repository.py` implements
it for SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, get_args

# What a connector can be doing. `discharging` is V2G: power flows from the vehicle (negative).
# A connector's state, as chargers report it in telemetry and heartbeats.
State = Literal[
    "available",
    "preparing",
    "charging",
    "discharging",
    "suspended",
    "finishing",
    "faulted",
    "unavailable",
]
STATES = frozenset(get_args(State))


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


@dataclass(frozen=True, slots=True)
class Bucket:
    """One field's aggregate over one bucket (1 min, 15 min or 1 h) of one connector."""

    start: int  # Unix seconds, a multiple of the bucket length (UTC-aligned)
    count: int  # readings with a value (nulls are not counted)
    sum: float
    min: float
    max: float
    last: float  # the value with the greatest reading time
    last_at: float


class TelemetryStore(Protocol):
    async def append(self, readings: Sequence[Reading]) -> None:
        """Insert a batch of readings and merge it into the 1-minute rollups, in one
        transaction."""

    def append_gathered(
        self, take: Callable[[], Sequence[Reading]], committed: asyncio.Future[Any]
    ) -> None:
        """`append` without waiting, of the readings `take()` returns when the batch runs (so
        readings gathered until then go in): `committed` is answered once they are stored,
        or with the error that kept them out."""

    async def add_rollups(self, readings: Sequence[Reading]) -> None:
        """Merge readings into the 1-minute rollups without keeping them raw (a seeded history
        older than the raw retention), in one transaction."""

    async def readings(
        self,
        device_id: str,
        connector: int | None,
        start: float,
        end: float,
        after: tuple[float, int] | None,
        limit: int,
    ) -> list[tuple[int, Reading]]:
        """(row id, reading) of one connector (None: all of them) in [start, end), oldest first
        (by time, then id), after the (time, id) position `after`; at most `limit`."""

    async def buckets(
        self, device_id: str, connector: int, field: str, start: int, end: int, length: int
    ) -> list[Bucket]:
        """The field's aggregates in `length`-second buckets starting in [start, end) (both
        multiples of `length`), merged from the 1-minute rollups; buckets without a value are
        left out."""

    async def sweep(self, raw_before: float, rollups_before: float, chunk: int) -> int:
        """Delete at most `chunk` raw readings older than `raw_before` and at most `chunk`
        rollups older than `rollups_before`; how many rows went."""

    async def latest(self, connectors: Sequence[tuple[str, int]]) -> list[Reading]:
        """The newest stored reading of each of these (device, connector) pairs (of those with
        any), in one statement."""

    async def add_events(self, events: Sequence[Event]) -> None: ...

    async def events(self, device_id: str, limit: int) -> list[Event]:
        """The device's newest events, newest first."""
