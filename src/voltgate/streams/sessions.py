"""The open streams of each access token: at most `max_per_token` at once, and each one ended
within `every` seconds of its token expiring or being refused.

`refusal(claims)` says why a token may no longer be used, or None. The runtime's looks at the
revocation set (RFC 7009 at any revocation endpoint, a refresh-token family revoked, an app's
access withdrawn by its user), which lands in this process's view at once, or from another
instance over the coordinator's broadcast within milliseconds, and is a dict look-up with no
I/O; and at the token's client, disabled or not (cached in process). So the watcher simply
looks every `every` seconds at each token with an open stream. Identity knows nothing of
streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from voltgate.clock import Clock
from voltgate.errors import RateLimited
from voltgate.identity.tokens import AccessClaims
from voltgate.streams.hub import POLICY, Consumer

EVERY = 0.2  # seconds between looks at the open streams' tokens (the promise is 1 s)
REVOKED = "the access token was revoked"
EXPIRED = "the access token expired"
DISABLED = "the access token's client was disabled"

log = structlog.get_logger("voltgate.streams")

Refusal = Callable[[AccessClaims], Awaitable[str | None]]


class Sessions:
    def __init__(
        self, refusal: Refusal, clock: Clock, max_per_token: int, every: float = EVERY
    ) -> None:
        self._refusal = refusal
        self._clock = clock
        self._max = max_per_token
        self._every = every
        # token's jti -> (its claims, its open streams' consumers)
        self._open: dict[str, tuple[AccessClaims, dict[Consumer, None]]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def open(self) -> int:
        return sum(len(consumers) for _, consumers in self._open.values())

    def room(self, claims: AccessClaims) -> None:
        """429 (code 5001) when the token already has its most streams open."""
        held = self._open.get(claims.jti)
        if held is not None and len(held[1]) >= self._max:
            raise RateLimited(
                f"this access token already has {self._max} open streams; close one first", 1
            )

    def add(self, claims: AccessClaims, consumer: Consumer) -> None:
        held = self._open.get(claims.jti)
        if held is None:
            held = self._open[claims.jti] = (claims, {})
        held[1][consumer] = None
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="voltgate-stream-tokens")

    def remove(self, claims: AccessClaims, consumer: Consumer) -> None:
        held = self._open.get(claims.jti)
        if held is not None:
            held[1].pop(consumer, None)
            if not held[1]:
                del self._open[claims.jti]

    async def sweep(self) -> None:
        """End the streams of every token expired or refused by now."""
        now = self._clock.now()
        for claims, consumers in list(self._open.values()):
            reason = EXPIRED if claims.expires_at <= now else await self._refusal(claims)
            if reason is not None:
                for consumer in list(consumers):
                    consumer.end(POLICY, reason)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.sweep()
            except Exception:  # a failed look (the database, for a client) is tried again
                log.exception("stream_token_check_failed")
            if not self._open:
                self._task = None  # no await since the check: a new stream starts another
                return
