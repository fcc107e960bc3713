"""SQL for energy sites (SQLite and PostgreSQL alike): reads through statements built once,
rows read by position; writes through SQLAlchemy Core."""

from __future__ import annotations

import sys
from dataclasses import asdict, fields
from typing import Any

from voltgate.db.engine import Database
from voltgate.db.schema import energy_sites
from voltgate.db.statements import Row, Statement
from voltgate.energy.store import EnergySite

_COLUMNS = tuple(f.name for f in fields(EnergySite))
_STORM = _COLUMNS.index("storm_mode_enabled")  # SQLite hands booleans back as 0 and 1
# Columns with few distinct values: one string each, shared by every site held in memory.
_SHARED = tuple(_COLUMNS.index(name) for name in ("time_zone", "default_real_mode"))

_SITE = f"SELECT {', '.join(_COLUMNS)} FROM energy_sites"  # noqa: S608 - constants
_BY_ID = Statement(f"{_SITE} WHERE id = ?")
_OF_USER = Statement(f"{_SITE} WHERE user_id = ? ORDER BY id")
_ALL = Statement(f"{_SITE} ORDER BY id")


def _site(row: Row) -> EnergySite:
    values = list(row)
    values[_STORM] = bool(values[_STORM])
    for at in _SHARED:
        values[at] = sys.intern(values[at])
    return EnergySite(*values)


class SqlEnergySiteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, site: EnergySite) -> None:
        await self._db.write(lambda conn: conn.execute(energy_sites.insert(), asdict(site)))

    async def get(self, site_id: int) -> EnergySite | None:
        row = await self._db.reader.one(_BY_ID, site_id)
        return None if row is None else _site(row)

    async def of_user(self, user_id: str) -> list[EnergySite]:
        return [_site(row) for row in await self._db.reader.all(_OF_USER, user_id)]

    async def reread(self, user_id: str) -> list[EnergySite]:
        return await self.of_user(user_id)

    async def all(self) -> list[EnergySite]:
        """Every site (the read model's load)."""
        return [_site(row) for row in await self._db.reader.scan(_ALL)]

    async def update(self, site_id: int, changes: dict[str, Any], now: float) -> EnergySite | None:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not energy site columns: {sorted(unknown)}")
        statement = (
            energy_sites.update()
            .where(energy_sites.c.id == site_id)
            .values(**changes, updated_at=now)
            .returning(*(energy_sites.c[name] for name in _COLUMNS))
        )
        row = await self._db.write(lambda conn: conn.execute(statement).first())
        return None if row is None else _site(tuple(row))
