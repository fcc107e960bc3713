"""Paired keys read from memory: every paired key held, by vehicle, over the SQL store.

A write lands here at once (read-your-writes) and is published on the `Changes` topic; other
instances reload the keys they hear of, and every process reloads them all when the database
may have changed under it (`Changes.reload_all`). Each vehicle's keys have a version that only
grows (`version`), and listeners hear which vehicles' keys changed, whoever changed them: a
vehicle holds the key set it verifies commands with and learns here when to take it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from voltgate.changes import Changes
from voltgate.readmodel import Index, Table
from voltgate.virtualkeys.repository import SqlPairingStore
from voltgate.virtualkeys.store import PairedKey

TOPIC = "vehicle-key"
# Called with the VINs whose keys changed in this process's view (synchronous, must not raise).
Listener = Callable[[frozenset[str]], None]


def _row_key(key: PairedKey) -> str:
    return row_key(key.vin, key.client_id, key.public_key)


def row_key(vin: str, client_id: str, public_key: bytes) -> str:
    return f"{vin} {client_id} {public_key.hex()}"  # no part has a space, ',' or ':'


def _vin(key: PairedKey) -> str:
    return key.vin


class _Watched(Index[str, PairedKey]):
    """The index, telling listeners which vehicles' keys moved (a whole reload: all of them)."""

    def __init__(self) -> None:
        super().__init__(_row_key, _vin)
        self.listeners: list[Listener] = []
        self._bulk = False

    def put(self, row: PairedKey) -> None:
        super().put(row)
        if not self._bulk:
            self._tell((row.vin,))

    def remove(self, key: str) -> None:
        row = self.get(key)
        super().remove(key)
        if row is not None:
            self._tell((row.vin,))

    def replace_all(self, rows: Iterable[PairedKey]) -> None:
        before = {row.vin for row in self.rows()}
        kept = list(rows)
        self._bulk = True
        try:
            super().replace_all(kept)
        finally:
            self._bulk = False
        self._tell(before | {row.vin for row in kept})

    def _tell(self, vins: Iterable[str]) -> None:
        moved = frozenset(vins)
        if moved:
            for listener in self.listeners:
                listener(moved)


class PairingReadModel:
    def __init__(self, sql: SqlPairingStore, changes: Changes) -> None:
        self._sql = sql
        self._index = _Watched()
        self._table: Table[str, PairedKey] = Table(
            TOPIC, changes, self._index, sql.all, self._load_one, str
        )

    def listen(self, listener: Listener) -> None:
        self._index.listeners.append(listener)

    async def version(self, vin: str) -> int:
        """Grows whenever the vehicle's keys change (in this process's view)."""
        return (await self._table.ready()).versions.of(vin)

    async def pair(self, keys: Sequence[PairedKey]) -> None:
        await self._sql.pair(keys)
        await self._table.stored(*keys)

    async def unpair(self, vin: str, client_id: str, public_key: bytes) -> bool:
        removed = await self._sql.unpair(vin, client_id, public_key)
        await self._table.stored(keys=(row_key(vin, client_id, public_key),))
        return removed

    async def unpair_app(self, client_id: str, user_id: str) -> list[PairedKey]:
        # Always the database's word, not memory's: a key paired elsewhere a moment ago goes too.
        removed = await self._sql.unpair_app(client_id, user_id)
        await self._table.stored(keys=[_row_key(k) for k in removed])
        return removed

    async def of_vehicle(self, vin: str) -> list[PairedKey]:
        return (await self._table.ready()).owned(vin)

    async def _load_one(self, key: str) -> PairedKey | None:
        vin, client_id, point = key.split(" ")
        return await self._sql.one(vin, client_id, bytes.fromhex(point))
