"""Group commit on PostgreSQL: one task writes at a time, and every write waiting when it
is free goes into one transaction, committed once; then every caller is answered."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltgate.db.writer import MAX_BATCH, Run, answer

T = TypeVar("T")


class _Batches:
    """What the PostgreSQL writers share: writes wait in a queue; one task commits every write
    waiting (up to MAX_BATCH) at a time through `_commit`, which answers each caller."""

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
                count = min(MAX_BATCH, len(self._waiting))
                batch = [self._waiting.popleft() for _ in range(count)]
                answer(await self._commit(batch))
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
    batch one by one, as `AsyncGroupWriter` does). A batch that is one statement, or rows
    of one insert, needs no BEGIN and COMMIT of its own."""

    def __init__(self, pool: Callable[[], Awaitable[Any]]) -> None:
        super().__init__()
        self._pool = pool

    async def write(self, run: Run) -> Any:
        return await self._queue(run)

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        pool = await self._pool()
        try:
            async with pool.acquire() as conn:
                first = batch[0][0].statement
                if len(batch) == 1 or (
                    first.one_row_insert
                    and all(r.statement is first and not r.returning for r, _ in batch)
                ):
                    # One statement, or one insert's rows (asyncpg's executemany is atomic):
                    # committed on its own, one round trip instead of three.
                    results = await _statements(conn, batch)
                else:
                    async with conn.transaction():
                        results = await _statements(conn, batch)
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0][1], None, exc)]
            return [outcome for one in batch for outcome in await self._commit([one])]
        self.batches += 1
        self.writes += len(batch)
        return [(future, result, None) for (_, future), result in zip(batch, results, strict=True)]


async def _statements(conn: Any, batch: list[tuple[Run, asyncio.Future[Any]]]) -> list[Any]:
    results: list[Any] = []
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
    return results
