"""SQL for vehicles and their charging sessions (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import vehicle_charging_sessions as sessions
from voltgate.db.schema import vehicles
from voltgate.vehicles.store import ChargingSession, Transition, Vehicle

_VEHICLE_FIELDS = tuple(f.name for f in fields(Vehicle))
_SESSION_FIELDS = tuple(f.name for f in fields(ChargingSession))


class _Stale(Exception):
    """Another change got to the vehicle first: roll this one back."""


def _vehicle(row: Any) -> Vehicle:
    return Vehicle(**{name: getattr(row, name) for name in _VEHICLE_FIELDS})


def _session(row: Any) -> ChargingSession:
    return ChargingSession(**{name: getattr(row, name) for name in _SESSION_FIELDS})


class SqlVehicleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_all(self, batch: list[Vehicle]) -> bool:
        rows = [asdict(vehicle) for vehicle in batch]
        try:
            await self._db.write(lambda conn: conn.execute(vehicles.insert(), rows))
        except sa.exc.IntegrityError:
            return False
        return True

    async def get(self, vehicle_id: int) -> Vehicle | None:
        query = vehicles.select().where(vehicles.c.id == vehicle_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _vehicle(row)

    async def by_vin(self, vin: str) -> Vehicle | None:
        query = vehicles.select().where(vehicles.c.vin == vin)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _vehicle(row)

    async def of_user(self, user_id: str) -> list[Vehicle]:
        query = vehicles.select().where(vehicles.c.user_id == user_id).order_by(vehicles.c.id)
        return await self._db.read(lambda conn: [_vehicle(r) for r in conn.execute(query)])

    async def apply(self, change: Transition) -> Vehicle | None:
        def work(conn: sa.Connection) -> Vehicle:
            after = change.after
            if change.start is not None:
                opened = conn.execute(
                    sessions.insert().values(
                        vehicle_id=after.id,
                        user_id=after.user_id,
                        vin=after.vin,
                        location_name=change.start.location_name,
                        started_at=change.start.started_at,
                        start_level=change.start.start_level,
                    )
                )
                key = opened.inserted_primary_key
                assert key is not None
                after = replace(after, session_id=int(key[0]))
            values = asdict(after)
            for fixed in ("id", "user_id", "vin", "created_at"):
                values.pop(fixed)
            updated = conn.execute(
                vehicles.update()
                .where(vehicles.c.id == after.id, vehicles.c.version == change.before.version)
                .values(**values)
            )
            if updated.rowcount != 1:
                raise _Stale
            for end in change.ends:
                conn.execute(
                    sessions.update()
                    .where(sessions.c.id == end.session_id, sessions.c.ended_at.is_(None))
                    .values(
                        ended_at=end.ended_at,
                        end_level=end.end_level,
                        energy_kwh=end.energy_kwh,
                        stop_reason=end.stop_reason,
                    )
                )
            return after

        try:
            return await self._db.write(work)
        except _Stale:
            return None

    async def sessions(
        self, user_id: str, vehicle_id: int | None, offset: int, limit: int, newest_first: bool
    ) -> tuple[list[ChargingSession], int]:
        mine = sa.and_(sessions.c.user_id == user_id, sessions.c.ended_at.is_not(None))
        if vehicle_id is not None:
            mine = sa.and_(mine, sessions.c.vehicle_id == vehicle_id)
        order = sessions.c.id.desc() if newest_first else sessions.c.id.asc()
        query = sessions.select().where(mine).order_by(order).offset(offset).limit(limit)
        count = sa.select(sa.func.count()).select_from(sessions).where(mine)

        def work(conn: sa.Connection) -> tuple[list[ChargingSession], int]:
            rows = [_session(row) for row in conn.execute(query)]
            return rows, int(conn.execute(count).scalar_one())

        return await self._db.read(work)
