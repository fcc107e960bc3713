"""SQL for commands, Idempotency-Key claims and connector states (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
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
from voltgate.db.schema import command_requests, commands, connector_states, devices
from voltgate.devices.store import Device


def _command(row: Any) -> Command:
    return Command(
        id=row.id,
        operator_id=row.operator_id,
        device_id=row.device_id,
        type=row.type,
        connector=row.connector,
        params=orjson.loads(row.params),
        status=Status(row.status),
        reason=row.reason,
        created_at=row.created_at,
        expires_at=row.expires_at,
        delivered_at=row.delivered_at,
        updated_at=row.updated_at,
    )


def _claim(row: Any) -> Claim:
    return Claim(
        operator_id=row.operator_id,
        key=row.idempotency_key,
        request_hash=row.request_hash,
        command_ids=tuple(orjson.loads(row.command_ids)),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


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


def _key(operator_id: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        command_requests.c.operator_id == operator_id,
        command_requests.c.idempotency_key == key,
    )


def _find_claim(conn: sa.Connection, operator_id: str, key: str, now: float) -> Claim | None:
    query = command_requests.select().where(
        _key(operator_id, key), command_requests.c.expires_at > now
    )
    row = conn.execute(query).first()
    return None if row is None else _claim(row)


def _insert(conn: sa.Connection, batch: list[Command], claim: Claim | None) -> Claim | None:
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
    return None


class SqlCommandStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, batch: list[Command], claim: Claim | None) -> Claim | None:
        try:
            return await self._db.write(lambda conn: _insert(conn, batch, claim))
        except sa.exc.IntegrityError:
            if claim is None:
                raise
            # A concurrent request with the same key inserted its claim first.
            held = await self.claim(claim.operator_id, claim.key, claim.created_at)
            if held is None:
                raise
            return held

    async def claim(self, operator_id: str, key: str, now: float) -> Claim | None:
        return await self._db.read(lambda conn: _find_claim(conn, operator_id, key, now))

    async def get(self, command_id: str) -> Command | None:
        query = commands.select().where(commands.c.id == command_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _command(row)

    async def many(self, command_ids: list[str]) -> list[Command]:
        if not command_ids:
            return []
        query = commands.select().where(commands.c.id.in_(command_ids))
        rows = await self._db.read(lambda conn: conn.execute(query).all())
        found = {row.id: _command(row) for row in rows}
        return [found[i] for i in command_ids if i in found]

    async def page(
        self,
        operator_id: str,
        device_id: str | None,
        status: Status | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Command], int]:
        where = [commands.c.operator_id == operator_id]
        if device_id is not None:
            where.append(commands.c.device_id == device_id)
        if status is not None:
            where.append(commands.c.status == status.value)
        count = sa.select(sa.func.count()).select_from(commands).where(*where)
        query = (
            commands.select()
            .where(*where)
            .order_by(commands.c.id.desc())
            .offset(offset)
            .limit(limit)
        )

        def work(conn: sa.Connection) -> tuple[list[Command], int]:
            rows = conn.execute(query).all()
            return [_command(r) for r in rows], int(conn.execute(count).scalar_one())

        return await self._db.read(work)

    async def deliver(self, device_id: str, now: float, limit: int) -> list[Command]:
        pending = (
            sa.select(commands.c.id)
            .where(
                commands.c.device_id == device_id,
                commands.c.status == Status.QUEUED.value,
                commands.c.expires_at > now,
            )
            .order_by(commands.c.created_at, commands.c.id)
            .limit(limit)
        )
        take = (
            commands.update()
            # The status is checked again by the UPDATE: a concurrent delivery took it first.
            .where(commands.c.id.in_(pending.scalar_subquery()))
            .where(commands.c.status == Status.QUEUED.value)
            .values(status=Status.DELIVERED.value, delivered_at=now, updated_at=now)
            .returning(*commands.c)
        )

        def work(conn: sa.Connection) -> list[Command]:
            # Most polls find nothing: look before taking the write.
            if conn.execute(pending.limit(1)).first() is None:
                return []
            return [_command(r) for r in conn.execute(take).all()]

        found = await self._db.write(work)
        return sorted(found, key=lambda c: (c.created_at, c.id))

    async def advance(
        self, device_id: str, command_id: str, status: Status, reason: str | None, now: float
    ) -> bool:
        move = (
            commands.update()
            .where(
                commands.c.id == command_id,
                commands.c.device_id == device_id,
                commands.c.status.in_([s.value for s in predecessors(status)]),
            )
            .values(status=status.value, updated_at=now)
        )
        if reason is not None:  # a later report without one keeps the earlier reason
            move = move.values(reason=reason)
        return await self._db.write(lambda conn: conn.execute(move).rowcount == 1)

    async def expire(self, now: float, *, operator_id: str | None = None) -> int:
        overdue = [commands.c.status == Status.QUEUED.value, commands.c.expires_at <= now]
        if operator_id is not None:
            overdue.append(commands.c.operator_id == operator_id)
        find = sa.select(commands.c.id).where(*overdue).limit(1)
        mark = commands.update().where(*overdue).values(status=Status.EXPIRED.value, updated_at=now)

        def work(conn: sa.Connection) -> int:
            if conn.execute(find).first() is None:
                return 0
            return int(conn.execute(mark).rowcount)

        # Usually nothing is overdue: a read, not a write transaction.
        if await self._db.read(lambda conn: conn.execute(find).first()) is None:
            return 0
        return await self._db.write(work)

    async def prune_claims(self, now: float) -> int:
        old = command_requests.delete().where(command_requests.c.expires_at <= now)
        return await self._db.write(lambda conn: int(conn.execute(old).rowcount))

    async def device_ids(self, operator_id: str, site_id: str | None) -> list[str]:
        query = sa.select(devices.c.id).where(devices.c.operator_id == operator_id)
        if site_id is not None:
            query = query.where(devices.c.site_id == site_id)
        query = query.order_by(devices.c.id)
        return await self._db.read(lambda conn: [r.id for r in conn.execute(query)])


class SqlConnectorStates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, device_id: str, reports: list[ConnectorReport], at: float) -> None:
        if not reports:
            return
        latest = {r.connector: r for r in reports}
        mine = connector_states.c.device_id == device_id
        clear = connector_states.delete().where(
            mine, connector_states.c.connector.in_(list(latest))
        )
        rows = [
            {
                "device_id": device_id,
                "connector": r.connector,
                "state": r.state,
                "soc": r.soc,
                "reported_at": at,
            }
            for r in latest.values()
        ]

        def work(conn: sa.Connection) -> None:
            conn.execute(clear)
            conn.execute(connector_states.insert(), rows)

        # Two reports of one device at once (PostgreSQL): the other one's rows stand.
        with contextlib.suppress(sa.exc.IntegrityError):
            await self._db.write(work)

    async def soc(self, device: Device, connector: int, since: float) -> Level | None:
        query = sa.select(connector_states.c.soc, connector_states.c.reported_at).where(
            connector_states.c.device_id == device.id,
            connector_states.c.connector == connector,
            connector_states.c.reported_at >= since,
            connector_states.c.soc.is_not(None),
        )
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else (float(row.soc), float(row.reported_at))
