"""Vehicles read from memory: `VehicleStore` over the SQL store, every vehicle held (one row
each, and its id by VIN), kept current by this process's writes at once and by other
processes' within a second.

A vehicle's version only grows, so a row older than the one held is never put back (a reload
for another instance's change that read the row before this process's own write landed).
Another instance's copy may be up to a second old: a compare-and-set that fails reads the
vehicle again, so the caller's retry works on the winner's state. A vehicle not held (added
by a process this one has not heard from) is looked up in the database by id or VIN.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from voltgate.changes import Changes
from voltgate.readmodel import Index, Table
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.store import ChargingSession, Transition, Vehicle


def _id(vehicle: Vehicle) -> int:
    return vehicle.id


def _user(vehicle: Vehicle) -> str:
    return vehicle.user_id


class VehicleIndex(Index[int, Vehicle]):
    """Vehicles by id and per user in id order, and ids by VIN; never an older version."""

    def __init__(self) -> None:
        super().__init__(_id, _user)
        self._vins: dict[str, int] = {}

    def by_vin(self, vin: str) -> Vehicle | None:
        key = self._vins.get(vin)
        return None if key is None else self.get(key)

    def put(self, row: Vehicle) -> None:
        held = self.get(row.id)
        # The same row read again (a reread, a reload) is no change: kept answers stay good.
        if held is not None and (held.version > row.version or held == row):
            return
        super().put(row)
        self._vins[row.vin] = row.id

    def remove(self, key: int) -> None:
        held = self.get(key)
        super().remove(key)
        if held is not None:
            self._vins.pop(held.vin, None)

    def replace_all(self, rows: Iterable[Vehicle]) -> None:
        self._vins = {}
        super().replace_all(rows)


class VehicleReadModel:
    def __init__(self, sql: SqlVehicleStore, changes: Changes) -> None:
        self._sql = sql
        self._index = VehicleIndex()
        self._table: Table[int, Vehicle] = Table(
            "vehicle", changes, self._index, sql.all, sql.get, int
        )
        self.versions = self._index.versions

    async def add_all(self, vehicles: list[Vehicle]) -> bool:
        if not await self._sql.add_all(vehicles):
            return False
        await self._table.stored(*vehicles)
        return True

    async def get(self, vehicle_id: int) -> Vehicle | None:
        held = (await self._table.ready()).get(vehicle_id)
        if held is None:
            await self._table.refresh(vehicle_id)
            held = self._index.get(vehicle_id)
        return held

    async def by_vin(self, vin: str) -> Vehicle | None:
        await self._table.ready()
        held = self._index.by_vin(vin)
        if held is None:
            found = await self._sql.by_vin(vin)
            if found is None:
                return None
            self._index.put(found)
            held = self._index.get(found.id)
        return held

    async def of_user(self, user_id: str) -> list[Vehicle]:
        return (await self._table.ready()).owned(user_id)

    async def reread(self, user_id: str) -> list[Vehicle]:
        await self._table.ready()
        stored = await self._sql.of_user(user_id)
        for vehicle in stored:
            self._index.put(vehicle)
        return stored

    async def apply(self, change: Transition) -> Vehicle | None:
        stored = await self._sql.apply(change)
        if stored is None:  # this copy was behind: take the winner's for the caller's retry
            await self._table.refresh(change.before.id)
            return None
        await self._table.stored(stored)
        return stored

    async def sessions(
        self, user_id: str, vehicle_id: int | None, offset: int, limit: int, newest_first: bool
    ) -> tuple[list[ChargingSession], int]:
        """History is a range scan: read from the database (statements built once)."""
        return await self._sql.sessions(user_id, vehicle_id, offset, limit, newest_first)

    async def add_sessions(self, sessions: Sequence[ChargingSession]) -> None:
        """Moves the owners' versions here; other processes hear of the vehicles as changed
        (a CLI's write makes servers on the same database reload everything)."""
        await self._sql.add_sessions(sessions)
        for user_id in {session.user_id for session in sessions}:
            self.versions.changed(user_id)
        await self._table.stored(keys=list(dict.fromkeys(s.vehicle_id for s in sessions)))
