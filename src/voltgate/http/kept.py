"""Kept answers: a read route's encoded 200, reused while what it was made from is unchanged.

A route declares `Keep(version)`: `version(call)` names the state its answer depends on,
cheaply (a read model's `Versions.of(owner)`, a tuple of them). The dispatcher looks the
answer up under the caller (client, subject, scopes), the raw path parameters and the raw
query string; it is reused only while the version is the same and for at most
`Keep.seconds` by the clock, which bounds how stale a field computed from the time (a
charger's `online`, a vehicle's simulated charge) can be. The version is read before the
handler runs, so a write that lands while an answer is being made leaves that answer
already outdated: a process reads its own writes at once, and other processes' writes as
soon as their read models hear of them.

Memory is bounded by bytes (`Kept.budget`): the oldest answers go first. An answer being
made is made once: requests for the same key and version that come meanwhile wait for it
(`flight`), so an answer that lapses under load is not made by every waiting request at once.

A handler that must run on every request (its own checks of who it acts for, a count per
user, per-request headers) keeps only its rendering: `Rendered.encoded(key, version, make)`
after its checks, in the same store (one budget), under the key it names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from voltgate.clock import Clock

Headers = list[tuple[bytes, bytes]]
BUDGET = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Keep:
    version: Callable[[Any], Hashable]  # (Call) -> what the answer was made from
    seconds: float = 1.0


Made = tuple[bytes, Headers] | None  # what a flight ends with (None: not kept, make your own)


class Kept:
    __slots__ = ("_budget", "_entries", "_flights", "_size")

    def __init__(self, budget: int = BUDGET) -> None:
        self._budget = budget
        self._entries: dict[Hashable, tuple[Hashable, float, bytes, Headers]] = {}
        self._flights: dict[Hashable, tuple[Hashable, asyncio.Future[Made]]] = {}
        self._size = 0

    def flight(self, key: Hashable, version: Hashable) -> asyncio.Future[Made] | None:
        """The answer for `key` at `version` another request is making now, if any."""
        found = self._flights.get(key)
        return found[1] if found is not None and found[0] == version else None

    def take_off(self, key: Hashable, version: Hashable) -> asyncio.Future[Made]:
        """This request makes the answer; `land` it when done, whatever happens."""
        future: asyncio.Future[Made] = asyncio.get_running_loop().create_future()
        self._flights[key] = (version, future)
        return future

    def land(self, key: Hashable, future: asyncio.Future[Made], made: Made) -> None:
        if self._flights.get(key, (None, None))[1] is future:
            del self._flights[key]
        if not future.done():
            future.set_result(made)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._size

    def get(
        self, key: Hashable, version: Hashable, now: float, seconds: float
    ) -> tuple[bytes, Headers] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        held, made, body, headers = entry
        if held != version or not 0 <= now - made < seconds:
            return None
        return body, headers

    def put(
        self, key: Hashable, version: Hashable, made: float, body: bytes, headers: Headers
    ) -> None:
        if len(body) * 4 > self._budget:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self._size -= len(old[2])
        self._entries[key] = (version, made, body, headers)
        self._size += len(body)
        while self._size > self._budget:
            oldest = next(iter(self._entries))
            self._size -= len(self._entries.pop(oldest)[2])


class Rendered:
    """A handler's own kept renderings (`Kept` entries keyed under this instance)."""

    __slots__ = ("_clock", "_kept", "_seconds")

    def __init__(self, kept: Kept, clock: Clock, seconds: float = 1.0) -> None:
        self._kept = kept
        self._clock = clock
        self._seconds = seconds

    async def encoded(
        self, key: Hashable, version: Hashable, make: Callable[[], Awaitable[object]]
    ) -> bytes:
        """The JSON of `make()`'s answer, kept under `key` while `version` holds and for at
        most `seconds`. Read `version` before anything the answer is made from (so before
        this is awaited); an exception from `make` keeps nothing."""
        now = self._clock.now()
        entry = (self, key)
        found = self._kept.get(entry, version, now, self._seconds)
        if found is not None:
            return found[0]
        body = orjson.dumps(await make())
        self._kept.put(entry, version, now, body, [])
        return body


class Owned(Protocol):
    """Change counts per owner (`readmodel.Versions`)."""

    def of(self, owner: str) -> int: ...


def by_client(*sources: Owned, seconds: float = 1.0) -> Keep:
    """Answers made from rows owned by the calling client (an operator's sites, chargers …)."""
    if len(sources) == 1:
        (one,) = sources
        return Keep(lambda call: one.of(call.principal.claims.client_id), seconds)
    return Keep(lambda call: tuple(s.of(call.principal.claims.client_id) for s in sources), seconds)


def by_subject(*sources: Owned, seconds: float = 1.0) -> Keep:
    """Answers made from rows owned by the token's subject (a user's vehicles, sites …)."""
    if len(sources) == 1:
        (one,) = sources
        return Keep(lambda call: one.of(call.principal.claims.subject), seconds)
    return Keep(lambda call: tuple(s.of(call.principal.claims.subject) for s in sources), seconds)
