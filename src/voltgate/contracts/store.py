"""The contracts domain's records and the storage interfaces it owns (`repository.py`
implements them for SQLite and PostgreSQL).

Ids are UUIDs (be.ENERGISED names contracts, cards and transactions by uuid), time-ordered
like UUIDv7 so a user's rows list newest first by id.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

_RANDOM = 74  # UUIDv7's random bits (rand_a 12, rand_b 62)
_last = 0  # the last id made in this process, packed as (milliseconds, random)
_order = threading.Lock()


def new_uuid() -> str:
    """A UUIDv7 (RFC 9562 §5.7), monotonic within the process (§6.2 method 2: a value that
    would not sort after the last is the last plus one), so ids made later sort later."""
    global _last
    value = int(time.time() * 1000) << _RANDOM | secrets.randbits(_RANDOM)
    with _order:
        if value <= _last:
            value = _last + 1
        _last = value
    millis, rand = value >> _RANDOM, value & ((1 << _RANDOM) - 1)
    rand_a, rand_b = rand >> 62, rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


class ContractKind(StrEnum):
    SEPA = "sepa"
    POSTPAID = "postpaid"


class PaymentType(StrEnum):
    """be.ENERGISED's `paymentType` values."""

    SEPA = "sepaAccount"
    INVOICE = "invoice"


class SessionStatus(StrEnum):
    """be.ENERGISED's charging-session statuses, and two for a start that never happened."""

    WAITING = "waiting_for_transaction"  # asked for; the charger has not begun charging
    STARTED = "started"
    STOPPED = "stopped"
    REJECTED = "rejected"  # the charger refused the start (its reason is kept)
    FAILED = "failed"  # the start failed or expired undelivered (its reason is kept)


OPEN = frozenset({SessionStatus.WAITING, SessionStatus.STARTED})


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    user_id: str
    kind: ContractKind
    rate_id: str
    status: str  # "active": voltgate has no approval step
    payment_method_id: str
    account_holder: str | None
    bank: str | None
    bic: str | None
    iban_masked: str | None  # country and last four characters only
    debit_type: str | None  # CORE | B2B
    use_parent: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    user_id: str
    payment_type: PaymentType
    application_id: str | None  # the client application the contract was made through
    contract_id: str
    created_at: float
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    user_id: str
    seq: int  # 1 for the user's first card
    tag_id: str  # the RFID chip's UID, hex
    number: str  # printed on the card, eMAID-like
    label: str
    type: str  # RFID | APP
    status: str  # active | blocked
    expires_at: float  # the end of `expiry_date` (UTC)
    created_at: float

    @property
    def expiry_date(self) -> str:
        """The last day the card is valid, YYYY-MM-DD."""
        return datetime.fromtimestamp(self.expires_at - 1, UTC).date().isoformat()

    def usable_at(self, now: float) -> bool:
        return self.status == "active" and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Session:
    """A charging session started from an app (remoteStart). Its id is also the transaction
    id the start command carries and the charger reports its record under."""

    id: str
    user_id: str
    card_id: str
    tag_id: str
    connector_id: str
    charge_point_id: str
    device_id: str
    operator_id: str
    connector: int
    transaction_id: str
    start_command_id: str | None
    stop_command_id: str | None
    status: SessionStatus
    reason: str | None
    created_at: float
    updated_at: float
    stopped_at: float | None

    @property
    def open(self) -> bool:
        """It may still charge: a new start on its card and connector answers with it."""
        return self.status in OPEN


def open_key(card_id: str, connector_id: str) -> str:
    return f"{card_id}|{connector_id}"


class CardTaken(Exception):
    """The user's card of this `seq` was issued first by another request."""


class ContractStore(Protocol):
    async def add(
        self,
        contract: Contract,
        iban_sealed: str | None,
        method: PaymentMethod,
        card: Card | None,
    ) -> None:
        """Insert the contract, its payment method and the card together; CardTaken (nothing
        stored) if the user already has a card of `card.seq`."""

    async def contracts(self, user_id: str) -> list[Contract]:
        """The user's contracts, oldest first."""

    async def payment_methods(self, user_id: str) -> list[PaymentMethod]:
        """The user's payment methods (revoked ones too), oldest first."""

    async def revoke(self, user_id: str, method_id: str, now: float) -> bool:
        """Revoke the user's active payment method; False if there is none such."""

    async def cards(self, user_id: str) -> list[Card]:
        """The user's cards in the order issued."""


class SessionStore(Protocol):
    async def add(self, session: Session) -> bool:
        """Insert an open session; False (nothing stored) if its card and connector have an
        open session already."""

    async def get(self, user_id: str, session_id: str) -> Session | None: ...

    async def holding(self, key: str) -> Session | None:
        """The open session of a card and connector (`open_key`)."""

    async def set_start_command(self, session_id: str, command_id: str, now: float) -> None: ...

    async def set_stop_command(self, session_id: str, command_id: str, now: float) -> None:
        """Note the session's first stop command (a later one leaves it)."""

    async def settle(self, session: Session, was: SessionStatus) -> bool:
        """Store `session`'s status, reason and stop time if its stored status is still `was`
        (compare-and-set); an ended session frees its card and connector."""

    async def page(self, user_id: str, offset: int, limit: int) -> tuple[list[Session], int]:
        """One window of the user's sessions (newest first) and their total."""
