"""Sites read from memory: `SiteStore` over the SQL store, every site held (one row each),
kept current by this process's writes at once and by other processes' within a second."""

from __future__ import annotations

from voltgate.changes import Changes
from voltgate.readmodel import Index, Table
from voltgate.sites.repository import SqlSiteStore
from voltgate.sites.store import Site


def _operator(site: Site) -> str:
    return site.operator_id


def _id(site: Site) -> str:
    return site.id


class SiteReadModel:
    def __init__(self, sql: SqlSiteStore, changes: Changes) -> None:
        self._sql = sql
        self._table: Table[str, Site] = Table(
            "site", changes, Index(_id, _operator), sql.all, sql.by_id, str
        )
        self.versions = self._table.index.versions

    async def add(self, site: Site) -> None:
        await self._sql.add(site)
        await self._table.stored(site)

    async def get(self, operator_id: str, site_id: str) -> Site | None:
        site = (await self._table.ready()).get(site_id)
        return site if site is not None and site.operator_id == operator_id else None

    async def by_id(self, site_id: str) -> Site | None:
        return (await self._table.ready()).get(site_id)

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Site], int]:
        return (await self._table.ready()).page(operator_id, offset, limit)

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Site]:
        return (await self._table.ready()).after(operator_id, after_id, limit)
