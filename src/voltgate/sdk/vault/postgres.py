"""A PostgreSQL store (asyncpg; `pip install voltgate-sdk[postgres]`): one table, and a
session advisory lock per grant, held on a connection of its own for the refresh.

PostgreSQL releases an advisory lock when its session ends, so a process that dies mid-refresh
leaves none behind. asyncpg is asynchronous only (no blocking PostgreSQL driver is a dependency
here); `ApiClient` runs it on its own loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from voltgate.sdk.vault.records import GrantKey, Record
from voltgate.sdk.vault.store import LOCK_TIMEOUT, POLL, LockTimeout, StaleFence

_COLUMNS = (
    "profile, app, user_id, kek_id, wrapped_key, sealed, expires_at, refreshed_at, failures, "
    "needs_reauth, fence"
)


def _record(row: Any) -> Record:
    return Record(
        GrantKey(row[0], row[1], row[2]), row[3], bytes(row[4]), bytes(row[5]), row[6],
        row[7], row[8], row[9], row[10],
    )  # fmt: skip


def _lock_id(key: GrantKey) -> int:
    """A 64-bit advisory-lock key from the grant's name (signed, as PostgreSQL's bigint)."""
    return int.from_bytes(hashlib.sha256(key.context()).digest()[:8], "big", signed=True)


class PostgresStore:
    def __init__(self, pool: Any, table: str = "voltgate_sdk_grants") -> None:
        """`pool`: an asyncpg pool (`await PostgresStore.connect(dsn)` makes one)."""
        if not table.replace("_", "").isalnum():
            raise ValueError(f"table name {table!r}")
        self._pool = pool
        self._table = table

    @classmethod
    async def connect(cls, dsn: str, table: str = "voltgate_sdk_grants") -> PostgresStore:
        import asyncpg

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
        store = cls(pool, table)
        await store.migrate()
        return store

    async def migrate(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            # Processes starting at once: CREATE TABLE IF NOT EXISTS alone can still collide.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self._table)
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {self._table} (
                  profile TEXT NOT NULL, app TEXT NOT NULL, user_id TEXT NOT NULL,
                  kek_id TEXT NOT NULL, wrapped_key BYTEA NOT NULL, sealed BYTEA NOT NULL,
                  expires_at DOUBLE PRECISION NOT NULL, refreshed_at DOUBLE PRECISION,
                  failures INTEGER NOT NULL DEFAULT 0, needs_reauth BOOLEAN NOT NULL DEFAULT false,
                  fence BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (profile, app, user_id))"""
            )
            await conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {self._table}_fences (
                  profile TEXT NOT NULL, app TEXT NOT NULL, user_id TEXT NOT NULL,
                  value BIGINT NOT NULL, PRIMARY KEY (profile, app, user_id))"""
            )

    async def load(self, key: GrantKey) -> Record | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM {self._table} WHERE profile = $1 AND app = $2 "  # noqa: S608
            "AND user_id = $3",
            key.profile, key.app, key.user,
        )  # fmt: skip
        return None if row is None else _record(row)

    async def save(self, record: Record) -> None:
        k = record.key
        status = await self._pool.execute(
            f"""INSERT INTO {self._table} ({_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (profile, app, user_id) DO UPDATE SET
              kek_id = EXCLUDED.kek_id, wrapped_key = EXCLUDED.wrapped_key,
              sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at,
              refreshed_at = EXCLUDED.refreshed_at, failures = EXCLUDED.failures,
              needs_reauth = EXCLUDED.needs_reauth, fence = EXCLUDED.fence
            WHERE {self._table}.fence <= EXCLUDED.fence""",  # noqa: S608 - a checked name
            k.profile, k.app, k.user, record.kek_id, record.wrapped_key, record.sealed,
            record.expires_at, record.refreshed_at, record.failures, record.needs_reauth,
            record.fence,
        )  # fmt: skip
        if status.endswith(" 0"):
            raise StaleFence(k.label())

    async def records(self) -> list[Record]:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM {self._table}")  # noqa: S608
        return [_record(r) for r in rows]

    @asynccontextmanager
    async def lock(self, key: GrantKey, timeout: float = LOCK_TIMEOUT) -> AsyncIterator[int]:
        lock_id = _lock_id(key)
        async with self._pool.acquire() as conn:
            deadline = time.monotonic() + timeout
            # Tried, not waited for in the server: a cancelled wait cannot leave it taken.
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id):
                if time.monotonic() > deadline:
                    raise LockTimeout(key.label())
                await asyncio.sleep(POLL)
            try:
                yield await conn.fetchval(
                    f"INSERT INTO {self._table}_fences VALUES ($1, $2, $3, 1) "  # noqa: S608
                    "ON CONFLICT (profile, app, user_id) DO UPDATE SET "
                    f"value = {self._table}_fences.value + 1 RETURNING value",
                    key.profile, key.app, key.user,
                )  # fmt: skip
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", lock_id)

    async def close(self) -> None:
        await self._pool.close()
