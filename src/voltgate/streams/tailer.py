"""A hub's source: the rows committed to a table, read by id every `interval` seconds while
anyone watches.

Only committed rows are read, so a frame never shows data that was not acknowledged, and
every process and instance streams what any of them (or a separate ingest process) stored.
When the hub's first consumer arrives the tailer starts at the table's greatest id and then
reads `SELECT … WHERE id > :last ORDER BY id LIMIT :page` every `interval` (at once again
while pages come back full, yielding to the loop in between); when the last consumer leaves
it stops. A row reaches its consumers within `interval` plus one read of its commit.

On PostgreSQL ids are taken when a row is inserted, not when it commits: with several writers
a lower id may commit after a higher one was read. An id skipped over is therefore a hole,
looked for again on each poll for `hole_wait` seconds (then taken for a rolled-back insert);
a late row is streamed when it appears. With `group` (rows that make one frame together, such
as a charger's connectors at one time, whose rows two concurrent writers may interleave), the
rows after a skipped id first wait up to `SETTLE` seconds for it, so that a frame is not cut in
two by a commit still on its way. On SQLite writers commit one at a time in id order and no
hole stays open.

`frames(rows, wants)` turns the rows read (id first, then the columns, by id) into
`(key, frame)` pairs, skipping keys `wants` says nobody watches; a frame is JSON text, encoded
once for all its consumers. With `group`, a page's last frame whose rows may go on past the
page waits for the next page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence

import structlog

from voltgate.streams.hub import Hub
from voltgate.streams.store import Row, TailStore

Wants = Callable[[str], bool]
Frames = Callable[[Sequence[Row], Wants], Iterable[tuple[str, str]]]
Group = Callable[[Row], object]

PAGE = 500  # rows a read; a bounded read stays short on the loop's thread (SQLite)
PG_PAGE = 5_000  # rows a read on PostgreSQL (its reads wait off the loop): pages seldom fill
HOLE_WAIT = 10.0  # seconds a skipped id is looked for before it counts as never committed
MAX_HOLES = 10_000  # holes looked for at once; past it a gap is not tracked (counted `lost`)
RETRY = 1.0  # seconds before a failed read is tried again
SETTLE = 1.0  # seconds grouped rows after a skipped id wait for it to commit (a loaded box)

log = structlog.get_logger("voltgate.streams")


class Tailer:
    def __init__(
        self,
        store: TailStore,
        hub: Hub,
        frames: Frames,
        *,
        interval: float,
        name: str,
        group: Group | None = None,
        page: int = PAGE,
        hole_wait: float = HOLE_WAIT,
    ) -> None:
        self._store = store
        self._hub = hub
        self._frames = frames
        self._interval = interval
        self._name = name
        self._group = group
        self._page = page
        self._hole_wait = hole_wait
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._last = 0
        self._holes: dict[int, float] = {}  # id skipped over -> when to stop looking for it
        self._gap: tuple[int, float] | None = None  # the id grouped rows wait for, since when
        self.rows = self.frames = self.lost = 0
        hub.on_demand(self._demand)

    @property
    def running(self) -> bool:
        return self._task is not None

    async def ready(self) -> None:
        """Returns once the tailer has its starting point: a row committed after that reaches
        the consumers subscribed now."""
        if self._ready is not None:
            await asyncio.shield(self._ready)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    def _demand(self, wanted: bool) -> None:
        if wanted and self._task is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run(), name=f"voltgate-tail-{self._name}")

    async def _run(self) -> None:
        ready = self._ready
        assert ready is not None
        while True:
            if not self._hub.consumers:
                # Nobody watches: stop here, with no await between the check and the clearing,
                # so a consumer arriving later finds no tailer and starts one.
                self._task = self._ready = None
                if not ready.done():
                    ready.set_result(None)
                return
            started = time.monotonic()
            try:
                if ready.done():
                    await self._poll()
                else:
                    self._last = await self._store.top()
                    self._holes.clear()
                    self._gap = None
                    ready.set_result(None)
            except Exception:
                log.exception("stream_tail_failed", source=self._name)
                await asyncio.sleep(RETRY)
            await asyncio.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    async def _poll(self) -> None:
        if self._holes:
            await self._fill()
        while True:
            rows = await self._store.after(self._last, self._page)
            if not rows:
                return
            full = len(rows) >= self._page
            held = False
            if self._group is not None:
                if full:
                    rows = _whole(rows, self._group)
                rows, held = self._settled(rows)
            if rows:
                self._skipped(rows)
                self._last = int(rows[-1][0])
                self._emit(rows)
            if held or not full:
                return
            await asyncio.sleep(0)  # the senders run between pages

    def _settled(self, rows: list[Row]) -> tuple[list[Row], bool]:
        """The rows before the first id skipped over, while that id is younger than `SETTLE`
        (a writer's commit on its way, whose rows may belong to the same frames), and True;
        else all of them, and False."""
        expected = self._last + 1
        for index, row in enumerate(rows):
            found = int(row[0])
            if found > expected:
                now = time.monotonic()
                if self._gap is None or self._gap[0] != expected:
                    self._gap = (expected, now)
                if now - self._gap[1] < SETTLE:
                    return self._before(rows, index), True
                break
            expected = found + 1
        self._gap = None
        return rows, False

    def _before(self, rows: list[Row], gap: int) -> list[Row]:
        """The rows before the gap, up to the first of a frame with rows after it too (two
        writers interleaved their ids; a frame's rows commit together, so those after the gap
        are read already)."""
        assert self._group is not None
        group = self._group
        after = {group(row) for row in rows[gap:]}
        return rows[: next((i for i in range(gap) if group(rows[i]) in after), gap)]

    def _skipped(self, rows: Sequence[Row]) -> None:
        """Note the ids these rows skip over (above the last one read) as holes."""
        expected = self._last + 1
        until = time.monotonic() + self._hole_wait
        holes = self._holes
        for row in rows:
            found = int(row[0])
            if found > expected:
                if len(holes) + found - expected <= MAX_HOLES:
                    holes.update(dict.fromkeys(range(expected, found), until))
                else:
                    self.lost += found - expected
            expected = found + 1

    async def _fill(self) -> None:
        """Stream the holes that have been committed since; forget those past their wait."""
        rows = await self._store.rows(sorted(self._holes))
        for row in rows:
            self._holes.pop(int(row[0]), None)
        now = time.monotonic()
        for hole in [h for h, until in self._holes.items() if until <= now]:
            del self._holes[hole]
        if rows:
            self._emit(rows)

    def _emit(self, rows: Sequence[Row]) -> None:
        self.rows += len(rows)
        publish = self._hub.publish
        for key, frame in self._frames(rows, self._hub.wants):
            self.frames += 1
            publish(key, frame)


def _whole(rows: list[Row], group: Group) -> list[Row]:
    """A full page without its last frames, whose rows may go on past it (read again next
    time): cut at the latest point no frame's rows straddle, before the first row of any frame
    among the page's last tenth (two writers on PostgreSQL interleave their ids, so a frame's
    rows need not be adjacent); the whole page when there is no such point."""
    keys = [group(row) for row in rows]
    ends = {key: index for index, key in enumerate(keys)}  # each frame's last row
    tail = set(keys[-max(1, len(keys) // 10) :])
    limit = next(index for index, key in enumerate(keys) if key in tail)
    cut, reach = 0, -1
    for index in range(limit):
        reach = max(reach, ends[keys[index]])
        if reach <= index:
            cut = index + 1
    return rows[:cut] if cut else rows
