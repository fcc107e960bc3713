"""The devices domain's records and the storage interfaces it owns (`repository.py` implements
them for SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from voltgate.readmodel import Versions

# Chargers heartbeat every 30 s; three missed heartbeats and the device shows offline.
HEARTBEAT_INTERVAL = 30
MISSED_HEARTBEATS = 3
OFFLINE_AFTER = HEARTBEAT_INTERVAL * MISSED_HEARTBEATS
# A charger that learns its connectors gains at most these (as many as a registration lists):
# a device cannot make rows without bound.
MAX_CONNECTORS = 16


class OwnerChange(Enum):
    DONE = "done"
    NO_DEVICE = "no_device"
    NO_USER = "no_user"


class SerialTaken(Exception):
    """A device with this serial number is already registered."""


@dataclass(frozen=True, slots=True)
class Connector:
    number: int  # 1..n on its device
    # None: learned from a report that did not say (yet); registered ones always have both.
    type: str | None
    max_power_kw: float | None

    def told(self, held: Connector | None) -> bool:
        """This report (of a connector's number, and maybe type and power) tells more than, or
        other than, what is held."""
        return (
            held is None
            or (self.type is not None and self.type != held.type)
            or (self.max_power_kw is not None and self.max_power_kw != held.max_power_kw)
        )


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    operator_id: str
    site_id: str | None
    serial: str
    model: str
    manufacturer: str
    firmware_version: str
    mac: str | None
    created_at: float
    last_seen_at: float | None = None
    connectors: tuple[Connector, ...] = field(default=())
    owner_user_id: str | None = None  # a home charger's owner (a user), if any
    # Registered without connectors: gains each one its reports name (OCPP's way); one
    # registered with connectors has exactly those.
    learns_connectors: bool = False

    def online_at(self, now: float) -> bool:
        return self.last_seen_at is not None and now - self.last_seen_at <= OFFLINE_AFTER


@dataclass(frozen=True, slots=True)
class Enrollment:
    id: str
    operator_id: str
    site_id: str | None
    uses: int
    uses_left: int
    created_at: float
    expires_at: float


class DeviceStore(Protocol):
    versions: Versions  # per operator
    owners: Versions  # per home charger's owner (a user): moved when a device's owner changes

    async def add(self, device: Device) -> None:
        """Insert the device and its connectors; raises SerialTaken for a known serial."""

    async def get(self, operator_id: str, device_id: str) -> Device | None:
        """The device if it exists and belongs to `operator_id`."""

    async def serial_taken(self, serial: str) -> bool: ...

    async def by_id(self, device_id: str) -> Device | None:
        """The device, whoever operates it (for the device's own calls)."""

    async def all(self) -> list[Device]:
        """Every device, whoever operates it."""

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Device], int]:
        """One offset window of the operator's devices in id order, and their total."""

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Device]:
        """Up to `limit` of the operator's devices with ids after `after_id`, in id order."""

    async def touch(self, device_id: str, at: float) -> bool:
        """Move last_seen_at forward to `at` (never back); False for an unknown device."""

    async def learn(self, device_id: str, reported: list[Connector]) -> Device | None:
        """Add the connectors not held yet and set the type and power each report gives (one
        row per number however many reports race); the device as it now is."""

    async def set_owner(self, device_id: str, user_id: str | None) -> OwnerChange:
        """Record (or, with None, clear) the user who owns the device."""


class EnrollmentStore(Protocol):
    async def add(self, enrollment: Enrollment, token_hash: str) -> None: ...

    async def by_hash(self, token_hash: str) -> Enrollment | None: ...

    async def consume(self, enrollment_id: str, now: float) -> bool:
        """Take one use if one is left and the credential is unexpired (compare-and-set)."""

    async def release(self, enrollment_id: str) -> None:
        """Give back a use taken by a registration that then failed."""
