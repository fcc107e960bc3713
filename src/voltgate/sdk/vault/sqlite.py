"""The default store: one SQLite file (stdlib `sqlite3`, WAL), and a file lock per grant.

`flock` is released by the kernel when its holder dies, so a process killed mid-refresh leaves
no lock behind; the next holder finds the grant as it was last stored and refreshes it (the
platform's grace window answers a refresh token presented again shortly after).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from voltgate.sdk.vault.records import GrantKey, Record
from voltgate.sdk.vault.store import LOCK_TIMEOUT, POLL, LockTimeout, StaleFence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
  profile TEXT NOT NULL, app TEXT NOT NULL, user TEXT NOT NULL,
  kek_id TEXT NOT NULL, wrapped_key BLOB NOT NULL, sealed BLOB NOT NULL,
  expires_at REAL NOT NULL, refreshed_at REAL, failures INTEGER NOT NULL DEFAULT 0,
  needs_reauth INTEGER NOT NULL DEFAULT 0, fence INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (profile, app, user)
);
CREATE TABLE IF NOT EXISTS fences (
  profile TEXT NOT NULL, app TEXT NOT NULL, user TEXT NOT NULL, value INTEGER NOT NULL,
  PRIMARY KEY (profile, app, user)
)
"""
_NEXT_FENCE = """
INSERT INTO fences (profile, app, user, value) VALUES (?, ?, ?, 1)
ON CONFLICT (profile, app, user) DO UPDATE SET value = value + 1 RETURNING value
"""
_COLUMNS = (
    "profile, app, user, kek_id, wrapped_key, sealed, expires_at, refreshed_at, failures, "
    "needs_reauth, fence"
)
_UPSERT = f"""
INSERT INTO grants ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (profile, app, user) DO UPDATE SET
  kek_id = excluded.kek_id, wrapped_key = excluded.wrapped_key, sealed = excluded.sealed,
  expires_at = excluded.expires_at, refreshed_at = excluded.refreshed_at,
  failures = excluded.failures, needs_reauth = excluded.needs_reauth, fence = excluded.fence
WHERE grants.fence <= excluded.fence
"""  # noqa: S608 - constants


def row_of(record: Record) -> tuple[Any, ...]:
    k = record.key
    return (
        k.profile, k.app, k.user, record.kek_id, record.wrapped_key, record.sealed,
        record.expires_at, record.refreshed_at, record.failures, bool(record.needs_reauth),
        record.fence,
    )  # fmt: skip


def record_of(row: Any) -> Record:
    return Record(
        GrantKey(row[0], row[1], row[2]), row[3], bytes(row[4]), bytes(row[5]), row[6],
        row[7], row[8], bool(row[9]), row[10],
    )  # fmt: skip


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._locks = self.path.with_name(self.path.name + ".locks")
        self._locks.mkdir(exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _load(self, key: GrantKey) -> Record | None:
        with closing(self._connect()) as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM grants WHERE profile = ? AND app = ? AND user = ?",  # noqa: S608
                (key.profile, key.app, key.user),
            ).fetchone()
        return None if row is None else record_of(row)

    def _save(self, record: Record) -> None:
        with closing(self._connect()) as db:
            if db.execute(_UPSERT, row_of(record)).rowcount == 0:
                raise StaleFence(record.key.label())

    def _next_fence(self, key: GrantKey) -> int:
        with closing(self._connect()) as db:
            value: int = db.execute(_NEXT_FENCE, (key.profile, key.app, key.user)).fetchone()[0]
            return value

    def _records(self) -> list[Record]:
        with closing(self._connect()) as db:
            return [record_of(r) for r in db.execute(f"SELECT {_COLUMNS} FROM grants")]  # noqa: S608

    async def load(self, key: GrantKey) -> Record | None:
        return await asyncio.to_thread(self._load, key)

    async def save(self, record: Record) -> None:
        await asyncio.to_thread(self._save, record)

    async def records(self) -> list[Record]:
        return await asyncio.to_thread(self._records)

    @asynccontextmanager
    async def lock(self, key: GrantKey, timeout: float = LOCK_TIMEOUT) -> AsyncIterator[int]:
        name = hashlib.sha256(key.context()).hexdigest()[:32]
        fd = os.open(self._locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LockTimeout(key.label()) from None
                    await asyncio.sleep(POLL)  # never block the event loop on another process
            try:
                yield await asyncio.to_thread(self._next_fence, key)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def close(self) -> None:
        return None
