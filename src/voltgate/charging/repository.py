"""SQL for charging records (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.charging.store import ChargingRecord, TransactionTaken
from voltgate.db.engine import Database
from voltgate.db.schema import charging_records


def _record(row: Any) -> ChargingRecord:
    return ChargingRecord(
        id=row.id,
        device_id=row.device_id,
        operator_id=row.operator_id,
        transaction_id=row.transaction_id,
        connector=row.connector,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        energy_kwh=row.energy_kwh,
        meter_start=row.meter_start,
        meter_stop=row.meter_stop,
        meter_values=tuple(orjson.loads(row.meter_values)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


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

    async def by_transaction(self, device_id: str, transaction_id: str) -> ChargingRecord | None:
        query = charging_records.select().where(
            charging_records.c.device_id == device_id,
            charging_records.c.transaction_id == transaction_id,
        )
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _record(row)

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
        self, operator_id: str, device_id: str | None, offset: int, limit: int
    ) -> tuple[list[ChargingRecord], int]:
        mine = charging_records.c.operator_id == operator_id
        if device_id is not None:
            mine = sa.and_(mine, charging_records.c.device_id == device_id)
        count = sa.select(sa.func.count()).select_from(charging_records).where(mine)
        query = (
            charging_records.select()
            .where(mine)
            .order_by(charging_records.c.id.desc())
            .offset(offset)
            .limit(limit)
        )

        def work(conn: sa.Connection) -> tuple[list[ChargingRecord], int]:
            rows = [_record(row) for row in conn.execute(query)]
            return rows, int(conn.execute(count).scalar_one())

        return await self._db.read(work)
