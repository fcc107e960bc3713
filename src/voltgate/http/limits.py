"""Per-app request limits on resource routes, counted in the coordination port so every
instance shares them.

A counted answer carries `<prefix>Limit`, `<prefix>Remaining` and `<prefix>Reset` (seconds
until the window ends; draft-ietf-httpapi-ratelimit-headers), errors included; past the limit
it is a 429 with `Retry-After` as well. Tesla's routes count per app (`RateLimit-*`), ev.energy's
per app and user (`X-RateLimit-*`).
"""

from __future__ import annotations

from typing import Any

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.errors import RateLimited
from voltgate.http.routing import Call, Limiter, RatePolicy
from voltgate.identity.guard import Principal


class ApiRateLimiter(Limiter):
    def __init__(self, coordinator: Coordinator, clock: Clock, limit: int, window: int) -> None:
        self._coordinator = coordinator
        self._clock = clock
        self._limit = limit
        self._window = window
        self._limit_value = str(limit).encode()

    async def count(self, call: Call[Any, Any, Any], key: str, who: str, prefix: str) -> None:
        """Count this request under `key`; the headers go on its answer, whatever it is."""
        window = self._window
        (decision,) = await self._coordinator.hit_many([(key, self._limit)], window)
        now = self._clock.now()
        reset = decision.retry_after or max(1, int((now // window + 1) * window - now + 0.999))
        name = prefix.lower().encode()
        call.headers += [
            (name + b"limit", self._limit_value),
            (name + b"remaining", str(decision.remaining).encode()),
            (name + b"reset", str(reset).encode()),
        ]
        if not decision.allowed:
            raise RateLimited(
                f"{who} made more than {self._limit} requests in {window} s; "
                f"retry in {decision.retry_after} s",
                decision.retry_after,
            )


def _per_app(principal: Principal) -> str:
    return f"api:client:{principal.claims.client_id[:128]}"


PER_APP = RatePolicy(key=_per_app, who="this app")
