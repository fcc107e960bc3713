"""Energy sites read from memory: `EnergySiteStore` over the SQL store, every site held (one
row each), kept current by this process's writes at once and by other processes' within a
second. A site not held (added by a process this one has not heard from) is looked up in the
database."""

from __future__ import annotations

from typing import Any

from voltgate.changes import Changes
from voltgate.energy.repository import SqlEnergySiteStore
from voltgate.energy.store import EnergySite
from voltgate.readmodel import Index, Table

_READS = 3


def _id(site: EnergySite) -> int:
    return site.id


def _user(site: EnergySite) -> str:
    return site.user_id


class EnergySiteReadModel:
    def __init__(self, sql: SqlEnergySiteStore, changes: Changes) -> None:
        self._sql = sql
        self._writes = 0  # this process's committed changes, counted
        self._index: Index[int, EnergySite] = Index(_id, _user)
        self._table = Table("energy_site", changes, self._index, sql.all, self._stored, int)
        self.versions = self._index.versions

    async def add(self, site: EnergySite) -> None:
        await self._sql.add(site)
        self._writes += 1
        await self._table.stored(site)

    async def get(self, site_id: int) -> EnergySite | None:
        held = (await self._table.ready()).get(site_id)
        return held if held is not None else await self._table.refresh(site_id)

    async def of_user(self, user_id: str) -> list[EnergySite]:
        return (await self._table.ready()).owned(user_id)

    async def reread(self, user_id: str) -> list[EnergySite]:
        await self._table.ready()
        stored = await self._sql.of_user(user_id)
        for site in stored:
            self._index.put(site)
        return stored

    async def update(self, site_id: int, changes: dict[str, Any], now: float) -> EnergySite | None:
        site = await self._sql.update(site_id, changes, now)
        if site is not None:
            self._writes += 1
            await self._table.stored(site)
        return site

    async def _stored(self, site_id: int) -> EnergySite | None:
        """One site as stored, for a reload another instance asked for: read again when this
        process committed a change meanwhile, so an older copy never replaces its own newer
        one."""
        for _ in range(_READS):
            writes = self._writes
            site = await self._sql.get(site_id)
            if writes == self._writes:
                break
        return site
