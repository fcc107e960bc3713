"""Reads through statements built once: SQL text written at import time (with `?` placeholders;
the PostgreSQL text with `$n` is derived once), rows as tuples read by position.

On SQLite a bounded read (a point look-up, one page) runs on the event loop's own thread with
the stdlib driver: ~15 µs, where a hop to a worker thread costs ~80 µs of CPU and competes for
the GIL. `scan` (a range over history that may be long) runs on the database's reader thread.
On PostgreSQL both go through an asyncpg pool, which prepares each statement once per
connection.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol

Row = Sequence[Any]
_PLACEHOLDER = re.compile(r"\?")
_ONE_ROW_INSERT = re.compile(r"^INSERT INTO \w+ \([\w, ]+\) VALUES \([?, ]+\)$", re.IGNORECASE)


class Statement:
    """One SQL statement in both dialects: `?` marks a parameter (never write a literal `?`);
    pass `postgres` where the dialects differ by more than placeholders. With `arrays`, a run
    of the statement over many rows reaches PostgreSQL as one execution with an array per
    column (its `postgres` text reads them with `unnest`), not one execution per row."""

    __slots__ = ("arrays", "one_row_insert", "postgres", "sqlite")

    def __init__(self, sql: str, postgres: str | None = None, *, arrays: bool = False) -> None:
        self.arrays = arrays
        self.sqlite = " ".join(sql.split())
        # Exactly one row when it succeeds: a writer may send a run of these together.
        self.one_row_insert = _ONE_ROW_INSERT.match(self.sqlite) is not None
        if postgres is not None:
            self.postgres = " ".join(postgres.split())
            return
        counter = iter(range(1, 10_000))
        self.postgres = _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", self.sqlite)

    def __repr__(self) -> str:
        return f"Statement({self.sqlite!r})"


class Reader(Protocol):
    async def all(self, statement: Statement, *args: Any) -> list[Row]:
        """Every row (a bounded read: a point look-up or one page)."""

    async def one(self, statement: Statement, *args: Any) -> Row | None: ...

    async def scan(self, statement: Statement, *args: Any) -> list[Row]:
        """Every row of a range that may be long (off the event loop on SQLite)."""

    async def close(self) -> None: ...


class SqliteReader:
    """A read-only stdlib connection used on the loop's thread, another on a worker for scans."""

    def __init__(self, path: str, on_thread: Callable[[Callable[[], Any]], Any]) -> None:
        self._path = path
        self._on_thread = on_thread
        self._inline: sqlite3.Connection | None = None
        self._worker: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    async def all(self, statement: Statement, *args: Any) -> list[Row]:
        if self._inline is None:
            self._inline = self._connect()
        return self._inline.execute(statement.sqlite, args).fetchall()

    async def one(self, statement: Statement, *args: Any) -> Row | None:
        if self._inline is None:
            self._inline = self._connect()
        row: Row | None = self._inline.execute(statement.sqlite, args).fetchone()
        return row

    async def scan(self, statement: Statement, *args: Any) -> list[Row]:
        def work() -> list[Row]:
            if self._worker is None:
                self._worker = self._connect()
            return self._worker.execute(statement.sqlite, args).fetchall()

        rows: list[Row] = await self._on_thread(work)
        return rows

    async def close(self) -> None:
        for conn in (self._inline, self._worker):
            if conn is not None:
                conn.close()
        self._inline = self._worker = None


class PostgresReader:
    """An asyncpg pool of its own (SQLAlchemy's stays for writes and migrations)."""

    def __init__(self, dsn: str, size: int = 8) -> None:
        self._dsn = dsn
        self._size = size
        self._pool: Any = None
        self._opening: asyncio.Lock | None = None

    async def pool(self) -> Any:
        """The asyncpg pool (opened on first use)."""
        return await self._acquire()

    async def _acquire(self) -> Any:
        if self._pool is None:
            if self._opening is None:
                self._opening = asyncio.Lock()
            async with self._opening:
                if self._pool is None:
                    import asyncpg

                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._size, reset=_reset
                    )
        return self._pool

    async def all(self, statement: Statement, *args: Any) -> list[Row]:
        pool = await self._acquire()
        rows: list[Row] = await pool.fetch(statement.postgres, *args)
        return rows

    async def one(self, statement: Statement, *args: Any) -> Row | None:
        pool = await self._acquire()
        row: Row | None = await pool.fetchrow(statement.postgres, *args)
        return row

    async def scan(self, statement: Statement, *args: Any) -> list[Row]:
        return await self.all(statement, *args)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def postgres_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` as asyncpg takes it."""
    scheme, sep, rest = sqlalchemy_url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


async def _reset(conn: Any) -> None:
    """What a connection needs on its way back to the pool. These connections take no
    session state (no SET, LISTEN, advisory lock or open cursor), so asyncpg's default reset
    (a round trip of RESET ALL and friends on every release) is skipped; a transaction left
    open by a cancelled caller is rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")
