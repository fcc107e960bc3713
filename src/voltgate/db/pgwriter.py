"""Group commit on PostgreSQL: one task writes at a time, and every write waiting when it
is free goes into one transaction, committed once; then every caller is answered."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from voltgate.db.writer import MAX_BATCH, Run, Statements, Together, answer

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

    async def write(self, run: Statements) -> Any:
        return await self._queue(run)

    async def _commit(self, batch: list[tuple[Any, asyncio.Future[Any]]]) -> list[tuple[Any, ...]]:
        pool = await self._pool()
        try:
            async with pool.acquire() as conn:
                if _on_its_own(batch):
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


async def _statements(conn: Any, batch: list[tuple[Statements, asyncio.Future[Any]]]) -> list[Any]:
    results: list[Any] = []
    at = 0
    while at < len(batch):
        run = batch[at][0]
        if type(run) is Together:  # in the batch's transaction, so all or none of it
            results.append([await _statement(conn, one) for one in run.runs])
            at += 1
            continue
        assert isinstance(run, Run)
        end = _same_insert(batch, at)
        if end - at > 1:  # a run of the same single-row insert goes in one pipelined trip
            rows = [r.args for r, _ in batch[at:end] if isinstance(r, Run)]
            await conn.executemany(run.statement.postgres, rows)
            results += [1] * (end - at)
            at = end
            continue
        results.append(await _statement(conn, run))
        at += 1
    return results


async def _statement(conn: Any, run: Run) -> Any:
    if run.returning:
        return await conn.fetch(run.statement.postgres, *run.args)
    status: str = await conn.execute(run.statement.postgres, *run.args)
    return int(status.rsplit(" ", 1)[-1])


def _same_insert(batch: list[tuple[Statements, asyncio.Future[Any]]], at: int) -> int:
    """Where the run of rows for the single-row insert at `at` ends (`at + 1`: no run)."""
    first = batch[at][0]
    end = at + 1
    if not isinstance(first, Run) or not first.statement.one_row_insert or first.returning:
        return end
    while end < len(batch):
        run = batch[end][0]
        if not isinstance(run, Run) or run.statement is not first.statement or run.returning:
            break
        end += 1
    return end


def _on_its_own(batch: list[tuple[Statements, asyncio.Future[Any]]]) -> bool:
    """One statement, or one insert's rows: atomic without a transaction of its own."""
    return isinstance(batch[0][0], Run) and (
        len(batch) == 1 or _same_insert(batch, 0) == len(batch)
    )
