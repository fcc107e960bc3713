"""The coordination port (a Protocol). Every method's contract is pinned by tests/cache/."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import NamedTuple, Protocol


class RateDecision(NamedTuple):
    allowed: bool
    remaining: int
    retry_after: int  # whole seconds until the current window ends; 0 when allowed


class LockTimeout(Exception):
    """The lock could not be acquired within the wait time."""


class Coordinator(Protocol):
    shared: bool  # True when other processes hear this one's broadcasts

    async def start(self) -> None:
        """Connect, subscribe to broadcasts and load the shared revocation set."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the backing store answers (readiness)."""

    async def revoke(self, key: str, until: float) -> None:
        """Mark `key` revoked until the Unix time `until`, on every instance."""

    def is_revoked(self, key: str) -> bool:
        """The local view of the revocation set; no I/O, safe on the hot path."""

    async def hit(self, key: str, limit: int, window: int) -> RateDecision:
        """Count one event against `key` in a fixed window of `window` seconds."""

    async def hit_many(self, hits: list[tuple[str, int]], window: int) -> list[RateDecision]:
        """`hit` for several (key, limit) pairs in one round trip; decisions in the same order."""

    async def unhit(self, key: str, window: int, *, clear: bool = False) -> None:
        """Take back one `hit` on `key` in the current window, or with `clear` all of them."""

    async def take(self, key: str, count: int, window: int) -> int:
        """Add `count` events to `key`'s count in the current fixed window of `window` seconds
        (shared by every instance); the count after adding them."""

    async def claim_once(self, key: str, ttl: float) -> bool:
        """True the first time `key` is claimed within `ttl` seconds, on any instance."""

    def lock(self, name: str, ttl: float, wait: float) -> AbstractAsyncContextManager[None]:
        """A mutual-exclusion lock across instances; raises LockTimeout after `wait` seconds."""

    async def broadcast(self, message: str) -> None:
        """Deliver `message` to every instance's handlers (this one included)."""

    def on_broadcast(self, handler: Callable[[str], None]) -> None: ...
