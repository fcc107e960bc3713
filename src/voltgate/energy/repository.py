"""SQL for energy sites (SQLAlchemy Core; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from voltgate.db.engine import Database
from voltgate.db.schema import energy_sites
from voltgate.energy.store import EnergySite

_COLUMNS = tuple(f.name for f in fields(EnergySite))


def _site(row: Any) -> EnergySite:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["storm_mode_enabled"] = bool(values["storm_mode_enabled"])
    return EnergySite(**values)


class SqlEnergySiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, site: EnergySite) -> None:
        await self._db.write(lambda conn: conn.execute(energy_sites.insert(), asdict(site)))

    async def get(self, site_id: int) -> EnergySite | None:
        query = energy_sites.select().where(energy_sites.c.id == site_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _site(row)

    async def of_user(self, user_id: str) -> list[EnergySite]:
        query = (
            energy_sites.select()
            .where(energy_sites.c.user_id == user_id)
            .order_by(energy_sites.c.id)
        )
        return await self._db.read(lambda conn: [_site(r) for r in conn.execute(query)])

    async def update(self, site_id: int, changes: dict[str, Any], now: float) -> None:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not energy site columns: {sorted(unknown)}")
        statement = (
            energy_sites.update()
            .where(energy_sites.c.id == site_id)
            .values(**changes, updated_at=now)
        )
        await self._db.write(lambda conn: conn.execute(statement))
