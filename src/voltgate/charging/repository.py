"""SQL for charging records (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from voltgate.charging.store import (
    SLOT,
    ChargingRecord,
    EnergySlot,
    RecordFilter,
    TransactionTaken,
)
from voltgate.db.engine import Database
from voltgate.db.schema import charging_records, devices, sites

_c = charging_records.c
_UTC = "UTC"


class _slot(FunctionElement[int]):
    """floor(started_at / SLOT) as an integer, for times >= 0 (PostgreSQL's cast rounds, so it
    needs floor(); SQLite's truncates, and its floor() is an optional build feature)."""

    type = sa.BigInteger()
    inherit_cache = True


@compiles(_slot)
def _slot_default(element: _slot, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS BIGINT) / {SLOT}"


@compiles(_slot, "sqlite")
def _slot_sqlite(element: _slot, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER) / {SLOT}"


def _where(which: RecordFilter) -> list[sa.ColumnElement[bool]]:
    if (which.operator_id is None) == (which.owner_user_id is None):
        raise ValueError("a record filter names exactly one tenant: an operator or an owner")
    clauses: list[sa.ColumnElement[bool]] = []
    if which.operator_id is not None:
        clauses.append(_c.operator_id == which.operator_id)
    if which.owner_user_id is not None:
        owned = sa.select(devices.c.id).where(devices.c.owner_user_id == which.owner_user_id)
        clauses.append(_c.device_id.in_(owned))
    if which.device_id is not None:
        clauses.append(_c.device_id == which.device_id)
    if which.site_id is not None:
        clauses.append(
            _c.device_id.in_(sa.select(devices.c.id).where(devices.c.site_id == which.site_id))
        )
    if which.connector is not None:
        clauses.append(_c.connector == which.connector)
    if which.started_from is not None:
        clauses.append(_c.started_at >= which.started_from)
    if which.started_before is not None:
        clauses.append(_c.started_at < which.started_before)
    if which.finished is not None:
        clauses.append(_c.stopped_at.isnot(None) if which.finished else _c.stopped_at.is_(None))
    if which.energy_min is not None:
        clauses.append(_c.energy_kwh >= which.energy_min)
    if which.energy_max is not None:
        clauses.append(_c.energy_kwh <= which.energy_max)
    return clauses


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
        self, which: RecordFilter, offset: int, limit: int
    ) -> tuple[list[ChargingRecord], int]:
        where = _where(which)
        count = sa.select(sa.func.count()).select_from(charging_records).where(*where)
        query = (
            charging_records.select()
            .where(*where)
            .order_by(_c.id.desc())
            .offset(offset)
            .limit(limit)
        )

        def work(conn: sa.Connection) -> tuple[list[ChargingRecord], int]:
            rows = [_record(row) for row in conn.execute(query)]
            return rows, int(conn.execute(count).scalar_one())

        return await self._db.read(work)

    async def after(
        self, which: RecordFilter, after_id: str | None, limit: int
    ) -> list[ChargingRecord]:
        query = charging_records.select().where(*_where(which))
        if after_id is not None:
            query = query.where(_c.id < after_id)
        query = query.order_by(_c.id.desc()).limit(limit)
        return await self._db.read(lambda conn: [_record(r) for r in conn.execute(query)])

    async def before(self, which: RecordFilter, before_id: str, limit: int) -> list[ChargingRecord]:
        query = (
            charging_records.select()
            .where(*_where(which), _c.id > before_id)
            .order_by(_c.id)
            .limit(limit)
        )
        rows = await self._db.read(lambda conn: [_record(r) for r in conn.execute(query)])
        return rows[::-1]

    async def one(self, which: RecordFilter, record_id: str) -> ChargingRecord | None:
        query = charging_records.select().where(*_where(which), _c.id == record_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _record(row)

    async def energy_slots(self, which: RecordFilter) -> list[EnergySlot]:
        zone = sa.func.coalesce(sites.c.timezone, _UTC).label("zone")
        slot = _slot(_c.started_at).label("slot")
        query = (
            sa.select(zone, slot, sa.func.sum(_c.energy_kwh), sa.func.count())
            .select_from(
                charging_records.join(devices, devices.c.id == _c.device_id).outerjoin(
                    sites, sites.c.id == devices.c.site_id
                )
            )
            .where(*_where(which))
            .group_by(zone, slot)
        )

        def work(conn: sa.Connection) -> list[EnergySlot]:
            return [
                EnergySlot(str(z), float(int(s) * SLOT), float(kwh or 0.0), int(n))
                for z, s, kwh, n in conn.execute(query)
            ]

        return await self._db.read(work)

    async def zones(self, operator_id: str) -> list[str]:
        zone = sa.func.coalesce(sites.c.timezone, _UTC)
        query = (
            sa.select(zone)
            .select_from(devices.outerjoin(sites, sites.c.id == devices.c.site_id))
            .where(devices.c.operator_id == operator_id)
            .distinct()
        )
        return await self._db.read(lambda conn: sorted(str(z) for (z,) in conn.execute(query)))
