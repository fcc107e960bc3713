"""The tailer: it starts at the table's end when the first consumer comes, streams each
committed row once, catches a row committed after a higher id was read (PostgreSQL's writers
commit out of id order), never splits a frame's rows across pages, and stops when nobody
watches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

from voltgate.streams.hub import Consumer, Hub
from voltgate.streams.store import Row
from voltgate.streams.tailer import SETTLE, Tailer, Wants

INTERVAL = 0.01


class Table:
    """Committed rows by id: (id, key, group)."""

    def __init__(self) -> None:
        self.committed: dict[int, Row] = {}
        self.reads = 0

    def commit(self, *rows: Row) -> None:
        for row in rows:
            self.committed[int(row[0])] = row

    async def top(self) -> int:
        return max(self.committed, default=0)

    async def after(self, last: int, limit: int) -> list[Row]:
        self.reads += 1
        return [self.committed[i] for i in sorted(self.committed) if i > last][:limit]

    async def rows(self, ids: Sequence[int]) -> list[Row]:
        return [self.committed[i] for i in sorted(ids) if i in self.committed]


def _frames(rows: Sequence[Row], wants: Wants) -> Iterator[tuple[str, str]]:
    for row_id, key, _group in rows:
        if wants(key):
            yield key, str(row_id)


async def _take(consumer: Consumer, count: int) -> list[str]:
    found: list[str] = []
    async with asyncio.timeout(5):
        while len(found) < count:
            frame = await consumer.next()
            assert frame is not None
            found.append(frame)
    return found


async def _settle(table: Table) -> None:
    """A few polls' time: at least three more reads."""
    reads = table.reads
    async with asyncio.timeout(5):
        while table.reads < reads + 3:
            await asyncio.sleep(INTERVAL)


async def test_it_starts_at_the_end_and_streams_each_new_row_once() -> None:
    table, hub = Table(), Hub(limit=100)
    table.commit((1, "a", 1), (2, "a", 2))
    tailer = Tailer(table, hub, _frames, interval=INTERVAL, name="test")
    consumer = hub.subscribe(["a"])
    await tailer.ready()
    table.commit((3, "a", 3), (4, "b", 4), (5, "a", 5))
    assert await _take(consumer, 2) == ["3", "5"]
    await _settle(table)
    assert consumer.pending == 0  # nothing twice
    consumer.end(1000, "")
    await tailer.stop()


async def test_a_row_committed_after_a_higher_id_was_read_is_still_streamed() -> None:
    table, hub = Table(), Hub(limit=100)
    tailer = Tailer(table, hub, _frames, interval=INTERVAL, name="test", hole_wait=0.5)
    consumer = hub.subscribe(["a"])
    await tailer.ready()
    table.commit((1, "a", 1), (3, "a", 3), (6, "a", 6))  # 2, 4, 5 still being committed
    assert await _take(consumer, 3) == ["1", "3", "6"]
    table.commit((4, "a", 4), (2, "a", 2))
    assert sorted(await _take(consumer, 2)) == ["2", "4"]
    # 5 never commits (a rolled-back insert): after hole_wait it is no longer looked for.
    async with asyncio.timeout(5):
        while tailer._holes:
            await asyncio.sleep(INTERVAL)
    table.commit((7, "a", 7))
    assert await _take(consumer, 1) == ["7"]
    consumer.end(1000, "")
    await tailer.stop()


async def _grouping(page: int) -> tuple[Table, Tailer, Any, list[list[int]]]:
    """A tailer that groups rows by their third column, pages of `page`, recording the ids
    each call of `frames` got; a consumer of key "a"."""
    table, hub = Table(), Hub(limit=100)
    seen: list[list[int]] = []

    def frames(rows: Sequence[Row], wants: Wants) -> Iterator[tuple[str, str]]:
        seen.append([int(r[0]) for r in rows])
        return _frames(rows, wants)

    tailer = Tailer(
        table, hub, frames, interval=INTERVAL, name="test", page=page, group=lambda row: row[2]
    )
    consumer = hub.subscribe(["a"])
    await tailer.ready()
    return table, tailer, consumer, seen


async def test_a_full_page_keeps_a_frames_rows_together() -> None:
    table, tailer, consumer, seen = await _grouping(page=4)
    # Groups: 1-2 at t1, 3-5 at t2, 6 at t3. A full page's last group may go on in the next
    # rows, so it waits for the next page: pages of 4 give 1-2 (not 1-4), 3-5, 6.
    table.commit((1, "a", "t1"), (2, "a", "t1"), (3, "a", "t2"), (4, "a", "t2"))
    table.commit((5, "a", "t2"), (6, "a", "t3"))
    await _take(consumer, 6)
    assert seen[:3] == [[1, 2], [3, 4, 5], [6]]
    consumer.end(1000, "")
    await tailer.stop()


async def test_a_full_page_keeps_interleaved_frames_whole() -> None:
    table, tailer, consumer, seen = await _grouping(page=10)
    # Two writers interleaved their ids: frames A and B end in the page, C and D go on past it.
    keys = ["A", "B", "A", "B", "A", "B", "C", "D", "C", "D", "C", "D"]
    table.commit(*[(n, "a", key) for n, key in enumerate(keys, 1)])
    await _take(consumer, 12)
    assert seen[:2] == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]
    consumer.end(1000, "")
    await tailer.stop()


async def test_grouped_rows_after_a_skipped_id_wait_a_moment_for_it() -> None:
    table, hub = Table(), Hub(limit=100)
    seen: list[list[int]] = []

    def frames(rows: Sequence[Row], wants: Wants) -> Iterator[tuple[str, str]]:
        seen.append([int(r[0]) for r in rows])
        return _frames(rows, wants)

    tailer = Tailer(table, hub, frames, interval=INTERVAL, name="test", group=lambda r: r[2])
    consumer = hub.subscribe(["a"])
    await tailer.ready()
    # Two writers interleaved their ids: 3 (of t2, like 4 and 5) commits a moment later.
    table.commit((1, "a", "t1"), (2, "a", "t1"), (4, "a", "t2"), (5, "a", "t2"))
    assert await _take(consumer, 2) == ["1", "2"]
    await _settle(table)
    assert consumer.pending == 0  # 4 and 5 wait for 3
    table.commit((3, "a", "t2"))
    assert await _take(consumer, 3) == ["3", "4", "5"]
    assert seen == [[1, 2], [3, 4, 5]]  # t2's rows together: one frame

    # An id that never commits holds the rows after it back for SETTLE seconds only.
    table.commit((7, "a", "t3"))
    started = asyncio.get_running_loop().time()
    assert await _take(consumer, 1) == ["7"]
    assert asyncio.get_running_loop().time() - started >= SETTLE - INTERVAL
    consumer.end(1000, "")
    await tailer.stop()


async def test_it_reads_only_while_someone_watches() -> None:
    table, hub = Table(), Hub(limit=100)
    tailer = Tailer(table, hub, _frames, interval=INTERVAL, name="test")
    assert not tailer.running
    consumer = hub.subscribe(["a"])
    await tailer.ready()
    assert tailer.running
    consumer.end(1000, "")
    async with asyncio.timeout(5):
        while tailer.running:
            await asyncio.sleep(INTERVAL)
    reads = table.reads
    table.commit((1, "a", 1))  # committed while nobody watched: not streamed later
    await asyncio.sleep(INTERVAL * 5)
    assert table.reads == reads

    again = hub.subscribe(["a"])
    await tailer.ready()
    table.commit((2, "a", 2))
    assert await _take(again, 1) == ["2"]
    again.end(1000, "")
    await tailer.stop()


async def test_a_frame_with_rows_on_both_sides_of_a_skipped_id_waits_whole() -> None:
    table, tailer, consumer, seen = await _grouping(page=100)
    # t2's rows are 2 and 4 (one commit); 3 is another writer's, committing a moment later.
    table.commit((1, "a", "t1"), (2, "a", "t2"), (4, "a", "t2"))
    assert await _take(consumer, 1) == ["1"]
    await _settle(table)
    assert consumer.pending == 0  # 2 waits with 4, not sent as a frame of its own
    table.commit((3, "a", "t3"))
    assert await _take(consumer, 3) == ["2", "3", "4"]
    assert seen == [[1], [2, 3, 4]]
    consumer.end(1000, "")
    await tailer.stop()
