"""Group commit for the ingest: every message waiting when the writer is free goes into one
transaction; each is acknowledged only after that transaction has committed.

No timer: a message arriving at an idle writer is written at once (alone); under load the
messages that arrive while a batch commits form the next one, so batches grow with the load
and latency stays at about one commit. Acknowledgements are handed to each connection's own
sender (`Pending.done`), so a vehicle that reads slowly never holds up the writer or others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from voltgate.fleettelemetry.ingest.store import IngestStore, Message, Numbers

log = structlog.get_logger("voltgate.fleettelemetry")
MAX_BATCH = 4096


@dataclass(slots=True)
class Pending:
    """A message waiting for its commit; `done(new)` runs once it is stored (`new` False for a
    resend of a stored one), `failed()` when its batch could not be written."""

    message: Message
    numbers: Numbers  # its numeric signals (what the rollups count)
    done: Callable[[Pending, bool], None]
    failed: Callable[[Pending], None]
    extra: object = field(default=None)  # what the connection needs to answer (its ack)


class Batcher:
    def __init__(
        self,
        store: IngestStore,
        depth: int = 1,
        committed: Callable[[Sequence[Pending], list[bool]], None] | None = None,
    ) -> None:
        self._store = store
        self._depth = depth
        self._waiting: deque[Pending] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._committed = committed
        self.batches = 0
        self.messages = 0
        self.failures = 0

    @property
    def depth(self) -> int:
        """Messages waiting for a writer."""
        return len(self._waiting)

    def submit(self, pending: Pending) -> None:
        self._waiting.append(pending)
        if len(self._tasks) < self._depth:
            task = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                count = min(MAX_BATCH, len(self._waiting))
                batch = [self._waiting.popleft() for _ in range(count)]
                await self._write(batch)
        finally:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.discard(task)

    async def _write(self, batch: list[Pending]) -> None:
        try:
            fresh = await self._store.append([p.message for p in batch], [p.numbers for p in batch])
        except Exception:
            # Nothing of the batch is stored, so nothing is acknowledged: vehicles resend.
            self.failures += 1
            log.exception("telemetry_batch_not_stored", messages=len(batch))
            for pending in batch:
                pending.failed(pending)
            return
        self.batches += 1
        self.messages += len(batch)
        for pending, new in zip(batch, fresh, strict=True):
            pending.done(pending, new)
        if self._committed is not None:
            self._committed(batch, fresh)

    async def close(self) -> None:
        """Writes what waits, then returns."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))
