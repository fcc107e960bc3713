"""The commands domain's records, their lifecycle, and the storage interfaces it owns
(`repository.py` implements them for SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from voltgate.devices.store import Device
    from voltgate.identity.stores import AuditEvent


class Status(StrEnum):
    QUEUED = "queued"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"


# queued → delivered → accepted | rejected; accepted → completed | failed; queued → expired.
NEXT: dict[Status, frozenset[Status]] = {
    Status.QUEUED: frozenset({Status.DELIVERED, Status.EXPIRED}),
    Status.DELIVERED: frozenset({Status.ACCEPTED, Status.REJECTED}),
    Status.ACCEPTED: frozenset({Status.COMPLETED, Status.FAILED}),
}


def predecessors(status: Status) -> list[Status]:
    """The statuses a command may move to `status` from."""
    return [before for before, after in NEXT.items() if status in after]


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    operator_id: str
    device_id: str
    type: str
    connector: int | None
    params: dict[str, Any]
    status: Status
    reason: str | None
    created_at: float
    expires_at: float
    delivered_at: float | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class Claim:
    """An Idempotency-Key: what was asked (its hash) and which commands answered it."""

    operator_id: str
    key: str
    request_hash: str
    command_ids: tuple[str, ...]
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class ConnectorReport:
    connector: int
    state: str
    soc: float | None
    type: str | None = None  # the connector's, as its charger says (learned if it learns them)
    max_power_kw: float | None = None


Level = tuple[float, float]  # (state of charge %, reported at)


class CommandStore(Protocol):
    on_queued: Callable[[str], None]  # called with a device whose command became queued

    async def may_have_queued(self, device_id: str) -> bool:
        """False if surely no command is queued for the device (a poll need not write)."""

    def version(self, operator_id: str, now: float) -> object:
        """What an answer over the operator's commands holds to (`http.kept`)."""

    async def add(
        self, commands: list[Command], claim: Claim | None, event: AuditEvent
    ) -> Claim | None:
        """Insert the commands (and the claim and the audit event, in the same transaction).
        If another request holds an unexpired claim on the same key, nothing is inserted and
        that claim returned."""

    async def claim(self, operator_id: str, key: str, now: float) -> Claim | None:
        """The unexpired claim on `key`, if any."""

    async def get(self, command_id: str) -> Command | None: ...

    async def many(self, command_ids: list[str]) -> list[Command]:
        """The commands with these ids, in the order given."""

    async def page(
        self,
        operator_id: str,
        device_id: str | None,
        status: Status | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Command], int]:
        """One offset window of the operator's commands, newest first, and their total."""

    async def deliver(self, device_id: str, now: float, limit: int) -> list[Command]:
        """Mark up to `limit` of the device's queued, unexpired commands delivered at `now` and
        return them, oldest first; a command is delivered once, whoever else asks at once."""

    async def advance(
        self, device_id: str, command_id: str, status: Status, reason: str | None, now: float
    ) -> bool:
        """Move the device's command to `status` if that is a legal next step (compare-and-set)."""

    async def expire(self, now: float, *, operator_id: str | None = None) -> int:
        """Mark queued commands past their expiry expired (all, or one operator's); how many."""

    async def prune_claims(self, now: float) -> int:
        """Forget expired Idempotency-Key claims."""

    async def device_ids(self, operator_id: str, site_id: str | None) -> list[str]:
        """The operator's devices (at one site, or all of them), in id order."""


class ChargeLevels(Protocol):
    """A source of the vehicle's state of charge on a connector (heartbeats, telemetry)."""

    async def soc(self, device: Device, connector: int, since: float) -> Level | None:
        """(percent, when reported) if the charger reported it at or after `since`."""


class ConnectorStates(ChargeLevels, Protocol):
    """What chargers last reported about their connectors in a heartbeat."""

    async def record(self, device_id: str, reports: list[ConnectorReport], at: float) -> None: ...
