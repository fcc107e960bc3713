"""SQL for commands, Idempotency-Key claims and connector states (SQLite and PostgreSQL).

Reads and writes are statements built once at import (`db.statements`): a point read, a list
page per filter combination, rows read by position. The writes are group-committed on the
event loop (`Database.run_returning`); those that change commands return the changed rows, so
the read model (`readmodel.py`) applies exactly what was stored. Only an insert with an
Idempotency-Key (a claim to check in the same transaction) goes through SQLAlchemy Core.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

from voltgate.commands.store import (
    Claim,
    Command,
    ConnectorReport,
    Level,
    Status,
    predecessors,
)
from voltgate.db.engine import Database
from voltgate.db.schema import audit_events, command_requests, commands
from voltgate.db.statements import Row, Statement
from voltgate.db.stores import audit_row, audit_values
from voltgate.devices.store import Device
from voltgate.identity.stores import AuditEvent

_STATUS = {status.value: status for status in Status}
# `command_of`'s order: the SELECTs and the writes' RETURNING read rows the same way.
_COLUMNS = """id, operator_id, device_id, type, connector, params, status, reason,
    created_at, expires_at, delivered_at, updated_at"""
_SELECT = f"SELECT {_COLUMNS} FROM commands"  # noqa: S608 - constants
_GET = Statement(_SELECT + " WHERE id = ?")
# A JSON array of ids: one statement however many (SQLite has no array parameter).
_MANY = Statement(
    _SELECT + " WHERE id IN (SELECT value FROM json_each(?))",  # noqa: S608 - constants
    _SELECT + " WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
)
_QUEUED = Statement(_SELECT + " WHERE status = 'queued'")
_PENDING = Statement(
    """SELECT 1 FROM commands
       WHERE device_id = ? AND status = 'queued' AND expires_at > ? LIMIT 1"""
)
_OVERDUE = Statement("SELECT 1 FROM commands WHERE status = 'queued' AND expires_at <= ? LIMIT 1")
_OVERDUE_OF = Statement(
    """SELECT 1 FROM commands
       WHERE status = 'queued' AND expires_at <= ? AND operator_id = ? LIMIT 1"""
)
_CLAIM = Statement(
    """SELECT operator_id, idempotency_key, request_hash, command_ids, created_at, expires_at
       FROM command_requests WHERE operator_id = ? AND idempotency_key = ? AND expires_at > ?"""
)
_DEVICES = Statement("SELECT id FROM devices WHERE operator_id = ? ORDER BY id")
_DEVICES_AT = Statement("SELECT id FROM devices WHERE operator_id = ? AND site_id = ? ORDER BY id")
_SOC = Statement(
    """SELECT soc, reported_at FROM connector_states
       WHERE device_id = ? AND connector = ? AND reported_at >= ? AND soc IS NOT NULL"""
)

# Writes, built once: each answers the rows it changed, as stored.
# The status is checked again by the UPDATE: a concurrent delivery may have taken a row first.
_DELIVER = Statement(
    f"""UPDATE commands SET status = 'delivered', delivered_at = ?, updated_at = ?
        WHERE status = 'queued' AND id IN (
            SELECT id FROM commands WHERE device_id = ? AND status = 'queued' AND expires_at > ?
            ORDER BY created_at, id LIMIT ?)
        RETURNING {_COLUMNS}"""  # noqa: S608 - constants
)


def _advance(status: Status) -> Statement:
    """The move to `status` from any status it may follow; a report without a reason keeps
    the earlier one."""
    before = ", ".join(f"'{s.value}'" for s in predecessors(status))
    return Statement(
        f"""UPDATE commands SET status = '{status.value}', updated_at = ?,
                reason = COALESCE(?, reason)
            WHERE id = ? AND device_id = ? AND status IN ({before})
            RETURNING {_COLUMNS}"""  # noqa: S608 - constants
    )


_ADVANCE = {status: _advance(status) for status in Status if predecessors(status)}
_EXPIRE = """UPDATE commands SET status = 'expired', updated_at = ?
    WHERE status = 'queued' AND expires_at <= ?"""
_EXPIRE_ALL = Statement(f"{_EXPIRE} RETURNING {_COLUMNS}")
_EXPIRE_OF = Statement(f"{_EXPIRE} AND operator_id = ? RETURNING {_COLUMNS}")
_PRUNE = Statement("DELETE FROM command_requests WHERE expires_at <= ?")
# A connector's latest report replaces the one before.
_STATE = Statement(
    """INSERT INTO connector_states (device_id, connector, state, soc, reported_at)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id, connector) DO UPDATE SET
           state = excluded.state, soc = excluded.soc, reported_at = excluded.reported_at"""
)


def _page(device: bool, status: bool) -> Statement:
    """A list page and its total in one round trip (one row of NULLs when the page is empty),
    for one combination of the optional filters; takes the filters' arguments twice."""
    where = "operator_id = ?" + (" AND device_id = ?" if device else "")
    where += " AND status = ?" if status else ""
    return Statement(
        f"""SELECT t.n, p.* FROM (SELECT count(*) AS n FROM commands WHERE {where}) AS t
            LEFT JOIN ({_SELECT} WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?) AS p
            ON 1 = 1 ORDER BY p.id DESC"""  # noqa: S608 - constants
    )


# (device_id given, status given) → the page
_PAGES = {(d, s): _page(d, s) for d in (False, True) for s in (False, True)}
# No page starts this far in; a larger offset would overflow a 64-bit integer parameter.
_MAX_OFFSET = 1 << 62


def command_of(row: Row) -> Command:
    """A command from a row in `_SELECT`'s column order."""
    return Command(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        orjson.loads(row[5]),
        _STATUS[row[6]],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
    )


def _claim(row: Row) -> Claim:
    return Claim(row[0], row[1], row[2], tuple(orjson.loads(row[3])), row[4], row[5])


def _row(command: Command) -> dict[str, Any]:
    return {
        "id": command.id,
        "operator_id": command.operator_id,
        "device_id": command.device_id,
        "type": command.type,
        "connector": command.connector,
        "params": orjson.dumps(command.params).decode(),
        "status": command.status.value,
        "reason": command.reason,
        "created_at": command.created_at,
        "expires_at": command.expires_at,
        "delivered_at": command.delivered_at,
        "updated_at": command.updated_at,
    }


_INSERT = Statement(
    """INSERT INTO commands (id, operator_id, device_id, type, connector, params, status,
       reason, created_at, expires_at, delivered_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
)


def _values(command: Command) -> tuple[Any, ...]:
    return tuple(_row(command).values())


def _key(operator_id: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        command_requests.c.operator_id == operator_id,
        command_requests.c.idempotency_key == key,
    )


def _find_claim(conn: sa.Connection, operator_id: str, key: str, now: float) -> Claim | None:
    """The unexpired claim, read inside the inserting transaction."""
    query = command_requests.select().where(  # the table's column order is `_claim`'s
        _key(operator_id, key), command_requests.c.expires_at > now
    )
    row = conn.execute(query).first()
    return None if row is None else _claim(row)


def _insert(
    conn: sa.Connection, batch: list[Command], claim: Claim | None, event: AuditEvent
) -> Claim | None:
    if claim is not None:
        held = _find_claim(conn, claim.operator_id, claim.key, claim.created_at)
        if held is not None:
            return held
        # An expired claim on the key gives way to this one.
        conn.execute(command_requests.delete().where(_key(claim.operator_id, claim.key)))
        conn.execute(
            command_requests.insert(),
            {
                "operator_id": claim.operator_id,
                "idempotency_key": claim.key,
                "request_hash": claim.request_hash,
                "command_ids": orjson.dumps(list(claim.command_ids)).decode(),
                "created_at": claim.created_at,
                "expires_at": claim.expires_at,
            },
        )
    if batch:
        conn.execute(commands.insert(), [_row(c) for c in batch])
    conn.execute(audit_events.insert(), audit_values(event))
    return None


class SqlCommandStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, batch: list[Command], claim: Claim | None, event: AuditEvent
    ) -> Claim | None:
        if claim is None and len(batch) == 1:  # the common case: one command, no key
            await self._db.run_together((_INSERT, _values(batch[0])), audit_row(event))
            return None
        try:
            return await self._db.write(lambda conn: _insert(conn, batch, claim, event))
        except sa.exc.IntegrityError:
            if claim is None:
                raise
            # A concurrent request with the same key inserted its claim first.
            held = await self.claim(claim.operator_id, claim.key, claim.created_at)
            if held is None:
                raise
            return held

    async def claim(self, operator_id: str, key: str, now: float) -> Claim | None:
        row = await self._db.reader.one(_CLAIM, operator_id, key, now)
        return None if row is None else _claim(row)

    async def get(self, command_id: str) -> Command | None:
        row = await self._db.reader.one(_GET, command_id)
        return None if row is None else command_of(row)

    async def many(self, command_ids: list[str]) -> list[Command]:
        if not command_ids:
            return []
        rows = await self._db.reader.all(_MANY, orjson.dumps(command_ids).decode())
        found = {row[0]: command_of(row) for row in rows}
        return [found[i] for i in command_ids if i in found]

    async def queued(self) -> list[Command]:
        """Every queued command (the read model's load)."""
        return [command_of(row) for row in await self._db.reader.scan(_QUEUED)]

    async def page(
        self,
        operator_id: str,
        device_id: str | None,
        status: Status | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Command], int]:
        args: list[object] = [operator_id]
        if device_id is not None:
            args.append(device_id)
        if status is not None:
            args.append(status.value)
        statement = _PAGES[device_id is not None, status is not None]
        rows = await self._db.reader.all(statement, *args, *args, limit, min(offset, _MAX_OFFSET))
        return [command_of(row[1:]) for row in rows if row[1] is not None], int(rows[0][0])

    async def deliver(self, device_id: str, now: float, limit: int) -> list[Command]:
        # Most polls find nothing: look (a read, on the loop's thread on SQLite) before taking
        # the write.
        if await self._db.reader.one(_PENDING, device_id, now) is None:
            return []
        rows = await self._db.run_returning(_DELIVER, now, now, device_id, now, limit)
        return sorted(map(command_of, rows), key=lambda c: (c.created_at, c.id))

    async def advance(
        self, device_id: str, command_id: str, status: Status, reason: str | None, now: float
    ) -> bool:
        return await self.advanced(device_id, command_id, status, reason, now) is not None

    async def advanced(
        self, device_id: str, command_id: str, status: Status, reason: str | None, now: float
    ) -> Command | None:
        """`advance`, answering the command as stored after the move (None: not moved)."""
        move = _ADVANCE.get(status)
        if move is None:  # nothing moves a command back to queued
            return None
        rows = await self._db.run_returning(move, now, reason, command_id, device_id)
        return command_of(rows[0]) if rows else None

    async def expire(self, now: float, *, operator_id: str | None = None) -> int:
        return len(await self.expired(now, operator_id=operator_id))

    async def expired(self, now: float, *, operator_id: str | None = None) -> list[Command]:
        """`expire`, answering the commands it marked."""
        # Usually nothing is overdue: a read, not a write transaction.
        if operator_id is None:
            found = await self._db.reader.one(_OVERDUE, now)
        else:
            found = await self._db.reader.one(_OVERDUE_OF, now, operator_id)
        if found is None:
            return []
        if operator_id is None:
            rows = await self._db.run_returning(_EXPIRE_ALL, now, now)
        else:
            rows = await self._db.run_returning(_EXPIRE_OF, now, now, operator_id)
        return [command_of(row) for row in rows]

    async def prune_claims(self, now: float) -> int:
        return await self._db.run(_PRUNE, now)

    async def device_ids(self, operator_id: str, site_id: str | None) -> list[str]:
        if site_id is None:
            rows = await self._db.reader.scan(_DEVICES, operator_id)
        else:
            rows = await self._db.reader.scan(_DEVICES_AT, operator_id, site_id)
        return [row[0] for row in rows]


class SqlConnectorStates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, device_id: str, reports: list[ConnectorReport], at: float) -> None:
        if not reports:
            return
        latest = {r.connector: r for r in reports}  # the last report of a connector counts
        await self._db.run_together(
            *((_STATE, (device_id, r.connector, r.state, r.soc, at)) for r in latest.values())
        )

    async def soc(self, device: Device, connector: int, since: float) -> Level | None:
        row = await self._db.reader.one(_SOC, device.id, connector, since)
        return None if row is None else (float(row[0]), float(row[1]))
