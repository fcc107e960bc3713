"""Devices: registration into an operator's fleet, the operator's view of its chargers,
connectivity, and the device's own secret rotation.

Every read takes the operator explicitly and sees only that operator's devices; another
operator's device is 404, so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog

from voltgate.clock import Clock
from voltgate.devices.enrollment import Enrollments
from voltgate.devices.schemas import DeviceRegistration
from voltgate.devices.store import (
    MAX_CONNECTORS,
    Connector,
    Device,
    DeviceStore,
    OwnerChange,
    SerialTaken,
)
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity.admin import ClientAdmin
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import ClientKind
from voltgate.identity.requests import OAuthRequest
from voltgate.pagination import Page, Slice, check_size, decode_cursor, offset_of, slice_of

log = structlog.get_logger("voltgate.devices")

DEVICE_SCOPE = "device"
# Told of a charger as it now is, after a registration or a learned connector has committed
# (the public charge-point catalogue publishes it); idempotent.
DeviceListener = Callable[[Device], Awaitable[object]]
# As for client secrets: the old device secret keeps working this long after a rotation.
SECRET_OVERLAP = 86_400


@dataclass(frozen=True, slots=True)
class Registered:
    device: Device
    secret: str


@dataclass(frozen=True, slots=True)
class RotatedSecret:
    secret: str
    overlap: int
    previous_expires_at: float


def token_request(request: OAuthRequest) -> OAuthRequest:
    """`{device_id, device_secret, grant_type}` as the client_credentials request it is."""
    device_id, secret = request.get("device_id"), request.get("device_secret")
    if device_id is None or secret is None:
        raise ValidationFailed("device_id and device_secret are required")
    params = {"client_id": device_id, "client_secret": secret}
    for name in ("grant_type", "scope"):
        if name in request.params:
            params[name] = request.params[name]
    # Credentials come from the body only: no Authorization header to mix them with.
    return OAuthRequest(params, None, request.address, request.request_id, request.headers)


class Devices:
    def __init__(
        self,
        store: DeviceStore,
        enrollments: Enrollments,
        admin: ClientAdmin,
        clock: Clock,
        audit: AuditLog,
        listeners: Sequence[DeviceListener] = (),
    ) -> None:
        self._store = store
        self._listeners = tuple(listeners)
        self.versions = store.versions  # per operator: what kept answers are made from
        self.owners = store.owners  # per owning user: which chargers are whose
        self._enrollments = enrollments
        self._admin = admin
        self._clock = clock
        self._audit = audit

    async def register(
        self,
        authorization: str | None,
        spec: DeviceRegistration,
        *,
        request_id: str | None = None,
        address: str | None = None,
    ) -> Registered:
        """A new device client bound to the enrolling operator (and site); its secret once."""
        admission = await self._enrollments.admit(authorization)
        if await self._store.serial_taken(spec.sn):
            raise Conflict(f"a device with serial {spec.sn!r} is already registered")
        await self._enrollments.consume(admission)
        created = await self._admin.create(
            name=f"charger {spec.sn}", kind=ClientKind.DEVICE.value, scopes=DEVICE_SCOPE
        )
        assert created.secret is not None  # a device client is confidential
        device = Device(
            id=created.client.id,
            operator_id=admission.operator_id,
            site_id=admission.site_id,
            serial=spec.sn,
            model=spec.model,
            manufacturer=spec.manufacturer,
            firmware_version=spec.firmware_version,
            mac=spec.mac,
            created_at=self._clock.now(),
            connectors=tuple(
                Connector(n, c.type, c.max_power_kw) for n, c in enumerate(spec.connectors, 1)
            ),
            learns_connectors=not spec.connectors,
        )
        try:
            await self._store.add(device)
        except SerialTaken:
            # A concurrent registration of the same serial won: undo this one's traces.
            await self._admin.disable(device.id, via="registration")
            await self._enrollments.release(admission)
            raise Conflict(f"a device with serial {spec.sn!r} is already registered") from None
        await self._audit.record(
            "device_registered",
            client_id=device.id,
            request_id=request_id,
            address=address,
            operator_id=device.operator_id,
            site_id=device.site_id,
            enrollment_id=admission.enrollment_id,
        )
        await self._told(device)
        return Registered(device, created.secret)

    async def get(self, operator_id: str, device_id: str) -> Device:
        # A NUL is never in an id, and PostgreSQL text refuses it.
        found = None if "\x00" in device_id else await self._store.get(operator_id, device_id[:64])
        if found is None:
            raise NotFound(f"no device {device_id[:64]!r}")
        return found

    async def find(self, device_id: str) -> Device | None:
        """A device by its own id (the device's token names it), whoever operates it."""
        return None if "\x00" in device_id else await self._store.by_id(device_id[:64])

    async def all(self) -> list[Device]:
        """Every charger, whoever operates it (for start-up work over the whole fleet)."""
        return await self._store.all()

    async def page(self, operator_id: str, page: int, size: int) -> Page[Device]:
        items, total = await self._store.page(operator_id, offset_of(page, size), size)
        return Page(items, total, page, size)

    async def scroll(self, operator_id: str, cursor: str | None, limit: int) -> Slice[Device]:
        check_size(limit, "limit")
        rows = await self._store.after(operator_id, decode_cursor(cursor), limit + 1)
        return slice_of(rows, limit, lambda device: device.id)

    async def touch(self, device_id: str, at: float) -> bool:
        """The device was heard from at `at` (heartbeat): it shows online for the next 90 s."""
        return await self._store.touch(device_id, at)

    async def heard(self, device_id: str, at: float, named: list[Connector]) -> bool:
        """A heartbeat at `at` naming these connectors (learned if the charger learns them)."""
        device = await self.find(device_id) if named else None
        if device is not None:
            await self.learn(device, named)
        return await self.touch(device_id, at)

    async def learn(self, device: Device, reported: Iterable[Connector]) -> Device:
        """The connectors a charger's report names (with their type and power if it says), for
        a charger that learns them: a number it does not have yet is added, a type or power
        other than the held one is set. All held already (the common case): no write. A
        charger registered with connectors keeps exactly those: its reports only name them."""
        if not device.learns_connectors:
            return device
        held = {c.number: c for c in device.connectors}
        news: dict[int, Connector] = {}
        for port in reported:
            if not port.told(held.get(port.number)):
                continue
            if not 1 <= port.number <= MAX_CONNECTORS:
                raise ValidationFailed(f"connector numbers are 1 to {MAX_CONNECTORS}")
            prior = news.get(port.number)  # named twice in one report: what either says
            if prior is not None:
                port = Connector(
                    port.number,
                    port.type or prior.type,
                    prior.max_power_kw if port.max_power_kw is None else port.max_power_kw,
                )
            news[port.number] = port
        if not news:
            return device
        # In number order: racing reports lock the rows in one order (no deadlock).
        learned = await self._store.learn(device.id, sorted(news.values(), key=_number))
        if learned is None:
            return device
        await self._told(learned)
        return learned

    async def _told(self, device: Device) -> None:
        """Tell the listeners; the change is stored already, so a listener failing is logged
        (a server's start tells them every charger again)."""
        for listener in self._listeners:
            try:
                await listener(device)
            except Exception:
                log.exception("device_listener_failed", device_id=device.id)

    async def set_owner(self, device_id: str, user_id: str | None) -> Device:
        """Make `user_id` the owner of a (home) charger, or with None clear its owner; the owner
        sees its sessions through apps they consent to (`/v2/charging_sessions`)."""
        if "\x00" in device_id or (user_id is not None and "\x00" in user_id):
            raise NotFound("no such device or user")
        result = await self._store.set_owner(device_id[:64], user_id)
        if result is OwnerChange.NO_DEVICE:
            raise NotFound(f"no device {device_id[:64]!r}")
        if result is OwnerChange.NO_USER:
            raise NotFound(f"no user {user_id!r}")
        await self._audit.record("device_owner_set", client_id=device_id, owner=user_id)
        found = await self._store.by_id(device_id[:64])
        assert found is not None
        return found

    async def rotate_secret(
        self, device_id: str, overlap: int = SECRET_OVERLAP, *, request_id: str | None = None
    ) -> RotatedSecret:
        """A new device secret; the current one keeps working for `overlap` seconds."""
        secret = await self._admin.rotate_secret(
            device_id, overlap, request_id=request_id, via="device"
        )
        return RotatedSecret(secret, overlap, self._clock.now() + overlap)


def _number(port: Connector) -> int:
    return port.number
