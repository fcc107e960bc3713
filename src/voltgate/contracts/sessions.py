"""Remote charging (be.ENERGISED's remoteStart / remoteStop) and the user's charge logs.

`remote_start` checks the preconditions (an active user, a contract, a payment method, then
the card and the connector), stores a session `waiting_for_transaction` and queues a real
start command for the connector's charger, carrying the session's transaction id. The same
card and connector while that session may still charge answer the same session: one command.

A session's status follows what its charger does, worked out when it is read: the charger's
record of the transaction (open: `started`, stopped: `stopped`); before a record, the start
command (completed: `started`; rejected: `rejected`; failed or expired: `failed`, with the
charger's reason); a completed stop command also ends it. Each change is stored (compare-and-
set), so a finished session frees its card and connector for the next start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from voltgate.charging.service import Charging
from voltgate.charging.store import ChargingRecord
from voltgate.clock import Clock
from voltgate.commands.schemas import StartCharging, StopCharging
from voltgate.commands.service import Commands
from voltgate.commands.store import Command, Status
from voltgate.contracts.connectors import Connectors
from voltgate.contracts.service import Contracts
from voltgate.contracts.store import (
    Card,
    Session,
    SessionStatus,
    SessionStore,
    new_uuid,
    open_key,
)
from voltgate.errors import Conflict, NotFound, ValidationFailed, VoltgateError
from voltgate.pagination import check_size
from voltgate.telemetry.service import Telemetry

# The start command: four hours at the connector's maximum up to a full battery. A maximum
# not reported yet is asked as the most a command carries; the charger caps it at its own.
DURATION = 4 * 3600
TARGET_SOC = 100.0
UNKNOWN_MAX_KW = 1_000.0
# A session whose start command was never queued (its request died between the two writes)
# is failed after this long, so it does not hold its card and connector.
UNQUEUED = 60.0
_MAX_ID = 64
_ENDED = {Status.REJECTED: SessionStatus.REJECTED, Status.FAILED: SessionStatus.FAILED}


@dataclass(frozen=True, slots=True)
class StopAnswer:
    """`remoteStop`'s {status code message}: `accepted` (202) when a stop command is queued
    (the same one for a repeated stop), `stopped` (200) when the session had already stopped,
    `rejected` (409) when it never started."""

    status: str
    code: int
    message: str
    session: Session


@dataclass(frozen=True, slots=True)
class ChargeLog:
    """One session of `chargelogsPaged` with what its charger reported."""

    session: Session
    started_at: float | None  # the charger's start of the transaction; None before it began
    stopped_at: float | None
    energy_kwh: float  # an open session's live energy (telemetry) until the record has more
    record_id: str | None


class RemoteCharging:
    def __init__(
        self,
        store: SessionStore,
        contracts: Contracts,
        connectors: Connectors,
        commands: Commands,
        charging: Charging,
        telemetry: Telemetry,
        clock: Clock,
    ) -> None:
        self._store = store
        self._contracts = contracts
        self._connectors = connectors
        self._commands = commands
        self._charging = charging
        self._telemetry = telemetry
        self._clock = clock

    async def available_cards(self, user_id: str, connector_id: str) -> list[Card]:
        """The user's cards that may start a charge at the connector (active, not expired);
        NotFound for an unknown connector. The preconditions are remoteStart's to report."""
        await self._connectors.locate(connector_id)
        return await self._contracts.usable_cards(user_id)

    async def remote_start(
        self, user_id: str, tag_id: str, connector_id: str, request_id: str | None = None
    ) -> Session:
        """Start charging at the connector with the user's card; the session (`remoteStart`).

        UserInactive, ContractRequired, PaymentMethodRequired, then NotFound for an unknown
        card or connector, in that order."""
        await self._contracts.check_ready(user_id)
        card = await self._contracts.card(user_id, tag_id)
        place = await self._connectors.locate(connector_id)
        key = open_key(card.id, place.connector_id)
        for _ in range(3):
            held = await self._store.holding(key)
            if held is not None:
                held, _record = await self._settled(held)
                if held.open:
                    return held  # the same start again: no second command
                continue  # it ended just now, freeing the card and connector
            now = self._clock.now()
            session_id = new_uuid()
            session = Session(
                id=session_id,
                user_id=user_id,
                card_id=card.id,
                tag_id=card.tag_id,
                connector_id=place.connector_id,
                charge_point_id=place.charge_point_id,
                device_id=place.device_id,
                operator_id=place.operator_id,
                connector=place.number,
                transaction_id=session_id,
                start_command_id=None,
                stop_command_id=None,
                status=SessionStatus.WAITING,
                reason=None,
                created_at=now,
                updated_at=now,
                stopped_at=None,
            )
            if await self._store.add(session):
                break
        else:
            raise Conflict("this card is being started at this connector concurrently; retry")
        power = place.max_power_kw or UNKNOWN_MAX_KW
        body = StartCharging(
            charge_power=power,
            duration=DURATION,
            target_soc=TARGET_SOC,
            transaction_id=session.transaction_id,
        )
        try:
            issued = await self._commands.queue(
                session.operator_id,
                session.device_id,
                session.connector,
                body,
                key=f"remote-start:{session.id}",
                request_id=request_id,
            )
        except Exception as exc:
            reason = exc.description if isinstance(exc, VoltgateError) else "not queued"
            await self._move(session, SessionStatus.FAILED, f"the start was not queued: {reason}")
            raise
        now = self._clock.now()
        await self._store.set_start_command(session.id, issued.command.id, now)
        return replace(session, start_command_id=issued.command.id, updated_at=now)

    async def remote_stop(
        self, user_id: str, transaction_id: str, request_id: str | None = None
    ) -> StopAnswer:
        """Stop the user's session named by its transaction uuid (`remoteStop`); NotFound for
        another user's."""
        session, _record = await self._settled(await self._own(user_id, transaction_id))
        if session.status is SessionStatus.STOPPED:
            return StopAnswer("stopped", 200, "the session has already stopped", session)
        if not session.open:
            message = f"the session never started ({session.status.value}): nothing to stop"
            return StopAnswer("rejected", 409, message, session)
        issued = await self._commands.queue(
            session.operator_id,
            session.device_id,
            session.connector,
            StopCharging(transaction_id=session.transaction_id),
            key=f"remote-stop:{session.id}",
            request_id=request_id,
        )
        if session.stop_command_id is None:
            now = self._clock.now()
            await self._store.set_stop_command(session.id, issued.command.id, now)
            session = replace(session, stop_command_id=issued.command.id, updated_at=now)
        message = f"stop command {issued.command.id} queued for the charge point"
        return StopAnswer("accepted", 202, message, session)

    async def session(self, user_id: str, session_id: str) -> Session:
        """The user's session as it stands now; NotFound for another user's."""
        return (await self._settled(await self._own(user_id, session_id)))[0]

    async def chargelogs(
        self, user_id: str, limit: int, offset: int
    ) -> tuple[int, list[ChargeLog]]:
        """The user's total sessions and one window of them, newest first (`chargelogsPaged`)."""
        check_size(limit, "limit")
        if offset < 0:
            raise ValidationFailed("offset must be 0 or more")
        sessions, total = await self._store.page(user_id, offset, limit)
        return total, [await self._log(session) for session in sessions]

    # Helpers.

    async def _own(self, user_id: str, session_id: str) -> Session:
        found = None
        if "\x00" not in session_id and len(session_id) <= _MAX_ID:
            found = await self._store.get(user_id, session_id.strip().lower())
        if found is None:
            raise NotFound(f"no charging session {session_id[:_MAX_ID]!r}")
        return found

    async def _log(self, session: Session) -> ChargeLog:
        session, record = await self._settled(session)
        started = None if record is None else record.started_at
        stopped = session.stopped_at if record is None else record.stopped_at
        energy = 0.0 if record is None else record.energy_kwh
        if session.status is SessionStatus.STARTED:
            energy = max(energy, await self._live(session, record))
        return ChargeLog(session, started, stopped, energy, None if record is None else record.id)

    async def _live(self, session: Session, record: ChargingRecord | None) -> float:
        """The connector's energy of the current session from its newest telemetry, if that
        was taken since this session began (the charger's clock once it reported a start)."""
        try:
            _device, readings = await self._telemetry.latest(session.operator_id, session.device_id)
        except NotFound:
            return 0.0
        since = session.created_at if record is None else record.started_at
        for reading in readings:
            if reading.connector == session.connector and reading.at >= since:
                return reading.energy_kwh
        return 0.0

    async def _settled(self, session: Session) -> tuple[Session, ChargingRecord | None]:
        """The session with the status its charger's record and commands give it (stored if it
        changed), and the record."""
        record = await self._charging.by_transaction(session.device_id, session.transaction_id)
        if not session.open:
            return session, record
        status, reason, stopped_at = session.status, session.reason, session.stopped_at
        if record is not None:
            status = SessionStatus.STARTED if record.open else SessionStatus.STOPPED
            stopped_at = record.stopped_at
        else:
            status, reason = await self._by_start(session)
        if status in (SessionStatus.WAITING, SessionStatus.STARTED):
            stop = await self._command(session, session.stop_command_id)
            if stop is not None and stop.status is Status.COMPLETED:
                status, stopped_at = SessionStatus.STOPPED, stop.updated_at
        if status is session.status:
            return session, record
        return await self._move(session, status, reason, stopped_at), record

    async def _move(
        self,
        session: Session,
        status: SessionStatus,
        reason: str | None,
        stopped_at: float | None = None,
    ) -> Session:
        """Move the session to `status` unless another request moved it first (then: as
        stored)."""
        moved = replace(
            session,
            status=status,
            reason=reason,
            stopped_at=stopped_at if status is SessionStatus.STOPPED else None,
            updated_at=self._clock.now(),
        )
        if await self._store.settle(moved, session.status):
            return moved
        return await self._store.get(session.user_id, session.id) or moved

    async def _by_start(self, session: Session) -> tuple[SessionStatus, str | None]:
        """The status (and reason) the start command gives a session without a record."""
        start = await self._command(session, session.start_command_id)
        if start is None:
            if session.start_command_id is None and (
                self._clock.now() - session.created_at > UNQUEUED
            ):
                return SessionStatus.FAILED, "the start command was never queued"
            return session.status, session.reason
        if start.status is Status.COMPLETED:
            return SessionStatus.STARTED, None
        if start.status in _ENDED or start.status is Status.EXPIRED:
            ended = _ENDED.get(start.status, SessionStatus.FAILED)
            return ended, start.reason or f"the start command {start.status.value}"
        return session.status, session.reason

    async def _command(self, session: Session, command_id: str | None) -> Command | None:
        if command_id is None:
            return None
        try:
            return await self._commands.get(session.operator_id, command_id)
        except NotFound:
            return None
