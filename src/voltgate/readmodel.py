"""The shape every read model shares: rows by key, and each owner's keys in key order, so a
point read, a page with its total and a cursor slice are answered from memory.

A domain's read model wraps its SQL store and implements the same storage Protocol: reads
from the `Index`, writes through SQL first and into the index once committed, then
`Changes.publish` so other processes reload those rows. Memory is the rows themselves plus
two dict entries and a list slot per row.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Awaitable, Callable, Iterable
from itertools import count
from typing import Any, Generic, Protocol, TypeVar

from voltgate.changes import Changes


class _Key(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...

    def __hash__(self) -> int: ...


K = TypeVar("K", bound=_Key)
V = TypeVar("V")


_TICKS = count(1)


class Versions:
    """When each owner's rows last changed in this process's view, as a number that only
    grows: an answer made from an owner's rows holds while `of(owner)` is unchanged
    (`http.kept`). `changed_all` (a whole reload) moves every owner at once; `last` moves
    with any change (for answers that cut across owners)."""

    __slots__ = ("_all", "_owners", "last")

    def __init__(self) -> None:
        self._all = self.last = next(_TICKS)
        self._owners: dict[str, int] = {}

    def of(self, owner: str) -> int:
        return self._owners.get(owner, self._all)

    def changed(self, owner: str | None) -> None:
        if owner is not None:
            self._owners[owner] = self.last = next(_TICKS)

    def changed_all(self) -> None:
        self._owners = {}
        self._all = self.last = next(_TICKS)


class Tracked:
    """`Versions` for data read from the database rather than memory (history, records):
    this process's writes move their owner at once and are published on `topic`; other
    processes' writes move it when heard, a possible CLI write moves every owner."""

    def __init__(self, topic: str, changes: Changes) -> None:
        self.versions = Versions()
        self._topic = topic
        self._changes = changes
        changes.subscribe(topic, self._heard, self._reload)

    async def changed(self, owners: Iterable[str | None]) -> None:
        """Call after the write has committed."""
        moved = {owner for owner in owners if owner is not None}
        for owner in moved:
            self.versions.changed(owner)
        await self._changes.publish(self._topic, moved)

    async def _heard(self, owners: list[str]) -> None:
        for owner in owners:
            self.versions.changed(owner)

    async def _reload(self) -> None:
        self.versions.changed_all()


class Index(Generic[K, V]):
    def __init__(self, key: Callable[[V], K], owner: Callable[[V], str | None]) -> None:
        self._key = key
        self._owner = owner
        self._rows: dict[K, V] = {}
        self._owned: dict[str, list[K]] = {}
        self.versions = Versions()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: K) -> V | None:
        return self._rows.get(key)

    def rows(self) -> list[V]:
        """Every row, in no particular order."""
        return list(self._rows.values())

    def key_of(self, row: V) -> K:
        return self._key(row)

    def put(self, row: V) -> None:
        key = self._key(row)
        old = self._rows.get(key)
        if old is not None and self._owner(old) != self._owner(row):
            self._unlink(old)
            old = None
        self._rows[key] = row
        owner = self._owner(row)
        self.versions.changed(owner)
        if old is None and owner is not None:
            insort(self._owned.setdefault(owner, []), key)

    def remove(self, key: K) -> None:
        old = self._rows.pop(key, None)
        if old is not None:
            self._unlink(old)

    def replace_all(self, rows: Iterable[V]) -> None:
        self._rows = {}
        self._owned = {}
        for row in rows:
            self.put(row)
        self.versions.changed_all()

    def owned(self, owner: str) -> list[V]:
        """The owner's rows in key order."""
        rows = self._rows
        return [rows[k] for k in self._owned.get(owner, ())]

    def page(self, owner: str, offset: int, limit: int) -> tuple[list[V], int]:
        keys = self._owned.get(owner, [])
        rows = self._rows
        return [rows[k] for k in keys[offset : offset + limit]], len(keys)

    def after(self, owner: str, after: K | None, limit: int) -> list[V]:
        """Up to `limit` of the owner's rows with keys after `after`, in key order."""
        keys = self._owned.get(owner, [])
        start = 0 if after is None else bisect_right(keys, after)
        rows = self._rows
        return [rows[k] for k in keys[start : start + limit]]

    def _unlink(self, row: V) -> None:
        owner = self._owner(row)
        if owner is None:
            return
        self.versions.changed(owner)
        keys = self._owned.get(owner)
        if keys is not None:
            key = self._key(row)
            at = bisect_left(keys, key)
            if at < len(keys) and keys[at] == key:
                del keys[at]
            if not keys:
                del self._owned[owner]


class Table(Generic[K, V]):
    """An `Index` kept current: loaded whole on first use (and when another process may have
    written anything), rows reloaded by key when other instances publish them, and this
    process's own committed writes applied at once (read-your-writes)."""

    def __init__(
        self,
        topic: str,
        changes: Changes,
        index: Index[K, V],
        load_all: Callable[[], Awaitable[list[V]]],
        load_one: Callable[[K], Awaitable[V | None]],
        key_from: Callable[[str], K],
    ) -> None:
        self.topic = topic
        self.index = index
        self._changes = changes
        self._load_all = load_all
        self._load_one = load_one
        self._key_from = key_from
        self._loaded = False
        self._touched: set[K] | None = None  # keys written while a whole reload runs
        changes.subscribe(topic, self._changed, self.reload)

    async def ready(self) -> Index[K, V]:
        """The index, loaded on first use (a CLI process reads without a server's start)."""
        if not self._loaded:
            await self.reload()
        return self.index

    async def reload(self) -> None:
        self._touched = set()
        try:
            rows = await self._load_all()
            touched, self._touched = self._touched, None
            self.index.replace_all(rows)
            self._loaded = True
            for key in touched:  # written after the load began: read them again
                await self.refresh(key)
        finally:
            self._touched = None

    async def refresh(self, key: K) -> V | None:
        """Read one row again from the database into the index."""
        row = await self._load_one(key)
        if row is None:
            self.index.remove(key)
        else:
            self.index.put(row)
        return row

    async def stored(self, *rows: V, keys: Iterable[K] = ()) -> None:
        """Rows this process committed (or, by `keys`, changed in place): applied here at once,
        published to the others."""
        changed = [*keys]
        for row in rows:
            self.index.put(row)
            changed.append(self.index.key_of(row))
        for key in keys:
            await self.refresh(key)
        if self._touched is not None:
            self._touched.update(changed)
        await self._changes.publish(self.topic, [str(k) for k in changed])

    async def _changed(self, keys: list[str]) -> None:
        for raw in keys:
            try:
                key = self._key_from(raw)
            except ValueError:
                continue
            if self._touched is not None:
                self._touched.add(key)
            await self.refresh(key)
