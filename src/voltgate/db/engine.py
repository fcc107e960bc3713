"""The database handle: one async engine (on SQLite also one thread of whole operations),
SQLite pragmas, self-upgrade via Alembic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from voltgate.config import Settings
from voltgate.db.pgwriter import AsyncGroupWriter, StatementWriter
from voltgate.db.statements import (
    PostgresReader,
    Reader,
    Row,
    SqliteReader,
    Statement,
    postgres_dsn,
)
from voltgate.db.writer import Deferred, GroupWriter, Run, Together, writer_engine

MIGRATIONS = Path(__file__).parent / "migrations"

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class Database:
    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        self.is_sqlite = url.startswith("sqlite")
        self._sync: sa.Engine | None = None
        self._threads: dict[str, ThreadPoolExecutor] = {}
        self._write_lock: asyncio.Lock | None = None
        self._writer: GroupWriter | None = None
        self._pg_writer: AsyncGroupWriter | None = None
        self._pg_statements: StatementWriter | None = None
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(url)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # read()/write() run on two threads (one reads, one writes) with the stdlib driver:
            # one thread hop per operation, where aiosqlite makes ~4 per statement plus one per
            # rollback or commit. Writes queue on theirs instead of meeting in SQLite's busy
            # handler; reads (WAL) never wait behind a write's commit, checkpoint or busy wait.
            sync_url = self.engine.url.set(drivername="sqlite")
            self._sync = sa.create_engine(sync_url)
            event.listen(self._sync, "connect", _sqlite_pragmas)
            # Writes are group-committed: statements on the loop, the rest on a thread of
            # their own (db/writer.py).
            self._writer = GroupWriter(writer_engine(sync_url, _sqlite_pragmas), _sqlite_pragmas)
            # begin()'s writers (aiosqlite) take turns here for the same reason. busy_timeout
            # is left for other processes (the CLI) and a write() meeting a begin().
            self._write_lock = asyncio.Lock()
            path = str((settings.data_dir / "voltgate.db").resolve())
            if settings.database_url:
                path = self._sync.url.database or path
            self.reader: Reader = SqliteReader(path, partial(self._on_thread, "read"))
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=10)
            reader = PostgresReader(postgres_dsn(url))
            self.reader = reader
            self._pg_writer = AsyncGroupWriter(self.engine)
            self._pg_statements = StatementWriter(reader.pool)

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A transaction: `async with db.begin() as conn:` commits on success."""
        turn = contextlib.nullcontext() if self._write_lock is None else self._write_lock
        async with turn, self.engine.begin() as conn:
            yield conn

    def connect(self) -> Any:
        return self.engine.connect()

    async def read(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(conn)` on one connection, as one unit (one thread hop on SQLite)."""
        if self._sync is not None:
            return await self._on_thread("read", partial(_connected, self._sync, work))
        async with self.engine.connect() as conn:
            return await conn.run_sync(work)

    async def write(self, work: Callable[[sa.Connection], T]) -> T:
        """`work(conn)` in one transaction (on SQLite a savepoint of a group commit), committed
        before this returns, or not at all if it raises."""
        if self._writer is not None:
            result: T = await self._writer.write(work)
            return result
        assert self._pg_writer is not None
        return await self._pg_writer.write(work)

    async def run(self, statement: Statement, *args: Any) -> int:
        """One statement built once as a write (group-committed, straight to the driver): the
        number of rows it changed, once committed."""
        count: int = await self._statement(Run(statement, args, returning=False))
        return count

    async def run_returning(self, statement: Statement, *args: Any) -> list[Row]:
        """As `run`, for a statement with RETURNING: its rows, once committed."""
        rows: list[Row] = await self._statement(Run(statement, args, returning=True))
        return rows

    async def run_together(self, *runs: tuple[Statement, tuple[Any, ...] | list[Any]]) -> list[int]:
        """Statements committed together or not at all (an action and its audit row), in
        order, as one write of a group commit: each one's row count, once committed. A list
        of argument tuples runs its statement once for each (a batch of rows); its count is
        the number of tuples."""
        counts: list[int] = await self._statement(
            Together(
                tuple(
                    Run(statement, args, returning=False, many=type(args) is list)
                    for statement, args in runs
                )
            )
        )
        return counts

    def submit(self, work: Deferred, done: asyncio.Future[Any]) -> None:
        """A write built when its batch runs (`Deferred`), without waiting: `done` is answered
        with its result once committed, or with the batch's error."""
        if self._writer is not None:
            self._writer.submit(work, done)
            return
        assert self._pg_statements is not None
        self._pg_statements.submit(work, done)

    async def _statement(self, run: Run | Together) -> Any:
        if self._writer is not None:
            return await self._writer.write(run)
        assert self._pg_statements is not None
        return await self._pg_statements.write(run)

    def writers(self) -> dict[str, GroupWriter | AsyncGroupWriter | StatementWriter]:
        """The group-commit writers by name; each counts its `batches` (commits) and `writes`."""
        found = {
            "sqlite": self._writer,
            "postgres_work": self._pg_writer,
            "postgres_statements": self._pg_statements,
        }
        return {name: writer for name, writer in found.items() if writer is not None}

    async def _on_thread(self, name: str, call: Callable[[], T]) -> T:
        thread = self._threads.get(name)
        if thread is None:
            thread = ThreadPoolExecutor(1, thread_name_prefix=f"voltgate-sqlite-{name}")
            self._threads[name] = thread
        return await asyncio.get_running_loop().run_in_executor(thread, call)

    async def upgrade(self) -> None:
        async with self.begin() as conn:
            await conn.run_sync(_upgrade)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        if self._pg_writer is not None:
            await self._pg_writer.close()
        if self._pg_statements is not None:
            await self._pg_statements.close()
        await self.reader.close()
        await self.engine.dispose()
        if self._writer is not None:
            await self._writer.close()
        for thread in self._threads.values():
            await asyncio.to_thread(thread.shutdown)  # lets queued work finish first
        self._threads.clear()
        if self._sync is not None:
            self._sync.dispose()


def _connected(engine: sa.Engine, work: Callable[[sa.Connection], T]) -> T:
    with engine.connect() as conn:
        return work(conn)


def _upgrade(connection: sa.Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _current(connection: sa.Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


__all__ = ["AsyncConnection", "Database"]


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
