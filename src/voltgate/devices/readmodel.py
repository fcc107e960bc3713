"""Devices read from memory: `DeviceStore` over the SQL store, every device held with its
connectors, kept current by this process's writes at once and by other processes' within a
second.

A heartbeat (`touch`) changes only `last_seen_at`, the time that decides `online`: it is not
a row reload anywhere. The time is set on the held row here and goes to the other processes
in a batch (`Stamps`: one broadcast per 0.2 s carrying every device heard from), which they
apply from the message itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from voltgate.changes import Changes
from voltgate.devices.repository import SqlDeviceStore
from voltgate.devices.store import Connector, Device, OwnerChange
from voltgate.readmodel import Index, Table, Versions
from voltgate.stamps import Stamps


def _operator(device: Device) -> str:
    return device.operator_id


def _id(device: Device) -> str:
    return device.id


class _DeviceIndex(Index[str, Device]):
    """Devices by id and per operator; `owners` moves for a user whose set of (home) chargers
    changes, old owner and new."""

    def __init__(self) -> None:
        super().__init__(_id, _operator)
        self.owners = Versions()

    def put(self, row: Device) -> None:
        held = self.get(row.id)
        super().put(row)
        if held is None or held.owner_user_id != row.owner_user_id:
            if held is not None:
                self.owners.changed(held.owner_user_id)
            self.owners.changed(row.owner_user_id)

    def remove(self, key: str) -> None:
        held = self.get(key)
        super().remove(key)
        if held is not None:
            self.owners.changed(held.owner_user_id)

    def replace_all(self, rows: Iterable[Device]) -> None:
        super().replace_all(rows)
        self.owners.changed_all()


# A heartbeat (or long-poll) is written at most this often per device.
TOUCH_EVERY = 10.0
# Between writes, the held time moves when it is this much behind (answers show seconds).
SHOWN_WITHIN = 1.0


class DeviceReadModel:
    def __init__(self, sql: SqlDeviceStore, changes: Changes) -> None:
        self._sql = sql
        self._serials: set[str] = set()
        self._written: dict[str, float] = {}  # when each device's last touch was written
        self._seen = Stamps("device-seen", changes, self._heard)
        index = _DeviceIndex()
        self._table: Table[str, Device] = Table(
            "device", changes, index, self._load_all, self._load_one, str
        )
        self.versions = index.versions
        self.owners = index.owners

    async def add(self, device: Device) -> None:
        await self._sql.add(device)
        self._serials.add(device.serial)
        await self._table.stored(device)

    async def get(self, operator_id: str, device_id: str) -> Device | None:
        device = (await self._table.ready()).get(device_id)
        return device if device is not None and device.operator_id == operator_id else None

    async def serial_taken(self, serial: str) -> bool:
        # A registration racing on another instance and not heard of yet is caught by the
        # database's unique serial (`add` raises SerialTaken).
        await self._table.ready()
        return serial in self._serials

    async def by_id(self, device_id: str) -> Device | None:
        return (await self._table.ready()).get(device_id)

    async def all(self) -> list[Device]:
        return (await self._table.ready()).rows()

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Device], int]:
        return (await self._table.ready()).page(operator_id, offset, limit)

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Device]:
        return (await self._table.ready()).after(operator_id, after_id, limit)

    async def touch(self, device_id: str, at: float) -> bool:
        held = self._table.index.get(device_id)
        written = self._written.get(device_id)
        if held is not None and written is not None and 0 <= at - written < TOUCH_EVERY:
            # Written less than TOUCH_EVERY ago: this process shows the new time (to the
            # second) at once, the database and the other instances get it with the next
            # write (a charger is online for 90 s after it was heard from, so they never
            # show it offline).
            if held.last_seen_at is None or held.last_seen_at <= at - SHOWN_WITHIN:
                self._table.index.put(replace(held, last_seen_at=at))
            return True
        if not await self._sql.touch(device_id, at):
            return False
        self._written[device_id] = at
        if held is None:
            await self._seen.advance(device_id, at)  # merged into the row when it is loaded
            return True
        moved = held.last_seen_at is None or held.last_seen_at < at
        # Keyed by the held id: one string per device, however many heartbeats.
        if moved and await self._seen.advance(held.id, at):
            self._table.index.put(replace(held, last_seen_at=at))
        return True

    async def learn(self, device_id: str, reported: list[Connector]) -> Device | None:
        # As the database now holds it (whatever reports raced this one), applied here and
        # published: other instances reload it and can target the new connectors.
        device = await self._sql.learn(device_id, reported)
        if device is None:
            return None
        device = self._live(device)
        held = self._table.index.get(device_id)
        if held is not None and (held.last_seen_at or 0) > (device.last_seen_at or 0):
            device = replace(device, last_seen_at=held.last_seen_at)  # heard since it was written
        await self._table.stored(device)
        return device

    async def set_owner(self, device_id: str, user_id: str | None) -> OwnerChange:
        result = await self._sql.set_owner(device_id, user_id)
        if result is OwnerChange.DONE:
            await self._table.stored(keys=(device_id,))
        return result

    async def _heard(self, device_id: str, at: float) -> None:
        """Another process committed a heartbeat at `at`."""
        held = self._table.index.get(device_id)
        if held is None:
            await self._table.refresh(device_id)  # registered elsewhere, not heard of yet
        elif held.last_seen_at is None or held.last_seen_at < at:
            self._table.index.put(replace(held, last_seen_at=at))

    def _live(self, device: Device) -> Device:
        at = self._seen.merged(device.id, device.last_seen_at)
        return device if at == device.last_seen_at else replace(device, last_seen_at=at)

    async def _load_all(self) -> list[Device]:
        devices = await self._sql.all()
        # From here to the index's replacement nothing awaits: heartbeats noted while the
        # rows were read are merged in, and the serials match the rows.
        self._serials = {d.serial for d in devices}
        return [self._live(d) for d in devices]

    async def _load_one(self, device_id: str) -> Device | None:
        device = await self._sql.by_id(device_id)
        if device is None:
            return None
        self._serials.add(device.serial)
        return self._live(device)
