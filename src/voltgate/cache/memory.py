"""The in-process coordinator: the embedded default, for exactly one server process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import structlog

from voltgate.cache.port import LockTimeout, RateDecision
from voltgate.clock import Clock

log = structlog.get_logger("voltgate.cache")


class InProcessCoordinator:
    shared = False  # its broadcasts reach this process only

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._revoked: dict[str, float] = {}
        self._windows: dict[str, tuple[int, int, float]] = {}  # key -> (index, count, ends)
        self._nonces: dict[str, float] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # name -> (lock, holders + waiters)
        self._handlers: list[Callable[[str], None]] = []
        self._last_prune = 0.0

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def revoke(self, key: str, until: float) -> None:
        self._revoked[key] = max(until, self._revoked.get(key, 0.0))
        self._maybe_prune()

    def is_revoked(self, key: str) -> bool:
        until = self._revoked.get(key)
        return until is not None and until > self._clock.now()

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        now = self._clock.now()
        index = int(now // window)
        current, count, _ = self._windows.get(key, (index, 0, 0.0))
        if current != index:
            count = 0
        count += 1
        self._windows[key] = (index, count, (index + 1) * window)
        self._maybe_prune()
        if count > limit:
            retry = max(1, int((index + 1) * window - now + 0.999))
            return RateDecision(False, 0, retry)
        return RateDecision(True, limit - count, 0)

    async def hit_many(self, hits: list[tuple[str, int]], window: int) -> list[RateDecision]:
        return [await self.hit(key, limit, window) for key, limit in hits]

    async def unhit(self, key: str, window: int, *, clear: bool = False) -> None:
        index = int(self._clock.now() // window)
        found = self._windows.get(key)
        if found is None or found[0] != index:
            return
        if clear or found[1] <= 1:
            del self._windows[key]
        else:
            self._windows[key] = (index, found[1] - 1, found[2])

    async def take(self, key: str, count: int, window: int) -> int:
        index = int(self._clock.now() // window)
        current, total, _ = self._windows.get(f"take:{key}", (index, 0, 0.0))
        total = (total if current == index else 0) + count
        self._windows[f"take:{key}"] = (index, total, (index + 1) * window)
        self._maybe_prune()
        return total

    async def claim_once(self, key: str, ttl: float) -> bool:
        now = self._clock.now()
        until = self._nonces.get(key)
        if until is not None and until > now:
            return False
        self._nonces[key] = now + ttl
        self._maybe_prune()
        return True

    @asynccontextmanager
    async def lock(self, name: str, ttl: float, wait: float) -> AsyncIterator[None]:
        # `ttl` needs no enforcement here: a holder in this process cannot outlive the process.
        lock, users = self._locks.get(name, (asyncio.Lock(), 0))
        self._locks[name] = (lock, users + 1)
        try:
            if lock.locked():
                try:
                    async with asyncio.timeout(wait):
                        await lock.acquire()
                except TimeoutError as exc:
                    raise LockTimeout(name) from exc
            else:
                await lock.acquire()
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]  # nobody holds or waits: forget the name
            else:
                self._locks[name] = (lock, users - 1)

    async def broadcast(self, message: str) -> None:
        for handler in self._handlers:
            try:
                handler(message)
            except Exception:
                log.exception("broadcast_handler_failed")

    def on_broadcast(self, handler: Callable[[str], None]) -> None:
        self._handlers.append(handler)

    def _maybe_prune(self) -> None:
        now = self._clock.now()
        if now - self._last_prune < 30:
            return
        self._last_prune = now
        self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        self._nonces = {k: v for k, v in self._nonces.items() if v > now}
        self._windows = {k: v for k, v in self._windows.items() if v[2] > now}
