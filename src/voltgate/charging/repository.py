"""SQL for charging records (SQLite and PostgreSQL).

Reads are the statements of `queries.py`, built once: bounded ones (a page, a cursor slice, a
point read) with `db.reader.all/one`, on SQLite on the loop's own thread; the energy sums,
which may span five years, with `db.reader.scan`. Writes go through SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.charging.queries import BY_TRANSACTION, ZONES, chosen, record_of
from voltgate.charging.store import (
    SLOT,
    ChargingRecord,
    EnergySlot,
    RecordFilter,
    TransactionTaken,
)
from voltgate.db.engine import Database
from voltgate.db.schema import charging_records

# No page starts this far in; a larger offset would overflow a 64-bit integer parameter.
_MAX_OFFSET = 1 << 62


def _values(record: ChargingRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "device_id": record.device_id,
        "operator_id": record.operator_id,
        "transaction_id": record.transaction_id,
        "connector": record.connector,
        "started_at": record.started_at,
        "stopped_at": record.stopped_at,
        "energy_kwh": record.energy_kwh,
        "meter_start": record.meter_start,
        "meter_stop": record.meter_stop,
        "meter_values": orjson.dumps(list(record.meter_values)).decode(),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


class SqlChargingStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, record: ChargingRecord) -> None:
        values = _values(record)
        try:
            await self._db.write(lambda conn: conn.execute(charging_records.insert(), values))
        except sa.exc.IntegrityError:
            raise TransactionTaken(record.transaction_id) from None

    async def add_many(self, records: Sequence[ChargingRecord]) -> None:
        rows = [_values(record) for record in records]
        if not rows:
            return
        try:
            await self._db.write(lambda conn: conn.execute(charging_records.insert(), rows))
        except sa.exc.IntegrityError:
            raise TransactionTaken("a transaction of the batch") from None

    async def by_transaction(self, device_id: str, transaction_id: str) -> ChargingRecord | None:
        row = await self._db.reader.one(BY_TRANSACTION, device_id, transaction_id)
        return None if row is None else record_of(row)

    async def update_open(self, record: ChargingRecord) -> bool:
        values = _values(record)
        for fixed in ("id", "device_id", "operator_id", "transaction_id", "created_at"):
            values.pop(fixed)
        change = (
            charging_records.update()
            .where(charging_records.c.id == record.id)
            .where(charging_records.c.stopped_at.is_(None))
            .values(**values)
        )
        return await self._db.write(lambda conn: conn.execute(change).rowcount == 1)

    async def page(
        self, which: RecordFilter, offset: int, limit: int
    ) -> tuple[list[ChargingRecord], int]:
        variant, args = chosen(which)
        rows = await self._db.reader.all(
            variant.page, *args, *args, limit, min(offset, _MAX_OFFSET)
        )
        records = [record_of(row[1:]) for row in rows if row[1] is not None]
        return records, int(rows[0][0])

    async def after(
        self, which: RecordFilter, after_id: str | None, limit: int
    ) -> list[ChargingRecord]:
        variant, args = chosen(which)
        if after_id is None:
            rows = await self._db.reader.all(variant.first, *args, limit)
        else:
            rows = await self._db.reader.all(variant.older, *args, after_id, limit)
        return [record_of(row) for row in rows]

    async def before(self, which: RecordFilter, before_id: str, limit: int) -> list[ChargingRecord]:
        variant, args = chosen(which)
        rows = await self._db.reader.all(variant.newer, *args, before_id, limit)
        return [record_of(row) for row in reversed(rows)]

    async def one(self, which: RecordFilter, record_id: str) -> ChargingRecord | None:
        variant, args = chosen(which)
        row = await self._db.reader.one(variant.one, *args, record_id)
        return None if row is None else record_of(row)

    async def energy_slots(self, which: RecordFilter) -> list[EnergySlot]:
        variant, args = chosen(which)
        return [
            EnergySlot(str(zone), float(int(slot) * SLOT), float(kwh or 0.0), int(n))
            for zone, slot, kwh, n in await self._db.reader.scan(variant.slots, *args)
        ]

    async def zones(self, operator_id: str) -> list[str]:
        return sorted(str(zone) for (zone,) in await self._db.reader.all(ZONES, operator_id))
