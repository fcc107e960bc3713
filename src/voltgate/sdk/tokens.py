"""Access tokens kept fresh for a client: renewed before they expire, one renewal at a time.

Tellus tokens live 24 h and come without a refresh token: a client asks again with its
credentials. `TokenManager` renews a little before expiry (10 % of the lifetime, at most 5
minutes early); however many requests need a token at that moment, they share one renewal
(a single task every caller awaits). When the server still answers 401 with code 2002
(expired: a clock off, a server that shortened the lifetime) the caller hands back the token it
used; if that is still the current one it is renewed once, else the newer one is returned —
so a burst of 2002s costs one renewal, not one each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

EARLY_FRACTION = 0.1
MAX_EARLY = 300.0


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    expires_in: float  # seconds, as the token endpoint said


Fetch = Callable[[], Awaitable[Token]]


@dataclass(frozen=True, slots=True)
class _Held:
    value: str
    renew_at: float  # on the manager's clock


class TokenManager:
    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._clock = clock
        self._held: _Held | None = None
        self._renewal: asyncio.Task[_Held] | None = None
        self.renewals = 0  # tokens obtained so far

    async def token(self) -> str:
        """A token that is not about to expire."""
        held = self._held
        if held is not None and self._clock() < held.renew_at:
            return held.value
        return (await self._renew()).value

    async def expired(self, stale: str) -> str:
        """The server refused `stale` as expired: a fresh token (renewed at most once)."""
        held = self._held
        if held is not None and held.value != stale:
            return held.value  # another caller has renewed it already
        return (await self._renew()).value

    async def _renew(self) -> _Held:
        if self._renewal is None:
            self._renewal = asyncio.create_task(self._obtain())
        # A caller that is cancelled does not cancel the renewal the others wait for.
        return await asyncio.shield(self._renewal)

    async def _obtain(self) -> _Held:
        try:
            started = self._clock()
            token = await self._fetch()
            early = min(MAX_EARLY, token.expires_in * EARLY_FRACTION)
            self._held = _Held(token.value, started + token.expires_in - early)
            self.renewals += 1
            return self._held
        finally:
            self._renewal = None
