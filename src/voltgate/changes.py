"""How every process's read models hear that rows changed.

A read model updates itself at once in the process that wrote (read-your-writes), then
`publish`es the change: other instances get it through the coordinator's broadcast (Redis
pub/sub on the scale path) and reload those rows; a process that is not a server (the CLI)
also bumps the database's generation, which a server on the same SQLite file polls. A
generation change makes every read model reload whole (`reload_all`).

Reloads are coalesced per topic: keys that change while a reload runs are reloaded again
after it, so the last reload always starts after the last change was heard.
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


class Generation(Protocol):
    """The database's change counter, which servers poll (`identity.stores.StateStore`)."""

    async def bump(self) -> int: ...


class Changes:
    def __init__(self, coordinator: Coordinator, state: Generation, origin: str) -> None:
        self._coordinator = coordinator
        self._state = state
        self._origin = origin
        self.serving = False
        self._topics: dict[str, KeysChanged] = {}
        self._reloads: list[Reload] = []
        self._pending: dict[str, set[str]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def subscribe(self, topic: str, changed: KeysChanged, reload: Reload | None = None) -> None:
        """`changed(keys)` when rows of `topic` changed elsewhere; `reload()` when anything may
        have (a CLI wrote to the same database)."""
        if ":" in topic:
            raise ValueError("a topic has no ':'")
        self._topics[topic] = changed
        if reload is not None:
            self._reloads.append(reload)

    async def publish(self, topic: str, keys: Iterable[str]) -> None:
        """Rows of `topic` under `keys` changed and are committed; tell the other processes."""
        joined = ",".join(keys)
        if not joined:
            return
        if not self.serving:
            await self._state.bump()
        await self._coordinator.broadcast(f"{PREFIX}{self._origin}:{topic}:{joined}")

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
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()
