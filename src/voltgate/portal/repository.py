"""The portal's SQL: developer apps and secrets waiting to be shown (SQLAlchemy Core; not a hot
path), and the usage counters' rows (statements built once, flushed by the group-commit writer)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import developer_apps, portal_reveals
from voltgate.db.statements import Statement
from voltgate.identity.usage import UsageRow
from voltgate.portal.store import DeveloperApp

_ADD_USAGE = Statement(
    "INSERT INTO app_usage (client_id, bucket, requests, tokens, limited, errors)"
    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (client_id, bucket) DO UPDATE SET"
    " requests = app_usage.requests + excluded.requests,"
    " tokens = app_usage.tokens + excluded.tokens,"
    " limited = app_usage.limited + excluded.limited,"
    " errors = app_usage.errors + excluded.errors"
)
_USAGE_SINCE = Statement(
    "SELECT client_id, bucket, requests, tokens, limited, errors FROM app_usage"
    " WHERE client_id = ? AND bucket >= ? ORDER BY bucket"
)


def _app(row: Any) -> DeveloperApp:
    return DeveloperApp(
        client_id=row.client_id,
        owner_id=row.owner_id,
        stage=row.stage,
        allowed_origins=tuple(orjson.loads(row.allowed_origins)),
        created_at=row.created_at,
        approved_at=row.approved_at,
    )


class SqlDeveloperAppStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, app: DeveloperApp) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                developer_apps.insert().values(
                    client_id=app.client_id,
                    owner_id=app.owner_id,
                    stage=app.stage,
                    allowed_origins=orjson.dumps(list(app.allowed_origins)).decode(),
                    created_at=app.created_at,
                    approved_at=app.approved_at,
                )
            )

    async def get(self, client_id: str) -> DeveloperApp | None:
        async with self._db.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(developer_apps).where(developer_apps.c.client_id == client_id)
                )
            ).first()
        return None if row is None else _app(row)

    async def of_owner(self, owner_id: str) -> list[DeveloperApp]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                sa.select(developer_apps)
                .where(developer_apps.c.owner_id == owner_id)
                .order_by(developer_apps.c.created_at)
            )
            return [_app(row) for row in rows]

    async def set_origins(self, client_id: str, origins: tuple[str, ...]) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                developer_apps.update()
                .where(developer_apps.c.client_id == client_id)
                .values(allowed_origins=orjson.dumps(list(origins)).decode())
            )

    async def approved(self, client_id: str, at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                developer_apps.update()
                .where(developer_apps.c.client_id == client_id)
                .values(approved_at=at)
            )


class SqlRevealStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, key: str, client_id: str, sealed: str, expires_at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                portal_reveals.insert().values(
                    key=key, client_id=client_id, sealed=sealed, expires_at=expires_at
                )
            )

    async def take(self, key: str, client_id: str, now: float) -> str | None:
        async with self._db.begin() as conn:
            sealed = (
                await conn.execute(
                    sa.select(portal_reveals.c.sealed).where(
                        portal_reveals.c.key == key,
                        portal_reveals.c.client_id == client_id,
                        portal_reveals.c.expires_at > now,
                    )
                )
            ).scalar_one_or_none()
            if sealed is None:
                return None
            # Two readers at once: only the one whose delete removed the row shows it.
            taken = await conn.execute(portal_reveals.delete().where(portal_reveals.c.key == key))
            return str(sealed) if taken.rowcount == 1 else None

    async def prune(self, now: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(portal_reveals.delete().where(portal_reveals.c.expires_at <= now))


class SqlUsageStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, rows: list[UsageRow]) -> None:
        if rows:
            args = [
                (r.client_id, r.bucket, r.requests, r.tokens, r.limited, r.errors) for r in rows
            ]
            await self._db.run_together((_ADD_USAGE, args))

    async def since(self, client_id: str, start: int) -> list[UsageRow]:
        rows = await self._db.reader.scan(_USAGE_SINCE, client_id, start)
        return [UsageRow(str(r[0]), int(r[1]), *(int(v) for v in r[2:])) for r in rows]
