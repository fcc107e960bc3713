"""The charging domain's record and the storage interface it owns (`repository.py` implements it
for SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class TransactionTaken(Exception):
    """A record for this (device, transaction id) was stored first by another request."""


@dataclass(frozen=True, slots=True)
class ChargingRecord:
    id: str
    device_id: str
    operator_id: str
    transaction_id: str
    connector: int
    started_at: float
    stopped_at: float | None
    energy_kwh: float
    meter_start: float | None
    meter_stop: float | None
    meter_values: tuple[dict[str, Any], ...]
    created_at: float
    updated_at: float

    @property
    def open(self) -> bool:
        """The session has not been reported stopped yet: a later report may complete it."""
        return self.stopped_at is None


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records a list, an aggregate or a user's view covers; every field narrows it.

    Exactly one of `operator_id` and `owner_user_id` is set: the tenant boundary.
    """

    operator_id: str | None = None
    owner_user_id: str | None = None  # the user who owns the charger (home chargers)
    device_id: str | None = None
    site_id: str | None = None
    connector: int | None = None
    started_from: float | None = None  # started_at >= this
    started_before: float | None = None  # started_at < this
    finished: bool | None = None  # stopped_at reported (True) or not yet (False)
    energy_min: float | None = None
    energy_max: float | None = None


@dataclass(frozen=True, slots=True)
class EnergySlot:
    """Energy of the records that started in one 15-minute UTC slot, in one time zone."""

    timezone: str
    slot_start: float  # Unix seconds, a multiple of SLOT
    energy_kwh: float
    sessions: int


# Every time zone offset in use today is a multiple of 15 minutes, so a 15-minute UTC slot lies
# inside one local hour, day and month: the database sums per slot, Python labels the periods.
SLOT = 900


class ChargingStore(Protocol):
    async def add(self, record: ChargingRecord) -> None:
        """Insert; raises TransactionTaken when (device, transaction id) exists."""

    async def add_many(self, records: Sequence[ChargingRecord]) -> None:
        """Insert together, in one transaction (a seeded history, with the times it carries);
        raises TransactionTaken, inserting none, when one's (device, transaction id) exists."""

    async def by_transaction(
        self, device_id: str, transaction_id: str
    ) -> ChargingRecord | None: ...

    async def update_open(self, record: ChargingRecord) -> bool:
        """Replace the stored record of `record.id` if it is still open (compare-and-set)."""

    async def page(
        self, which: RecordFilter, offset: int, limit: int
    ) -> tuple[list[ChargingRecord], int]:
        """One offset window of the records (newest first), and their total."""

    async def after(
        self, which: RecordFilter, after_id: str | None, limit: int
    ) -> list[ChargingRecord]:
        """Up to `limit` records with ids below `after_id` (older), newest first."""

    async def before(self, which: RecordFilter, before_id: str, limit: int) -> list[ChargingRecord]:
        """Up to `limit` records with ids above `before_id` (newer), the nearest ones, newest
        first."""

    async def one(self, which: RecordFilter, record_id: str) -> ChargingRecord | None:
        """The record if `which` covers it."""

    async def energy_slots(self, which: RecordFilter) -> list[EnergySlot]:
        """The records' energy summed per 15-minute UTC slot of `started_at` and per time zone
        of their charger's site (UTC without a site)."""

    async def zones(self, operator_id: str) -> list[str]:
        """The distinct time zones of the operator's chargers (UTC for one without a site)."""
