"""SQL for vehicles and their charging sessions (SQLite and PostgreSQL alike).

Reads go through statements built once, rows read by position. A write is a compare-and-set on
a vehicle's version: one statement built once (group-committed) when the change is to the
vehicle alone — a command, a wake-up — and through SQLAlchemy Core, in one transaction, when it
also ends or starts a charging session. A vehicle's charge schedules are one JSON column: they
change only with the vehicle, under its version.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import vehicle_charging_sessions as sessions
from voltgate.db.schema import vehicles
from voltgate.db.statements import Row, Statement
from voltgate.vehicles.store import ChargeSchedule, ChargingSession, Transition, Vehicle

_VEHICLE_FIELDS = tuple(f.name for f in fields(Vehicle))
_SESSION_FIELDS = tuple(f.name for f in fields(ChargingSession))
# SQLite hands booleans back as 0 and 1.
_BOOLEANS = tuple(at for at, f in enumerate(fields(Vehicle)) if f.type in ("bool", bool))
# Columns with few distinct values: one string each, shared by every vehicle held in memory.
_SHARED = tuple(
    _VEHICLE_FIELDS.index(name) for name in ("car_type", "exterior_color", "charging_state")
)
_SCHEDULES = _VEHICLE_FIELDS.index("charge_schedules")

_VEHICLE = f"SELECT {', '.join(_VEHICLE_FIELDS)} FROM vehicles"  # noqa: S608 - constants
_BY_ID = Statement(f"{_VEHICLE} WHERE id = ?")
_BY_VIN = Statement(f"{_VEHICLE} WHERE vin = ?")
_OF_USER = Statement(f"{_VEHICLE} WHERE user_id = ? ORDER BY id")
_ALL = Statement(f"{_VEHICLE} ORDER BY id")

_FIXED = ("id", "user_id", "vin", "created_at")
_CHANGING = tuple(name for name in _VEHICLE_FIELDS if name not in _FIXED)
_CHANGING_SCHEDULES = _CHANGING.index("charge_schedules")
_UPDATE = Statement(
    f"UPDATE vehicles SET {', '.join(f'{name} = ?' for name in _CHANGING)}"  # noqa: S608
    " WHERE id = ? AND version = ?"
)

_FINISHED = "FROM vehicle_charging_sessions WHERE user_id = ? AND ended_at IS NOT NULL"
_OF_VEHICLE = " AND vehicle_id = ?"
_SESSION = f"SELECT {', '.join(_SESSION_FIELDS)} {_FINISHED}"
# (one vehicle's, newest first) -> the window; one vehicle's -> the count.
_WINDOWS = {
    (one, newest): Statement(
        f"{_SESSION}{_OF_VEHICLE if one else ''}"
        f" ORDER BY id {'DESC' if newest else 'ASC'} LIMIT ? OFFSET ?"
    )
    for one in (False, True)
    for newest in (False, True)
}
_COUNTS = {
    one: Statement(f"SELECT count(*) {_FINISHED}{_OF_VEHICLE if one else ''}")
    for one in (False, True)
}


class _Stale(Exception):
    """Another change got to the vehicle first: roll this one back."""


def _vehicle(row: Row) -> Vehicle:
    values = list(row)
    for at in _BOOLEANS:
        values[at] = bool(values[at])
    for at in _SHARED:
        values[at] = sys.intern(values[at])
    values[_SCHEDULES] = tuple(ChargeSchedule(**s) for s in orjson.loads(values[_SCHEDULES]))
    return Vehicle(*values)


def _columns(vehicle: Vehicle) -> dict[str, Any]:
    values = asdict(vehicle)
    values["charge_schedules"] = orjson.dumps(values["charge_schedules"]).decode()
    return values


def _changing(vehicle: Vehicle) -> list[Any]:
    """The columns a change writes, in `_UPDATE`'s order."""
    values = [getattr(vehicle, name) for name in _CHANGING]
    values[_CHANGING_SCHEDULES] = orjson.dumps(vehicle.charge_schedules).decode()
    return values


def _session(row: Row) -> ChargingSession:
    return ChargingSession(*row)


class SqlVehicleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_all(self, batch: list[Vehicle]) -> bool:
        rows = [_columns(vehicle) for vehicle in batch]
        try:
            await self._db.write(lambda conn: conn.execute(vehicles.insert(), rows))
        except sa.exc.IntegrityError:
            return False
        return True

    async def get(self, vehicle_id: int) -> Vehicle | None:
        row = await self._db.reader.one(_BY_ID, vehicle_id)
        return None if row is None else _vehicle(row)

    async def by_vin(self, vin: str) -> Vehicle | None:
        row = await self._db.reader.one(_BY_VIN, vin)
        return None if row is None else _vehicle(row)

    async def of_user(self, user_id: str) -> list[Vehicle]:
        return [_vehicle(row) for row in await self._db.reader.all(_OF_USER, user_id)]

    async def reread(self, user_id: str) -> list[Vehicle]:
        return await self.of_user(user_id)

    async def all(self) -> list[Vehicle]:
        """Every vehicle (the read model's load)."""
        return [_vehicle(row) for row in await self._db.reader.scan(_ALL)]

    async def apply(self, change: Transition) -> Vehicle | None:
        after = change.after
        if change.start is None and not change.ends:  # the vehicle alone
            moved = await self._db.run(_UPDATE, *_changing(after), after.id, change.before.version)
            return after if moved == 1 else None

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
            values = _columns(after)
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
        one = vehicle_id is not None
        mine = (user_id,) if vehicle_id is None else (user_id, vehicle_id)
        reader = self._db.reader
        rows = await reader.all(_WINDOWS[one, newest_first], *mine, limit, offset)
        counted = await reader.one(_COUNTS[one], *mine)
        return [_session(row) for row in rows], 0 if counted is None else int(counted[0])

    async def add_sessions(self, batch: Sequence[ChargingSession]) -> None:
        rows = [asdict(session) for session in batch]
        for row in rows:
            del row["id"]
        if rows:
            await self._db.write(lambda conn: conn.execute(sessions.insert(), rows))
