"""How every process's read models hear that rows changed.

A read model updates itself at once in the process that wrote (read-your-writes), then
`publish`es the change: other instances get it through the coordinator's broadcast (Redis
pub/sub on the scale path) and reload those rows; a process that is not a server (the CLI)
also bumps the database's generation, which a server on the same SQLite file polls. A
generation change makes every read model reload whole (`reload_all`).

Reloads are coalesced per topic: keys that change while a reload runs are reloaded again
after it, so the last reload always starts after the last change was heard. Changes that come
often and may be heard a little late (a charger's heartbeat) are sent in batches
(`publish_soon`): one broadcast per topic every `BATCH_INTERVAL` at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

import structlog

from voltgate.cache.port import Coordinator

log = structlog.get_logger("voltgate.changes")

PREFIX = "rm:"
KeysChanged = Callable[[list[str]], Awaitable[None]]
Reload = Callable[[], Awaitable[None]]
# Long enough to gather a fleet's heartbeats into one message, short enough that other
# instances still hear of them well within a second.
BATCH_INTERVAL = 0.2


class Generation(Protocol):
    """The database's change counter, which servers poll (`identity.stores.StateStore`)."""

    async def bump(self) -> int: ...


class Changes:
    def __init__(
        self,
        coordinator: Coordinator,
        state: Generation,
        origin: str,
        batch_interval: float = BATCH_INTERVAL,
    ) -> None:
        self._coordinator = coordinator
        self._state = state
        self._origin = origin
        self._batch_interval = batch_interval
        self.serving = False
        self._topics: dict[str, KeysChanged] = {}
        self._reloads: list[Reload] = []
        self._pending: dict[str, set[str]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._batches: dict[str, set[str]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self._outbox: dict[str, set[str]] = {}
        self._sending: asyncio.Task[None] | None = None
        # A lone server on a database file other processes also serve from (the telemetry
        # listener evaluates alert rules, reads consents): its writes bump the generation,
        # which those processes poll. `own_bumps` lets its own poll tell them from theirs.
        self.local_peers = False
        self._own: set[int] = set()  # generations this process's bumps made
        self._bumping: asyncio.Task[None] | None = None
        self._bump_again = False
        self._in_flight = False

    def subscribe(self, topic: str, changed: KeysChanged, reload: Reload | None = None) -> None:
        """`changed(keys)` when rows of `topic` changed elsewhere; `reload()` when anything may
        have (a CLI wrote to the same database)."""
        if ":" in topic:
            raise ValueError("a topic has no ':'")
        self._topics[topic] = changed
        if reload is not None:
            self._reloads.append(reload)

    async def publish(self, topic: str, keys: Iterable[str]) -> None:
        """Rows of `topic` under `keys` changed and are committed; tell the other processes.

        A server does not wait for the broadcast: the keys go out at once if nothing is being
        sent, else with the next message (one message a topic however many writes came
        meanwhile). A process that is not a server (the CLI) bumps the generation and sends
        before it returns, as it may exit right after."""
        if self.serving and not self._coordinator.shared:
            if self.local_peers:
                self._bump_soon()
            return  # a lone server (in-process coordinator): no broadcast to send
        wanted = set(keys)
        if not wanted:
            return
        if not self.serving or self._stopping:
            if not self.serving:
                self._own.add(await self._state.bump())
            await self._broadcast(topic, wanted)
            return
        self._outbox.setdefault(topic, set()).update(wanted)
        if self._sending is None:
            self._sending = asyncio.get_running_loop().create_task(self._send_outbox())

    def _bump_soon(self) -> None:
        """One bump in flight at a time; writes meanwhile make one more after it, at most one
        every `batch_interval` (a bump is a write of its own: under load it must not compete
        with every request's)."""
        if self._bumping is not None:
            self._bump_again = True
            return
        self._bumping = asyncio.get_running_loop().create_task(self._bump())

    async def _bump(self) -> None:
        try:
            while True:
                self._bump_again = False
                self._in_flight = True
                try:
                    self._own.add(await self._state.bump())
                except Exception:
                    log.exception("generation_bump_failed")
                finally:
                    self._in_flight = False
                if not self._bump_again or self._stopping:
                    return
                await asyncio.sleep(self._batch_interval)
        finally:
            self._bumping = None

    @property
    def bumping(self) -> bool:
        """A bump is on its way: a generation read now may be its, not yet known as ours."""
        return self._in_flight

    def others_between(self, last: int, now: int) -> bool:
        """Whether any generation in (last, now] was another process's (not one of ours)."""
        own = self._own
        others = any(value not in own for value in range(last + 1, now + 1))
        self._own = {value for value in own if value > now}
        return others

    async def _send_outbox(self) -> None:
        try:
            while self._outbox:
                topic = next(iter(self._outbox))
                keys = self._outbox.pop(topic)
                try:
                    await self._broadcast(topic, keys)
                except Exception:
                    log.exception("read_model_publish_failed", topic=topic, keys=len(keys))
        finally:
            self._sending = None

    async def _broadcast(self, topic: str, keys: set[str]) -> None:
        joined = ",".join(sorted(keys))
        await self._coordinator.broadcast(f"{PREFIX}{self._origin}:{topic}:{joined}")

    async def publish_soon(self, topic: str, keys: Iterable[str]) -> None:
        """`publish`, gathered: the keys go out with the topic's next batch (within
        `batch_interval`); once stopping, at once."""
        if self._stopping:
            await self.publish(topic, keys)
            return
        if not self._coordinator.shared:
            return  # a lone server: nobody else to tell
        self._batches.setdefault(topic, set()).update(keys)
        if topic not in self._senders:
            task = asyncio.get_running_loop().create_task(self._send_later(topic))
            self._senders[topic] = task

    async def _send_later(self, topic: str) -> None:
        try:
            await asyncio.sleep(self._batch_interval)
        finally:
            self._senders.pop(topic, None)
        await self._send(topic)

    async def _send(self, topic: str) -> None:
        keys = self._batches.pop(topic, None)
        if not keys:
            return
        try:
            await self.publish(topic, sorted(keys))
        except Exception:
            log.exception("read_model_publish_failed", topic=topic, keys=len(keys))

    def receive(self, message: str) -> None:
        """A broadcast (`rm:<origin>:<topic>:<keys>`); this process's own are already applied."""
        origin, _, rest = message[len(PREFIX) :].partition(":")
        topic, _, joined = rest.partition(":")
        if origin == self._origin or topic not in self._topics or not joined:
            return
        self._pending.setdefault(topic, set()).update(joined.split(","))
        if topic not in self._workers:
            task = asyncio.get_running_loop().create_task(self._drain(topic))
            self._workers[topic] = task

    async def _drain(self, topic: str) -> None:
        try:
            while keys := self._pending.pop(topic, None):
                try:
                    await self._topics[topic](sorted(keys))
                except Exception:
                    log.exception("read_model_reload_failed", topic=topic, keys=len(keys))
        finally:
            self._workers.pop(topic, None)

    async def reload_all(self) -> None:
        for reload in self._reloads:
            await reload()

    async def stop(self) -> None:
        self._stopping = True
        if self._sending is not None:
            await asyncio.wait({self._sending})
        if self._bumping is not None:
            await asyncio.wait({self._bumping})
        senders, self._senders = list(self._senders.values()), {}
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        for topic in list(self._batches):
            await self._send(topic)
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
