"""Telemetry's batch: the readings gathered for one transaction and the commit their requests
await."""

from __future__ import annotations

import asyncio
from typing import Any

from voltgate.telemetry.store import Reading


class Commit(asyncio.Future[Any]):
    """A batch's commit, which every request of the batch awaits: one whose task is
    cancelled (its client gone) does not cancel it for the others, nor the batch."""

    def cancel(self, msg: Any | None = None) -> bool:
        return False


class Batch:
    """Readings gathered for one transaction, and its commit."""

    __slots__ = ("committed", "readings", "started")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.committed = Commit(loop=loop)
        self.readings: list[Reading] = []
        self.started = 0.0
