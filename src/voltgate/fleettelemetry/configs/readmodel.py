"""Telemetry configs read from memory: `ConfigStore` over the SQL store, every record held
(deleted ones too, until the table forgets them), by vehicle.

A write lands here at once (read-your-writes) and is published on the `Changes` topic, so
other instances sharing a coordinator catch up when they hear it. Every process also catches
up on its own (`catch_up`, which the runtime calls at each change poll): it reads the rows
written since the last `seq` it has seen, one indexed range read that is usually empty. That
is how a process without a shared coordinator — the telemetry ingest beside a server on the
embedded default — sees the server's writes within a poll interval. A record is never
replaced by an older one (a lower `seq`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

from voltgate.changes import Changes
from voltgate.fleettelemetry.configs.repository import SqlConfigStore
from voltgate.fleettelemetry.configs.store import Applied, ConfigRecord, Configs

TOPIC = "telemetry-config"
# Called with the VINs whose records changed, in this process's view.
Listener = Callable[[frozenset[str]], None]


class ConfigReadModel:
    def __init__(self, sql: SqlConfigStore, changes: Changes) -> None:
        self._sql = sql
        self._changes = changes
        self._vehicles: dict[str, dict[str, ConfigRecord]] = {}  # vin -> client id -> record
        self._seen = 0  # every row up to this seq has been read
        self._loaded = False
        self._catching_up: asyncio.Lock | None = None
        self._listeners: list[Listener] = []
        changes.subscribe(TOPIC, self._heard, self.catch_up)

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def catch_up(self) -> None:
        """Take in every row written since the last one seen (all of them the first time)."""
        if self._catching_up is None:
            self._catching_up = asyncio.Lock()
        async with self._catching_up:
            rows = await self._sql.changed_since(self._seen)
            if rows:
                self._seen = max(self._seen, rows[-1].seq)
                self._take(rows)
            self._loaded = True

    async def get(self, client_id: str, vin: str) -> ConfigRecord | None:
        await self._ready()
        return self._vehicles.get(vin, {}).get(client_id)

    async def of_vehicle(self, vin: str) -> list[ConfigRecord]:
        await self._ready()
        held = self._vehicles.get(vin, {})
        return [held[client_id] for client_id in sorted(held)]

    async def all(self) -> list[ConfigRecord]:
        await self._ready()
        return [record for held in self._vehicles.values() for record in held.values()]

    async def save(
        self, client_id: str, user_id: str, configs: Configs, at: float
    ) -> list[ConfigRecord]:
        return await self._stored(await self._sql.save(client_id, user_id, configs, at))

    async def delete(self, client_id: str, vins: Sequence[str], at: float) -> list[ConfigRecord]:
        return await self._stored(await self._sql.delete(client_id, vins, at))

    async def delete_for_user(self, client_id: str, user_id: str, at: float) -> list[ConfigRecord]:
        return await self._stored(await self._sql.delete_for_user(client_id, user_id, at))

    async def mark_applied(self, applied: Sequence[Applied]) -> list[ConfigRecord]:
        return await self._stored(await self._sql.mark_applied(applied))

    async def _ready(self) -> None:
        if not self._loaded:  # a process that reads without a server's start (the CLI)
            await self.catch_up()

    async def _stored(self, records: list[ConfigRecord]) -> list[ConfigRecord]:
        """Committed here: held at once, and the other processes told."""
        self._take(records)
        await self._changes.publish(TOPIC, sorted({r.vin for r in records}))
        return records

    async def _heard(self, _vins: list[str]) -> None:
        await self.catch_up()

    def _take(self, records: Iterable[ConfigRecord]) -> None:
        moved = set()
        for record in records:
            held = self._vehicles.setdefault(record.vin, {})
            before = held.get(record.client_id)
            if before is None or before.seq < record.seq:
                held[record.client_id] = record
                moved.add(record.vin)
        if moved:
            vins = frozenset(moved)
            for listener in self._listeners:
                listener(vins)
