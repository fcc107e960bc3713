"""Per-app request limits on resource routes, counted in the coordination port so every
instance shares them.

A counted answer carries `<prefix>Limit`, `<prefix>Remaining` and `<prefix>Reset` (seconds
until the window ends; draft-ietf-httpapi-ratelimit-headers), errors included; past the limit
it is a 429 with `Retry-After` as well. Tesla's routes count per app (`RateLimit-*`), ev.energy's
per app and user (`X-RateLimit-*`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.errors import RateLimited
from voltgate.http.routing import Call, Limiter, RatePolicy
from voltgate.identity.guard import Principal

_MOST = 1000  # the largest block of the count one instance takes at once
_KEYS_HELD = 10_000  # leases held before those of past windows are dropped


class _Lease:
    """A block of a window's count this process took from the shared counter: positions
    `next`..`end` of the window's sequence are this process's to hand out."""

    __slots__ = ("end", "index", "next", "size")

    def __init__(self, index: int, total: int, size: int) -> None:
        self.index = index
        self.end = total
        self.next = total - size + 1
        self.size = size


class ApiRateLimiter(Limiter):
    """Counts each app's requests per fixed window across instances, without a round trip
    per request: an instance takes positions of the window's shared count in blocks (one
    atomic add of the block's size) and hands them out one per request. A block starts at 1
    and doubles while requests keep coming, up to 1 % of the limit (so with a small limit
    every request is counted in the shared store and the count is exact); positions an
    instance took but did not use by the window's end count as used — at most a block per
    instance, under 1 % of the limit each."""

    def __init__(self, coordinator: Coordinator, clock: Clock, limit: int, window: int) -> None:
        self._coordinator = coordinator
        self._clock = clock
        self._limit = limit
        self._window = window
        self._limit_value = str(limit).encode()
        self._most = max(1, min(_MOST, limit // 100))
        self._leases: dict[str, _Lease] = {}
        self._taking: dict[str, asyncio.Future[None]] = {}

    async def _position(self, key: str, index: int) -> int:
        """This request's position in the window's count of `key`."""
        while True:
            lease = self._leases.get(key)
            if lease is not None and lease.index == index and lease.next <= lease.end:
                lease.next += 1
                return lease.next - 1
            taking = self._taking.get(key)
            if taking is not None:  # another request is taking a block: share it
                await asyncio.shield(taking)
                continue
            size = 1 if lease is None or lease.index != index else min(lease.size * 2, self._most)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._taking[key] = done
            try:
                total = await self._coordinator.take(key, size, self._window)
                if len(self._leases) >= _KEYS_HELD:  # forget the keys of past windows
                    self._leases = {k: v for k, v in self._leases.items() if v.index == index}
                self._leases[key] = _Lease(index, total, size)
            finally:
                del self._taking[key]
                done.set_result(None)

    async def count(self, call: Call[Any, Any, Any], key: str, who: str, prefix: str) -> None:
        """Count this request under `key`; the headers go on its answer, whatever it is."""
        window = self._window
        now = self._clock.now()
        index = int(now // window)
        position = await self._position(key, index)
        left = max(1, int((index + 1) * window - now + 0.999))
        name = prefix.lower().encode()
        call.headers += [
            (name + b"limit", self._limit_value),
            (name + b"remaining", str(max(0, self._limit - position)).encode()),
            (name + b"reset", str(left).encode()),
        ]
        if position > self._limit:
            raise RateLimited(
                f"{who} made more than {self._limit} requests in {window} s; retry in {left} s",
                left,
            )


def _per_app(principal: Principal) -> str:
    return f"api:client:{principal.claims.client_id[:128]}"


PER_APP = RatePolicy(key=_per_app, who="this app")
