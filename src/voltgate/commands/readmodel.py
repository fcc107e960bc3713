"""Commands read from memory while they matter: `CommandStore` over the SQL store.

Held in memory: every queued command, and any other for ten minutes after its last change
(an operator polls a command's status while the charger works on it), whether it was written
here, heard of from another instance or read. Anything else is one point read through a
statement: the database is the truth, so a command not held is never read stale. Lists are
SQL (statements built once), as their totals span the whole history. Memory: ~0.8 KB a
command, so a fleet issuing 40,000 commands an hour (10,000 chargers, 4 each) holds ~7,000.

Every write goes to SQL first, then into memory, then is published (topic `command`) so other
instances re-read those rows. A status only moves forward (queued → delivered | expired,
delivered → accepted | rejected, accepted → completed | failed), so a row read out of order
never replaces a later one, and an instance needs no lock to merge what it hears.

A charger's poll asks memory first (`may_have_queued`): with nothing queued for it, it
writes nothing. A queued command heard of from elsewhere wakes the charger's long-poll here
(`on_queued`), so a poll that looked just before it was heard still gets it at once.

Expiry on read: an operator's list first expires its overdue queued commands. Every queued
command is held (it is open), so memory answers "is any overdue?" without a query; the sweep
(every 30 s, on every instance) expires through SQL whatever memory missed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import structlog

from voltgate.changes import Changes
from voltgate.clock import Clock
from voltgate.commands.repository import SqlCommandStore
from voltgate.commands.store import Claim, Command, Status
from voltgate.identity.stores import AuditEvent
from voltgate.readmodel import Versions

log = structlog.get_logger("voltgate.commands")

TOPIC = "command"
KEEP = 600.0  # a command not queued stays this long after its last change
EVICT_EVERY = 60.0
_CHUNK = 500  # ids re-read by one statement
# How far along its life a status is: a row never replaces one further along.
_STEP = {
    Status.QUEUED: 0,
    Status.DELIVERED: 1,
    Status.EXPIRED: 1,
    Status.ACCEPTED: 2,
    Status.REJECTED: 2,
    Status.COMPLETED: 3,
    Status.FAILED: 3,
}
_FINAL = frozenset({Status.EXPIRED, Status.REJECTED, Status.COMPLETED, Status.FAILED})


class CommandReadModel:
    def __init__(self, sql: SqlCommandStore, changes: Changes, clock: Clock) -> None:
        self._sql = sql
        self._changes = changes
        self._clock = clock
        self._rows: dict[str, Command] = {}
        self._queued: dict[str, dict[str, float]] = {}  # operator → queued id → expires_at
        self._next: dict[str, float] = {}  # operator → no queued one expires before this
        self._loaded = False
        self._evicted_at = -math.inf
        self.versions = Versions()  # per operator
        self._for_device: dict[str, set[str]] = {}  # device → its queued command ids
        self.on_queued: Callable[[str], None] = _nobody  # a device's command became queued
        self.moved: dict[tuple[str, str], int] = {}  # (type, status) → commands written here
        changes.subscribe(TOPIC, self._changed, self.reload)

    def __len__(self) -> int:
        return len(self._rows)

    # Reads.

    async def get(self, command_id: str) -> Command | None:
        found = self._rows.get(command_id)
        if found is not None:
            return found
        found = await self._sql.get(command_id)
        if found is None:
            return None
        self._evict_if_due()
        return self._put(found)

    async def many(self, command_ids: list[str]) -> list[Command]:
        missing = [i for i in command_ids if i not in self._rows]
        for found in await self._sql.many(missing):
            self._put(found)
        return [self._rows[i] for i in command_ids if i in self._rows]

    async def page(
        self,
        operator_id: str,
        device_id: str | None,
        status: Status | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Command], int]:
        return await self._sql.page(operator_id, device_id, status, offset, limit)

    def queued_by_type(self) -> dict[str, int]:
        """The queued commands held (all of them, once loaded), counted by type."""
        counts: dict[str, int] = {}
        for ids in list(self._queued.values()):
            for command_id in list(ids):
                held = self._rows.get(command_id)
                if held is not None:
                    counts[held.type] = counts.get(held.type, 0) + 1
        return counts

    def version(self, operator_id: str, now: float) -> object:
        """What an answer over the operator's commands is made from: their versions, or a
        fresh object (never equal to a kept one) once one of the queued is due to expire."""
        if now < self._next.get(operator_id, math.inf):
            return self.versions.of(operator_id)
        return object()

    async def may_have_queued(self, device_id: str) -> bool:
        """False only when no queued command for the device is held (so none exists, or one
        queued elsewhere is not heard of yet: hearing of it wakes the device's long-poll)."""
        if not self._loaded:
            await self.reload()
        return device_id in self._for_device

    async def claim(self, operator_id: str, key: str, now: float) -> Claim | None:
        return await self._sql.claim(operator_id, key, now)

    async def device_ids(self, operator_id: str, site_id: str | None) -> list[str]:
        return await self._sql.device_ids(operator_id, site_id)

    # Writes: SQL, then memory, then the other instances.

    async def add(
        self, commands: list[Command], claim: Claim | None, event: AuditEvent
    ) -> Claim | None:
        held = await self._sql.add(commands, claim, event)
        if held is None:
            await self._stored(commands)
        return held

    async def deliver(self, device_id: str, now: float, limit: int) -> list[Command]:
        delivered = await self._sql.deliver(device_id, now, limit)
        await self._stored(delivered)
        return delivered

    async def advance(
        self, device_id: str, command_id: str, status: Status, reason: str | None, now: float
    ) -> bool:
        moved = await self._sql.advanced(device_id, command_id, status, reason, now)
        if moved is None:
            return False
        await self._stored([moved])
        return True

    async def expire(self, now: float, *, operator_id: str | None = None) -> int:
        if operator_id is not None:
            if not self._loaded:
                await self.reload()
            if now < self._next.get(operator_id, math.inf):
                return 0
            if not self._overdue(operator_id, now):
                return 0
        expired = await self._sql.expired(now, operator_id=operator_id)
        await self._stored(expired)
        # Held as queued and overdue, yet not expired here: another instance delivered or
        # expired them meanwhile; read them again so memory stops reporting them.
        late = [
            command_id
            for operator in ([operator_id] if operator_id is not None else list(self._queued))
            for command_id in self._overdue(operator, now)
        ]
        await self._refresh(late)
        return len(expired)

    async def prune_claims(self, now: float) -> int:
        return await self._sql.prune_claims(now)

    # Keeping current.

    async def reload(self) -> None:
        """Read every queued command (at start, and again when another process may have
        written anything), and those held as open that are no longer queued."""
        found = await self._sql.queued()
        seen = {command.id for command in found}
        for command in found:
            self._put(command)
        self._loaded = True
        await self._refresh(
            [i for i, c in self._rows.items() if c.status not in _FINAL and i not in seen]
        )
        self.versions.changed_all()

    async def _changed(self, keys: list[str]) -> None:
        """Another instance wrote these commands: read them again."""
        await self._refresh(keys)

    async def _refresh(self, command_ids: list[str]) -> None:
        for first in range(0, len(command_ids), _CHUNK):
            for found in await self._sql.many(command_ids[first : first + _CHUNK]):
                self._put(found)

    async def _stored(self, commands: Iterable[Command]) -> None:
        ids = []
        for command in commands:
            ids.append(self._put(command).id)
            moved = (command.type, command.status.value)
            self.moved[moved] = self.moved.get(moved, 0) + 1
        if not ids:
            return
        self._evict_if_due()
        try:
            await self._changes.publish(TOPIC, ids)
        except Exception:
            # Stored all the same: an error now would invite a retry of a write that succeeded.
            # The others read these from SQL once they no longer hold them, or at a reload.
            log.warning("command_change_unpublished", commands=len(ids), exc_info=True)

    def _put(self, command: Command) -> Command:
        """Hold `command` unless a later state of it is held; the state now held."""
        held = self._rows.get(command.id)
        if held is not None and _STEP[held.status] > _STEP[command.status]:
            return held
        self._rows[command.id] = command
        operator = command.operator_id
        self.versions.changed(operator)
        if command.status is Status.QUEUED:
            self._queued.setdefault(operator, {})[command.id] = command.expires_at
            self._next[operator] = min(self._next.get(operator, math.inf), command.expires_at)
            self._for_device.setdefault(command.device_id, set()).add(command.id)
            if held is None:
                self.on_queued(command.device_id)
        elif held is not None and held.status is Status.QUEUED:
            self._unqueue(operator, command.id)
            ids = self._for_device.get(command.device_id)
            if ids is not None:
                ids.discard(command.id)
                if not ids:
                    del self._for_device[command.device_id]
        return command

    def _unqueue(self, operator: str, command_id: str) -> None:
        queued = self._queued.get(operator)
        if queued is not None:
            queued.pop(command_id, None)
            if not queued:
                del self._queued[operator]

    def _overdue(self, operator: str, now: float) -> list[str]:
        """The operator's held queued commands past their expiry; the next expiry noted."""
        queued = self._queued.get(operator, {})
        overdue = [i for i, at in queued.items() if at <= now]
        upcoming = [at for at in queued.values() if at > now]
        if upcoming:
            self._next[operator] = min(upcoming)
        else:
            self._next.pop(operator, None)
        if overdue:
            self._next[operator] = now
        return overdue

    def _evict_if_due(self) -> None:
        """Forget commands KEEP seconds after their last change (never a queued one: the
        expiry check needs them all); a read finds them in SQL."""
        now = self._clock.now()
        if now - self._evicted_at < EVICT_EVERY:
            return
        self._evicted_at = now
        before = now - KEEP
        gone = [
            c.id
            for c in self._rows.values()
            if c.updated_at < before and c.status is not Status.QUEUED
        ]
        for command_id in gone:
            del self._rows[command_id]


def _nobody(_device_id: str) -> None:
    pass
