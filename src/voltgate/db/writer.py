"""Group commit: on SQLite one writer thread, on PostgreSQL one writing connection, and every
write waiting when it is free goes into one transaction.

Each write runs in a SAVEPOINT of the batch's transaction, so one that fails is undone alone
and its caller gets its exception; the rest commit together with one COMMIT, and then — not
before — every caller is answered, with one wake-up of the event loop for the whole batch.
Idle, a batch is one write and costs what a transaction always cost; under load batches grow
with the load, and the commit, the thread hop and the loop wake-up are shared.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from voltgate.db.statements import Statement

T = TypeVar("T")
Work = Callable[[sa.Connection], Any]
_MAX_BATCH = 256


class Run:
    """A statement built once, with its arguments, as a write of a batch: the driver runs it
    (no SQLAlchemy on the way); the result is the row count, or the rows with `returning`."""

    __slots__ = ("args", "returning", "statement")

    def __init__(self, statement: Statement, args: tuple[Any, ...], returning: bool) -> None:
        self.statement = statement
        self.args = args
        self.returning = returning


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # The stdlib driver's own implicit BEGIN would make the batch's first RELEASE a commit:
    # transactions are begun explicitly instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: sa.Connection) -> None:
    # Take the write lock at BEGIN: a writer never upgrades a read lock, so never deadlocks.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def writer_engine(url: sa.URL, on_connect: Callable[[Any, Any], None]) -> sa.Engine:
    engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    event.listen(engine, "connect", on_connect)
    event.listen(engine, "connect", _autocommit_driver)
    event.listen(engine, "begin", _begin_immediate)
    return engine


class GroupWriter:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="voltgate-sqlite-write")
        self._waiting: deque[tuple[Work | Run, asyncio.Future[Any]]] = deque()
        self._lock = threading.Lock()
        self._draining = False
        self.batches = 0  # how many transactions, for tests and metrics
        self.writes = 0

    async def write(self, work: Callable[[sa.Connection], T] | Run) -> Any:
        """`work(conn)` (or a statement) in a transaction, committed before this returns."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((work, future))
            start = not self._draining
            self._draining = True
        if start:
            self._thread.submit(self._drain, loop)
        return await future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the writer thread: batches until nothing waits."""
        while True:
            with self._lock:
                if not self._waiting:
                    self._draining = False
                    return
                batch = [
                    self._waiting.popleft() for _ in range(min(_MAX_BATCH, len(self._waiting)))
                ]
            outcomes = self._commit(batch)
            loop.call_soon_threadsafe(_answer, outcomes)

    def _commit(self, batch: list[tuple[Work | Run, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        outcomes: list[tuple[Any, ...]] = []
        try:
            with self._engine.connect() as conn, conn.begin():
                # The driver's own connection for the savepoints: the same SQL that
                # SQLAlchemy's nested transactions send, without compiling it for every write.
                raw = conn.connection.dbapi_connection
                assert raw is not None
                for work, future in batch:
                    raw.execute("SAVEPOINT w")
                    try:
                        result = _run(raw, work) if isinstance(work, Run) else work(conn)
                    except Exception as exc:
                        raw.execute("ROLLBACK TO w")
                        raw.execute("RELEASE w")
                        outcomes.append((future, None, exc))
                    else:
                        raw.execute("RELEASE w")
                        outcomes.append((future, result, None))
        except Exception as exc:  # the COMMIT (or BEGIN) failed: nothing of the batch is stored
            return [(future, None, exc) for _, future in batch]
        self.batches += 1
        self.writes += len(batch)
        return outcomes

    def close(self) -> None:
        self._thread.shutdown(wait=True)  # lets queued batches finish first


def _run(raw: Any, run: Run) -> Any:
    cursor = raw.execute(run.statement.sqlite, run.args)
    return cursor.fetchall() if run.returning else cursor.rowcount


def _answer(outcomes: list[tuple[Any, ...]]) -> None:
    for future, result, exc in outcomes:
        if future.done():
            continue
        if exc is None:
            future.set_result(result)
        else:
            future.set_exception(exc)


class _Batches:
    """What the PostgreSQL writers share: writes wait in a queue; one task commits every write
    waiting (up to _MAX_BATCH) at a time through `_commit`, which answers each caller."""

    def __init__(self) -> None:
        self._waiting: deque[tuple[Any, asyncio.Future[Any]]] = deque()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.writes = 0

    async def _queue(self, work: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                count = min(_MAX_BATCH, len(self._waiting))
                batch = [self._waiting.popleft() for _ in range(count)]
                _answer(await self._commit(batch))
        finally:
            self._task = None

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.wait({self._task})


class AsyncGroupWriter(_Batches):
    """Group commit on PostgreSQL: one connection of the pool writes; every write waiting when
    it is free goes into one transaction, committed once.

    Savepoints would cost a round trip each, so a batch runs its writes bare; when one raises,
    the batch is rolled back and every write of it runs again alone, so each caller gets its
    own outcome (and a write fails only for itself) — the rare path pays for the common one.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine

    async def write(self, work: Callable[[sa.Connection], T]) -> T:
        result: T = await self._queue(work)
        return result

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        try:
            async with self._engine.begin() as conn:
                results = [await conn.run_sync(work) for work, _ in batch]
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0][1], None, exc)]
            return [outcome for one in batch for outcome in await self._commit([one])]
        self.batches += 1
        self.writes += len(batch)
        return [(future, result, None) for (_, future), result in zip(batch, results, strict=True)]


class StatementWriter(_Batches):
    """Group commit of statements on PostgreSQL, straight through asyncpg: one connection of
    the reader's pool runs every statement waiting in one transaction (a failure reruns the
    batch one by one, as `AsyncGroupWriter` does)."""

    def __init__(self, pool: Callable[[], Awaitable[Any]]) -> None:
        super().__init__()
        self._pool = pool

    async def write(self, run: Run) -> Any:
        return await self._queue(run)

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        pool = await self._pool()
        results = []
        try:
            async with pool.acquire() as conn, conn.transaction():
                at = 0
                while at < len(batch):
                    run = batch[at][0]
                    sql, args = run.statement.postgres, run.args
                    if run.statement.one_row_insert and not run.returning:
                        # A run of the same single-row insert goes in one pipelined trip.
                        end = at + 1
                        while end < len(batch) and batch[end][0].statement is run.statement:
                            end += 1
                        if end - at > 1:
                            await conn.executemany(sql, [r.args for r, _ in batch[at:end]])
                            results += [1] * (end - at)
                            at = end
                            continue
                    if run.returning:
                        results.append(await conn.fetch(sql, *args))
                    else:
                        status: str = await conn.execute(sql, *args)
                        results.append(int(status.rsplit(" ", 1)[-1]))
                    at += 1
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0][1], None, exc)]
            return [outcome for one in batch for outcome in await self._commit([one])]
        self.batches += 1
        self.writes += len(batch)
        return [(future, result, None) for (_, future), result in zip(batch, results, strict=True)]
