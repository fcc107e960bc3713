"""SQL for contracts, payment methods, cards and remote sessions (SQLite and PostgreSQL).

Reads are statements built once, rows read by position: a user's few rows by the user's
index. Inserts that may meet a unique key go through SQLAlchemy Core (its IntegrityError is
the same on both databases); the rest are statements built once, group-committed.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa

from voltgate.contracts.store import (
    Card,
    CardTaken,
    Contract,
    ContractKind,
    PaymentMethod,
    PaymentType,
    Session,
    SessionStatus,
    open_key,
)
from voltgate.db.engine import Database
from voltgate.db.schema import charging_cards, contracts, payment_methods, remote_sessions
from voltgate.db.statements import Row, Statement


def _columns(record: type[Any]) -> str:
    return ", ".join(f.name for f in fields(record))


_CONTRACTS = Statement(
    f"SELECT {_columns(Contract)} FROM contracts WHERE user_id = ? ORDER BY id"  # noqa: S608
)
_METHODS = Statement(
    f"SELECT {_columns(PaymentMethod)} FROM payment_methods WHERE user_id = ?"  # noqa: S608
    " ORDER BY id"
)
_REVOKE = Statement(
    "UPDATE payment_methods SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL"
)
_CARDS = Statement(
    f"SELECT {_columns(Card)} FROM charging_cards WHERE user_id = ? ORDER BY seq"  # noqa: S608
)
_SESSION = f"SELECT {_columns(Session)} FROM remote_sessions"  # noqa: S608 - constants
_GET = Statement(f"{_SESSION} WHERE user_id = ? AND id = ?")
_HOLDING = Statement(f"{_SESSION} WHERE open_key = ?")
_PAGE = Statement(f"{_SESSION} WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?")
_COUNT = Statement("SELECT count(*) FROM remote_sessions WHERE user_id = ?")
_SET_START = Statement(
    "UPDATE remote_sessions SET start_command_id = ?, updated_at = ? WHERE id = ?"
)
_SET_STOP = Statement(
    "UPDATE remote_sessions SET stop_command_id = ?, updated_at = ?"
    " WHERE id = ? AND stop_command_id IS NULL"
)
_SETTLE = Statement(
    "UPDATE remote_sessions SET status = ?, reason = ?, stopped_at = ?, open_key = ?,"
    " updated_at = ? WHERE id = ? AND status = ?"
)
_USE_PARENT = [f.name for f in fields(Contract)].index("use_parent")
_STATUS = [f.name for f in fields(Session)].index("status")
_MAX_OFFSET = 1 << 62  # a larger offset would overflow a 64-bit parameter; no page starts there


def _contract(row: Row) -> Contract:
    values = list(row)
    values[2] = ContractKind(values[2])
    values[_USE_PARENT] = bool(values[_USE_PARENT])  # SQLite hands booleans back as 0 and 1
    return Contract(*values)


def _method(row: Row) -> PaymentMethod:
    values = list(row)
    values[2] = PaymentType(values[2])
    return PaymentMethod(*values)


def _session(row: Row) -> Session:
    values = list(row)
    values[_STATUS] = SessionStatus(values[_STATUS])
    return Session(*values)


def _add(
    conn: sa.Connection,
    contract: Contract,
    iban_sealed: str | None,
    method: PaymentMethod,
    card: Card | None,
) -> None:
    conn.execute(contracts.insert(), {**asdict(contract), "iban_sealed": iban_sealed})
    conn.execute(payment_methods.insert(), asdict(method))
    if card is not None:
        conn.execute(charging_cards.insert(), asdict(card))


class SqlContractStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        contract: Contract,
        iban_sealed: str | None,
        method: PaymentMethod,
        card: Card | None,
    ) -> None:
        try:
            await self._db.write(lambda conn: _add(conn, contract, iban_sealed, method, card))
        except sa.exc.IntegrityError:
            if card is None:
                raise
            raise CardTaken(card.user_id) from None

    async def contracts(self, user_id: str) -> list[Contract]:
        return [_contract(row) for row in await self._db.reader.all(_CONTRACTS, user_id)]

    async def payment_methods(self, user_id: str) -> list[PaymentMethod]:
        return [_method(row) for row in await self._db.reader.all(_METHODS, user_id)]

    async def revoke(self, user_id: str, method_id: str, now: float) -> bool:
        return await self._db.run(_REVOKE, now, method_id, user_id) == 1

    async def cards(self, user_id: str) -> list[Card]:
        return [Card(*row) for row in await self._db.reader.all(_CARDS, user_id)]


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, session: Session) -> bool:
        values = {**asdict(session), "open_key": open_key(session.card_id, session.connector_id)}
        try:
            await self._db.write(lambda conn: conn.execute(remote_sessions.insert(), values))
        except sa.exc.IntegrityError:
            return False
        return True

    async def get(self, user_id: str, session_id: str) -> Session | None:
        row = await self._db.reader.one(_GET, user_id, session_id)
        return None if row is None else _session(row)

    async def holding(self, key: str) -> Session | None:
        row = await self._db.reader.one(_HOLDING, key)
        return None if row is None else _session(row)

    async def set_start_command(self, session_id: str, command_id: str, now: float) -> None:
        await self._db.run(_SET_START, command_id, now, session_id)

    async def set_stop_command(self, session_id: str, command_id: str, now: float) -> None:
        await self._db.run(_SET_STOP, command_id, now, session_id)

    async def settle(self, session: Session, was: SessionStatus) -> bool:
        key = open_key(session.card_id, session.connector_id) if session.open else None
        changed = await self._db.run(
            _SETTLE,
            session.status.value,
            session.reason,
            session.stopped_at,
            key,
            session.updated_at,
            session.id,
            was.value,
        )
        return changed == 1

    async def page(self, user_id: str, offset: int, limit: int) -> tuple[list[Session], int]:
        rows = await self._db.reader.all(_PAGE, user_id, limit, min(offset, _MAX_OFFSET))
        total = await self._db.reader.one(_COUNT, user_id)
        return [_session(row) for row in rows], int(total[0]) if total else 0
