"""Commands: an operator's instructions to its chargers, and their delivery and lifecycle.

An operator queues a command for one of its own devices (another operator's is 404); the
charger receives it with its next heartbeat or at once through its long-poll, then reports
accepted | rejected and completed | failed. A command nobody fetched before `expires_at`
expires. An `Idempotency-Key` makes a retried request return the commands it created.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from voltgate.clock import Clock
from voltgate.commands.idempotency import CLAIM_TTL, check_key, replay, request_hash
from voltgate.commands.schemas import ConnectorCommand, Flexibility, StatusReport
from voltgate.commands.store import (
    NEXT,
    ChargeLevels,
    Claim,
    Command,
    CommandStore,
    ConnectorReport,
    ConnectorStates,
    Status,
)
from voltgate.commands.waiters import Waiters
from voltgate.devices.service import Devices
from voltgate.devices.store import Connector, Device
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.audit import AuditLog
from voltgate.identity.stores import AuditEvent
from voltgate.ids import new_id
from voltgate.pagination import Page, offset_of
from voltgate.sites.service import Sites

log = structlog.get_logger("voltgate.commands")

SOC_FRESH = 600  # a state of charge older than this is not known any more
DELIVERY_BATCH = 50
RECHECK = 10.0  # a long-poll looks at the database this often if no wake-up came
SWEEP_INTERVAL = 30.0
REPORTABLE = frozenset({Status.ACCEPTED, Status.REJECTED, Status.COMPLETED, Status.FAILED})


@dataclass(frozen=True, slots=True)
class Issued:
    command: Command
    device_online: bool


def _new(
    operator_id: str,
    device_id: str,
    kind: str,
    connector: int | None,
    params: dict[str, Any],
    now: float,
    window: int,
) -> Command:
    return Command(
        id=new_id("cmd_"),
        operator_id=operator_id,
        device_id=device_id,
        type=kind,
        connector=connector,
        params=params,
        status=Status.QUEUED,
        reason=None,
        created_at=now,
        expires_at=now + window,
        delivered_at=None,
        updated_at=now,
    )


async def _relay(hangup: asyncio.Event, woken: asyncio.Event) -> None:
    await hangup.wait()
    woken.set()


class Commands:
    def __init__(
        self,
        store: CommandStore,
        states: ConnectorStates,
        devices: Devices,
        sites: Sites,
        clock: Clock,
        audit: AuditLog,
        levels: Sequence[ChargeLevels] = (),
    ) -> None:
        self._store = store
        self.states = states
        self._levels: tuple[ChargeLevels, ...] = (states, *levels)
        self._devices = devices
        self._sites = sites
        self._clock = clock
        self._audit = audit
        self._waiters = Waiters()
        store.on_queued = self._waiters.wake  # heard of from elsewhere: wake its long-poll
        self._sweeper: asyncio.Task[None] | None = None

    # The operator's side.

    async def queue(
        self,
        operator_id: str,
        device_id: str,
        connector: int,
        body: ConnectorCommand,
        *,
        key: str | None = None,
        request_id: str | None = None,
    ) -> Issued:
        """Queue `body` for one connector of one of the operator's devices."""
        now = self._clock.now()
        fingerprint = ""  # what an Idempotency-Key's request asked for, if it has one
        if key is not None:
            fingerprint = request_hash(
                [device_id, connector, body.kind], body.model_dump(mode="json")
            )
            held = await self._held(operator_id, key, fingerprint, now)
            if held is not None:
                return await self._issued(operator_id, held[0], now)
        device = await self._devices.get(operator_id, device_id)
        await self._check(device, connector, body, now)
        params = body.model_dump(mode="json", exclude_none=True)
        command = _new(operator_id, device.id, body.kind, connector, params, now, body.window)
        event = self._audit.event(
            "command_queued",
            client_id=operator_id,
            request_id=request_id,
            command_id=command.id,
            device_id=device.id,
            type=command.type,
            connector=connector,
        )
        held = await self._add(operator_id, [command], key, fingerprint, now, event)
        if held is not None:
            return await self._issued(operator_id, held[0], now)
        return Issued(command, device.online_at(now))

    async def flexibility(
        self,
        operator_id: str,
        body: Flexibility,
        *,
        key: str | None = None,
        request_id: str | None = None,
    ) -> list[str]:
        """One command to every device the target covers; their ids."""
        now = self._clock.now()
        fingerprint = request_hash(["flexibility"], body.model_dump(mode="json"))
        if key is not None:
            held = await self._held(operator_id, key, fingerprint, now)
            if held is not None:
                return held
        site_id = await self._target(operator_id, body)
        params = body.params.model_dump(mode="json", exclude_none=True)
        batch = [
            _new(operator_id, device_id, body.command, None, params, now, body.window)
            for device_id in await self._store.device_ids(operator_id, site_id)
        ]
        event = self._audit.event(
            "flexibility_queued",
            client_id=operator_id,
            request_id=request_id,
            command=body.command,
            target_type=body.target_type,
            site_id=site_id,
            commands=len(batch),
        )
        held = await self._add(operator_id, batch, key, fingerprint, now, event)
        if held is not None:
            return held
        return [c.id for c in batch]

    def version(self, operator_id: str) -> object:
        """What a kept answer over the operator's commands holds to: it renews with any change
        to them and once one of them is due to expire."""
        return self._store.version(operator_id, self._clock.now())

    async def get(self, operator_id: str, command_id: str) -> Command:
        found = None if "\x00" in command_id else await self._store.get(command_id[:64])
        if found is None or found.operator_id != operator_id:
            raise NotFound(f"no command {command_id[:64]!r}")
        return await self._fresh(found)

    async def page(
        self, operator_id: str, device_id: str | None, status: Status | None, page: int, size: int
    ) -> Page[Command]:
        offset = offset_of(page, size)
        await self._store.expire(self._clock.now(), operator_id=operator_id)
        items, total = await self._store.page(operator_id, device_id, status, offset, size)
        return Page(items, total, page, size)

    # The charger's side.

    async def heartbeat(self, device_id: str, reports: list[ConnectorReport]) -> list[Command]:
        """The charger is alive: note what it reports and hand it its pending commands."""
        now = self._clock.now()
        named = [Connector(r.connector, r.type, r.max_power_kw) for r in reports]
        await self._devices.heard(device_id, now, named)
        await self.states.record(device_id, reports, now)
        if not await self._store.may_have_queued(device_id):
            return []  # nothing queued for it: the common heartbeat reads memory only
        return await self._store.deliver(device_id, now, DELIVERY_BATCH)

    async def poll(
        self, device_id: str, wait: float, hangup: asyncio.Event | None = None
    ) -> list[Command]:
        """Pending commands, or the first to be queued within `wait` seconds (long-poll).

        `hangup` is set when the charger goes away: then nothing more is marked delivered.
        """
        now = self._clock.now()
        await self._devices.touch(device_id, now)
        if wait <= 0:  # a look: nothing to wait for, no waiter to register
            if not await self._store.may_have_queued(device_id):
                return []
            return await self._store.deliver(device_id, now, DELIVERY_BATCH)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        first = True
        with self._waiters.waiting(device_id) as woken:
            relay = None if hangup is None else loop.create_task(_relay(hangup, woken))
            try:
                while True:
                    woken.clear()  # before looking, so a command queued meanwhile wakes us again
                    if hangup is not None and hangup.is_set():
                        return []
                    if first and not await self._store.may_have_queued(device_id):
                        found = []  # nothing queued: the common poll writes nothing
                    else:
                        now = self._clock.now()
                        found = await self._store.deliver(device_id, now, DELIVERY_BATCH)
                    first = False
                    remaining = deadline - loop.time()
                    if found or remaining <= 0 or self._waiters.closed:
                        return found
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(min(remaining, RECHECK)):
                            await woken.wait()
            finally:
                if relay is not None:
                    relay.cancel()

    async def report(self, device_id: str, report: StatusReport) -> Command:
        """The charger's word on its command: accepted | rejected, then completed | failed."""
        status = Status(report.status)
        found = None if "\x00" in report.command_id else await self._store.get(report.command_id)
        if found is None or found.device_id != device_id:
            raise NotFound(f"no command {report.command_id!r} for this device")
        found = await self._fresh(found)
        now = self._clock.now()
        if await self._store.advance(device_id, found.id, status, report.reason, now):
            return replace(
                found, status=status, reason=report.reason or found.reason, updated_at=now
            )
        current = await self._store.get(found.id) or found
        if current.status is status:
            return current  # the same report again (a retry): nothing changes
        steps = sorted(s.value for s in NEXT.get(current.status, ()) if s in REPORTABLE)
        if steps:
            hint = f"it can become {' or '.join(steps)}"
        elif current.status is Status.QUEUED:
            hint = "it has not been delivered"
        else:
            hint = "its status is final"
        raise Conflict(
            f"command {found.id} is {current.status.value} and cannot become {status.value}: {hint}"
        )

    # Lifecycle.

    @property
    def listening(self) -> int:
        """Long-polls open in this process."""
        return len(self._waiters)

    async def sweep(self) -> int:
        """Expire undelivered commands past their expiry; forget expired Idempotency-Keys."""
        now = self._clock.now()
        expired = await self._store.expire(now)
        await self._store.prune_claims(now)
        return expired

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="voltgate-commands")

    def drain(self) -> None:
        """The server is stopping: every long-poll answers now, and new ones do not wait."""
        self._waiters.close()

    async def stop(self) -> None:
        self.drain()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                await self.sweep()
            except Exception:
                log.exception("command_sweep_failed")

    # Helpers.

    async def _check(self, device: Device, number: int, body: ConnectorCommand, now: float) -> None:
        port = next((c for c in device.connectors if c.number == number), None)
        if port is None:
            have = ", ".join(str(c.number) for c in device.connectors) or "none yet"
            learns = "; it gains each one it reports" if device.learns_connectors else ""
            raise ValidationFailed(
                f"device {device.id} has no connector {number} (its connectors: {have}{learns})"
            )
        for field, kw in body.powers():  # a maximum not reported yet: the charger decides
            if port.max_power_kw is not None and kw > port.max_power_kw:
                raise ValidationFailed(
                    f"{field} {kw:g} kW is above connector {number}'s maximum of "
                    f"{port.max_power_kw:g} kW"
                )
        floor = body.soc_floor()
        if floor is not None:
            soc = await self._soc(device, number, since=now - SOC_FRESH)
            if soc is not None and soc <= floor:
                raise ValidationFailed(
                    f"the vehicle on connector {number} is at {soc:g} % state of charge, "
                    f"not above min_soc {floor:g}: discharging would take it below"
                )

    async def _soc(self, device: Device, number: int, since: float) -> float | None:
        """The newest state of charge any source has for the connector; None if unknown."""
        found = [await source.soc(device, number, since) for source in self._levels]
        known = [level for level in found if level is not None]
        return max(known, key=lambda level: level[1])[0] if known else None

    async def _target(self, operator_id: str, body: Flexibility) -> str | None:
        """The site a flexibility command covers, or None for all the operator's devices."""
        if body.target_type == "site":
            assert body.target_id is not None  # the schema requires it for a site
            try:
                return (await self._sites.get(operator_id, body.target_id)).id
            except NotFound:
                raise ValidationFailed(f"unknown target: no site {body.target_id!r}") from None
        if body.target_id is not None and body.target_id != operator_id:
            raise ValidationFailed(
                f"unknown target: target_type {body.target_type} covers your own devices; "
                "omit target_id or give your operator id"
            )
        return None

    async def _fresh(self, found: Command) -> Command:
        """`found`, expired first if it is overdue and nobody swept it yet."""
        now = self._clock.now()
        if found.status is not Status.QUEUED or found.expires_at > now:
            return found
        await self._store.expire(now, operator_id=found.operator_id)
        return await self._store.get(found.id) or found

    async def _held(
        self, operator_id: str, key: str, fingerprint: str, now: float
    ) -> list[str] | None:
        check_key(key)
        claim = await self._store.claim(operator_id, key, now)
        return None if claim is None else replay(claim, fingerprint)

    async def _add(
        self,
        operator_id: str,
        batch: list[Command],
        key: str | None,
        fingerprint: str,
        now: float,
        event: AuditEvent,
    ) -> list[str] | None:
        """Store the batch and its audit event, or neither and return the commands of an
        earlier request holding the key."""
        claim = None
        if key is not None:
            ids = tuple(c.id for c in batch)
            claim = Claim(operator_id, key, fingerprint, ids, now, now + CLAIM_TTL)
        held = await self._store.add(batch, claim, event)
        # Long-polls wake from the read model: here as it holds the new commands, on other
        # instances as they hear of them (no broadcast of our own in the request's path).
        return None if held is None else replay(held, fingerprint)

    async def _issued(self, operator_id: str, command_id: str, now: float) -> Issued:
        command = await self.get(operator_id, command_id)
        device = await self._devices.get(operator_id, command.device_id)
        return Issued(command, device.online_at(now))
