"""The charging domain's record and the storage interface it owns (`repository.py` implements it
for SQLite and PostgreSQL)."""

from __future__ import annotations

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


class ChargingStore(Protocol):
    async def add(self, record: ChargingRecord) -> None:
        """Insert; raises TransactionTaken when (device, transaction id) exists."""

    async def by_transaction(
        self, device_id: str, transaction_id: str
    ) -> ChargingRecord | None: ...

    async def update_open(self, record: ChargingRecord) -> bool:
        """Replace the stored record of `record.id` if it is still open (compare-and-set)."""

    async def page(
        self, operator_id: str, device_id: str | None, offset: int, limit: int
    ) -> tuple[list[ChargingRecord], int]:
        """One offset window of the operator's records (newest first), and their total."""
