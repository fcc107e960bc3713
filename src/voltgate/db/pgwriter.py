"""Group commit on PostgreSQL: a writing task takes every write waiting when it is free into
one transaction, committed once; then every caller is answered."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltgate.db.statements import Statement
from voltgate.db.writer import MAX_BATCH, Deferred, Run, Statements, Together, answer, built

T = TypeVar("T")


class _Batches:
    """What the PostgreSQL writers share: writes wait in a queue; a task commits every write
    waiting (up to MAX_BATCH) at a time through `_commit`, which answers each caller. Up to
    `depth` tasks write at once, each on its own connection: while one batch is on its way to
    the server and back, the next is already being sent, so the event loop does not sit idle
    for a round trip. The writes of a batch come from separate requests, so batches in flight
    together are independent; one request's writes follow each other (it awaits each)."""

    def __init__(self, depth: int = 1) -> None:
        self._waiting: deque[tuple[Any, asyncio.Future[Any]]] = deque()
        self._depth = depth
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.writes = 0

    async def _queue(self, work: Any) -> Any:
        return await self._submit(work, None)

    def _submit(self, work: Any, future: asyncio.Future[Any] | None) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        if future is None:
            future = loop.create_future()
        self._waiting.append((work, future))
        if len(self._tasks) < self._depth:
            self._tasks.add(loop.create_task(self._drain()))
        return future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                count = min(MAX_BATCH, len(self._waiting))
                batch = built([self._waiting.popleft() for _ in range(count)])
                if batch:
                    answer(await self._commit(batch))
        finally:
            # Gone from the set in the same step as the queue is seen empty: a write queued
            # after this starts a task of its own (a done-callback would come a step late).
            task = asyncio.current_task()
            assert task is not None
            self._tasks.discard(task)

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        """The batch in one transaction, each caller's outcome. When a write raises, the batch
        is rolled back and each write runs again alone, so a write fails only for itself."""
        try:
            results = await self._run(batch)
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0][1], None, exc)]
            return [outcome for one in batch for outcome in await self._commit([one])]
        self.batches += 1
        self.writes += len(batch)
        return [(future, result, None) for (_, future), result in zip(batch, results, strict=True)]

    async def _run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[Any]:
        """Every write of the batch, committed together: their results."""
        raise NotImplementedError

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks))


class AsyncGroupWriter(_Batches):
    """Group commit on PostgreSQL: one connection of the pool writes; every write waiting when
    it is free goes into one transaction, committed once. Savepoints would cost a round trip
    each, so a batch runs its writes bare (and reruns them alone if one raises: the rare path
    pays for the common one)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine

    async def write(self, work: Callable[[sa.Connection], T]) -> T:
        result: T = await self._queue(work)
        return result

    async def _run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[Any]:
        async with self._engine.begin() as conn:
            return [await conn.run_sync(work) for work, _ in batch]


class StatementWriter(_Batches):
    """Group commit of statements on PostgreSQL, straight through asyncpg: a connection of the
    reader's pool runs every statement waiting in one transaction, two batches in flight at
    most (a failure reruns the batch one by one, as `AsyncGroupWriter` does). A batch that is
    one statement, or rows of one insert, needs no BEGIN and COMMIT of its own."""

    def __init__(self, pool: Callable[[], Awaitable[Any]], depth: int = 2) -> None:
        super().__init__(depth)
        self._pool = pool

    async def write(self, run: Statements) -> Any:
        return await self._queue(run)

    def submit(
        self, run: Statements | Deferred, future: asyncio.Future[Any] | None = None
    ) -> asyncio.Future[Any]:
        """Into the queue without waiting: `future` (a new one if None) is answered once the
        batch that takes it has committed."""
        return self._submit(run, future)

    async def _run(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[Any]:
        pool = await self._pool()
        async with pool.acquire() as conn:
            if _on_its_own(batch):
                # One statement, or one insert's rows (asyncpg's executemany is atomic):
                # committed on its own, one round trip instead of three.
                return await _statements(conn, batch)
            async with conn.transaction():
                return await _statements(conn, batch)


async def _statements(conn: Any, batch: list[tuple[Statements, asyncio.Future[Any]]]) -> list[Any]:
    """Each write's result, in the batch's order. The writes of a batch are independent (each
    came from its own request), so they may run in any order, each one's own statements in
    theirs: writes made of the same single-row inserts (a command and its audit row) go
    column by column, one pipelined `executemany` per statement; the rest one by one."""
    results: list[Any] = [None] * len(batch)
    alike: dict[tuple[Statement, ...], list[int]] = {}
    for at, (write, _) in enumerate(batch):
        runs = _runs(write)
        if all(r.statement.one_row_insert and not r.returning and not r.many for r in runs):
            alike.setdefault(tuple(r.statement for r in runs), []).append(at)
        elif isinstance(write, Together):
            results[at] = [await _statement(conn, one) for one in write.runs]
        else:
            results[at] = await _statement(conn, write)
    for statements, where in alike.items():
        for column, statement in enumerate(statements):
            rows = [_runs(batch[at][0])[column].args for at in where]
            if len(rows) == 1:
                await conn.execute(statement.postgres, *rows[0])
            else:
                await conn.executemany(statement.postgres, rows)
        for at in where:
            write = batch[at][0]
            results[at] = [1] * len(statements) if isinstance(write, Together) else 1
    return results


def _runs(write: Statements) -> tuple[Run, ...]:
    return write.runs if isinstance(write, Together) else (write,)


async def _statement(conn: Any, run: Run) -> Any:
    if run.many:
        if not run.args:
            return 0
        if run.statement.arrays:  # one execution, an array per column
            await conn.execute(
                run.statement.postgres, *(list(c) for c in zip(*run.args, strict=True))
            )
        else:
            await conn.executemany(run.statement.postgres, run.args)
        return len(run.args)
    if run.returning:
        return await conn.fetch(run.statement.postgres, *run.args)
    status: str = await conn.execute(run.statement.postgres, *run.args)
    return int(status.rsplit(" ", 1)[-1])


def _on_its_own(batch: list[tuple[Statements, asyncio.Future[Any]]]) -> bool:
    """One statement, or one insert's rows: atomic without a transaction of its own (asyncpg's
    `executemany` is)."""
    first = batch[0][0]
    if not isinstance(first, Run):
        return False
    if len(batch) == 1:
        return True
    return (
        first.statement.one_row_insert
        and not first.returning
        and not first.many
        and all(
            isinstance(w, Run) and w.statement is first.statement and not w.returning
            for w, _ in batch
        )
    )
