"""One command at a time per vehicle: a lock per VIN, for the SDK's sender and the proxy."""

from __future__ import annotations

import asyncio

MAX_IDLE = 10_000  # locks kept before the idle ones are forgotten


class VinLocks:
    """A lock per VIN, made on first use. Past `MAX_IDLE` locks, the ones nobody holds are
    dropped, so a long-lived process does not keep one for every vehicle it ever saw."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    def __call__(self, vin: str) -> asyncio.Lock:
        lock = self._locks.get(vin)
        if lock is None:
            if len(self._locks) > MAX_IDLE:
                for idle in [v for v, held in self._locks.items() if not held.locked()]:
                    del self._locks[idle]
            lock = self._locks[vin] = asyncio.Lock()
        return lock
