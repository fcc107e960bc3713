"""SQL for sites (SQLAlchemy Core; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import sites
from voltgate.db.statements import Statement
from voltgate.sites.store import Site

_INSERT = Statement(
    """INSERT INTO sites (id, operator_id, name, address, latitude, longitude, timezone,
       grid_limit_kw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
)


def _site(row: Any) -> Site:
    return Site(
        id=row.id,
        operator_id=row.operator_id,
        name=row.name,
        address=row.address,
        latitude=row.latitude,
        longitude=row.longitude,
        timezone=row.timezone,
        grid_limit_kw=row.grid_limit_kw,
        created_at=row.created_at,
    )


def _fields(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "operator_id": site.operator_id,
        "name": site.name,
        "address": site.address,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
        "grid_limit_kw": site.grid_limit_kw,
        "created_at": site.created_at,
    }


class SqlSiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, site: Site) -> None:
        await self._db.run(
            _INSERT,
            site.id,
            site.operator_id,
            site.name,
            site.address,
            site.latitude,
            site.longitude,
            site.timezone,
            site.grid_limit_kw,
            site.created_at,
        )

    async def get(self, operator_id: str, site_id: str) -> Site | None:
        query = sites.select().where(sites.c.id == site_id, sites.c.operator_id == operator_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _site(row)

    async def by_id(self, site_id: str) -> Site | None:
        query = sites.select().where(sites.c.id == site_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _site(row)

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Site], int]:
        mine = sites.c.operator_id == operator_id
        count = sa.select(sa.func.count()).select_from(sites).where(mine)
        query = sites.select().where(mine).order_by(sites.c.id).offset(offset).limit(limit)

        def work(conn: sa.Connection) -> tuple[list[Site], int]:
            return [_site(r) for r in conn.execute(query)], int(conn.execute(count).scalar_one())

        return await self._db.read(work)

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Site]:
        query = sites.select().where(sites.c.operator_id == operator_id)
        if after_id is not None:
            query = query.where(sites.c.id > after_id)
        query = query.order_by(sites.c.id).limit(limit)
        return await self._db.read(lambda conn: [_site(r) for r in conn.execute(query)])

    async def all(self) -> list[Site]:
        """Every site (the read model's load)."""
        query = sites.select().order_by(sites.c.id)
        return await self._db.read(lambda conn: [_site(r) for r in conn.execute(query)])
