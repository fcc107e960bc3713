"""SQL for devices, their connectors and enrollment credentials (SQLite and PostgreSQL)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from voltgate.db.engine import Database
from voltgate.db.schema import connectors, devices, enrollments, users
from voltgate.db.statements import Row, Statement
from voltgate.devices.store import Connector, Device, Enrollment, OwnerChange, SerialTaken

# The read model's loads: each device beside its connectors, one row per connector (a device
# without any has one row of NULLs), in id then connector order.
_SELECT = """SELECT d.id, d.operator_id, d.site_id, d.serial, d.model, d.manufacturer,
    d.firmware_version, d.mac, d.created_at, d.last_seen_at, d.owner_user_id,
    d.learns_connectors, c.number, c.type, c.max_power_kw
    FROM devices d LEFT JOIN connectors c ON c.device_id = d.id"""
_ALL = Statement(f"{_SELECT} ORDER BY d.id, c.number")
_ONE = Statement(f"{_SELECT} WHERE d.id = ? ORDER BY c.number")
# A heartbeat: last_seen_at moves forward only; 0 rows when unknown or already as recent.
# Heard from at `at`, unless heard from at or after it already.
_TOUCH = Statement(
    """UPDATE devices SET last_seen_at = ?
       WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)"""
)
_KNOWN = Statement("SELECT 1 FROM devices WHERE id = ?")
# A connector a charger named: one row per (device, number) however many reports race; a
# type or power the report gives replaces the held one, one it leaves out keeps it.
_LEARN = Statement(
    """INSERT INTO connectors (device_id, number, type, max_power_kw) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id, number) DO UPDATE SET
       type = COALESCE(excluded.type, connectors.type),
       max_power_kw = COALESCE(excluded.max_power_kw, connectors.max_power_kw)"""
)


def _device(row: Any, ports: Sequence[Connector]) -> Device:
    return Device(
        id=row.id,
        operator_id=row.operator_id,
        site_id=row.site_id,
        serial=row.serial,
        model=row.model,
        manufacturer=row.manufacturer,
        firmware_version=row.firmware_version,
        mac=row.mac,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        connectors=tuple(ports),
        owner_user_id=row.owner_user_id,
        learns_connectors=bool(row.learns_connectors),
    )


def _devices(conn: sa.Connection, query: sa.Select[Any]) -> list[Device]:
    """The devices `query` selects, with their connectors (one more query for all of them)."""
    rows = conn.execute(query).all()
    if not rows:
        return []
    ports: dict[str, list[Connector]] = {}
    for c in conn.execute(
        connectors.select()
        .where(connectors.c.device_id.in_([r.id for r in rows]))
        .order_by(connectors.c.device_id, connectors.c.number)
    ):
        ports.setdefault(c.device_id, []).append(Connector(c.number, c.type, c.max_power_kw))
    return [_device(r, ports.get(r.id, ())) for r in rows]


@lru_cache(maxsize=4096)
def _connector(number: int, type_: str | None, max_power_kw: float | None) -> Connector:
    """One shared object per distinct connector: a fleet has few kinds."""
    return Connector(number, _shared(type_), max_power_kw)


def _shared(text: str | None) -> str | None:
    """Values many devices repeat (operator, site, model, firmware) held once."""
    return None if text is None else sys.intern(text)


def _held(row: Row, ports: list[Connector]) -> Device:
    """A device from a `_SELECT` row (by position, as `Device` orders its fields)."""
    intern = sys.intern
    return Device(
        row[0],
        intern(row[1]),
        _shared(row[2]),
        row[3],
        intern(row[4]),
        intern(row[5]),
        intern(row[6]),
        row[7],
        row[8],
        row[9],
        tuple(ports),
        _shared(row[10]),
        bool(row[11]),
    )


def _grouped(rows: Sequence[Row]) -> list[Device]:
    """Devices from `_SELECT` rows, each with its connectors in order (a reload runs this on the
    event loop for every device: kept to one pass, positional construction)."""
    found: list[Device] = []
    ports: list[Connector] = []
    previous: Row | None = None
    for row in rows:
        if previous is not None and row[0] != previous[0]:
            found.append(_held(previous, ports))
            ports = []
        if row[12] is not None:
            ports.append(_connector(row[12], row[13], row[14]))
        previous = row
    if previous is not None:
        found.append(_held(previous, ports))
    return found


def _serial_taken(conn: sa.Connection, serial: str) -> bool:
    query = sa.select(devices.c.id).where(devices.c.serial == serial)
    return conn.execute(query).first() is not None


def _insert(conn: sa.Connection, device: Device) -> None:
    conn.execute(
        devices.insert(),
        {
            "id": device.id,
            "operator_id": device.operator_id,
            "site_id": device.site_id,
            "serial": device.serial,
            "model": device.model,
            "manufacturer": device.manufacturer,
            "firmware_version": device.firmware_version,
            "mac": device.mac,
            "created_at": device.created_at,
            "last_seen_at": device.last_seen_at,
            "owner_user_id": device.owner_user_id,
            "learns_connectors": device.learns_connectors,
        },
    )
    if device.connectors:
        conn.execute(
            connectors.insert(),
            [
                {
                    "device_id": device.id,
                    "number": c.number,
                    "type": c.type,
                    "max_power_kw": c.max_power_kw,
                }
                for c in device.connectors
            ],
        )


class SqlDeviceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, device: Device) -> None:
        try:
            await self._db.write(lambda conn: _insert(conn, device))
        except sa.exc.IntegrityError:
            if await self.serial_taken(device.serial):
                raise SerialTaken(device.serial) from None
            raise

    async def get(self, operator_id: str, device_id: str) -> Device | None:
        query = devices.select().where(
            devices.c.id == device_id, devices.c.operator_id == operator_id
        )
        found = await self._db.read(lambda conn: _devices(conn, query))
        return found[0] if found else None

    async def serial_taken(self, serial: str) -> bool:
        return await self._db.read(lambda conn: _serial_taken(conn, serial))

    async def by_id(self, device_id: str) -> Device | None:
        found = _grouped(await self._db.reader.all(_ONE, device_id))
        return found[0] if found else None

    async def all(self) -> list[Device]:
        """Every device with its connectors, in id order (the read model's load)."""
        return _grouped(await self._db.reader.scan(_ALL))

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Device], int]:
        mine = devices.c.operator_id == operator_id
        count = sa.select(sa.func.count()).select_from(devices).where(mine)
        query = devices.select().where(mine).order_by(devices.c.id).offset(offset).limit(limit)

        def work(conn: sa.Connection) -> tuple[list[Device], int]:
            return _devices(conn, query), int(conn.execute(count).scalar_one())

        return await self._db.read(work)

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Device]:
        query = devices.select().where(devices.c.operator_id == operator_id)
        if after_id is not None:
            query = query.where(devices.c.id > after_id)
        query = query.order_by(devices.c.id).limit(limit)
        return await self._db.read(lambda conn: _devices(conn, query))

    async def touch(self, device_id: str, at: float) -> bool:
        if await self._db.run(_TOUCH, at, device_id, at):
            return True
        # Not moved: unknown, or already heard from at or after `at`.
        return await self._db.reader.one(_KNOWN, device_id) is not None

    async def learn(self, device_id: str, reported: list[Connector]) -> Device | None:
        rows = [(device_id, c.number, c.type, c.max_power_kw) for c in reported]
        await self._db.run_together((_LEARN, rows))
        return await self.by_id(device_id)

    async def set_owner(self, device_id: str, user_id: str | None) -> OwnerChange:
        change = devices.update().where(devices.c.id == device_id).values(owner_user_id=user_id)
        known_user = sa.select(users.c.id).where(users.c.id == user_id)

        def work(conn: sa.Connection) -> OwnerChange:
            # Checked here too: SQLite enforces the reference only where foreign keys are on.
            if user_id is not None and conn.execute(known_user).first() is None:
                return OwnerChange.NO_USER
            changed = conn.execute(change).rowcount == 1
            return OwnerChange.DONE if changed else OwnerChange.NO_DEVICE

        return await self._db.write(work)


def _enrollment(row: Any) -> Enrollment:
    return Enrollment(
        id=row.id,
        operator_id=row.operator_id,
        site_id=row.site_id,
        uses=row.uses,
        uses_left=row.uses_left,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class SqlEnrollmentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, enrollment: Enrollment, token_hash: str) -> None:
        values = {
            "id": enrollment.id,
            "operator_id": enrollment.operator_id,
            "site_id": enrollment.site_id,
            "token_hash": token_hash,
            "uses": enrollment.uses,
            "uses_left": enrollment.uses_left,
            "created_at": enrollment.created_at,
            "expires_at": enrollment.expires_at,
        }
        await self._db.write(lambda conn: conn.execute(enrollments.insert(), values))

    async def by_hash(self, token_hash: str) -> Enrollment | None:
        query = enrollments.select().where(enrollments.c.token_hash == token_hash)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return None if row is None else _enrollment(row)

    async def consume(self, enrollment_id: str, now: float) -> bool:
        take = (
            enrollments.update()
            .where(enrollments.c.id == enrollment_id)
            .where(enrollments.c.uses_left > 0)
            .where(enrollments.c.expires_at > now)
            .values(uses_left=enrollments.c.uses_left - 1)
        )
        return await self._db.write(lambda conn: conn.execute(take).rowcount == 1)

    async def release(self, enrollment_id: str) -> None:
        give_back = (
            enrollments.update()
            .where(enrollments.c.id == enrollment_id)
            .where(enrollments.c.uses_left < enrollments.c.uses)
            .values(uses_left=enrollments.c.uses_left + 1)
        )
        await self._db.write(lambda conn: conn.execute(give_back))
