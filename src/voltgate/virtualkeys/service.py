"""Virtual keys: an owner pairs an app's public key with their vehicles in a role (the `_ak`
page), sees and removes them (the account page), and they go when the owner disconnects the
app. An app asks which of the user's vehicles hold its key (`fleet_status`); a vehicle reads
the keys it holds (`keys_for`) and learns when they change (`version`, `listen`).

Only the owner's own vehicles are reached: a VIN that is another user's is 404 when pairing,
exactly like one that does not exist; in `fleet_status` it is unpaired, with no details.
An app's key counts as paired with a vehicle when the vehicle holds the key the app has
registered now: after the app registers a rotated key, its vehicles need pairing again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from voltgate.clock import Clock
from voltgate.errors import NotFound, ValidationFailed
from voltgate.vehicles.schemas import CAR_VERSION
from voltgate.vehicles.store import Vehicle
from voltgate.virtualkeys.readmodel import Listener
from voltgate.virtualkeys.store import ROLES, PairedKey, PairingStore, VehicleKey

FIRMWARE_VERSION = CAR_VERSION.split()[0]
FLEET_TELEMETRY_VERSION = "1.0.0"  # the Fleet Telemetry protocol the vehicles speak


class Owned(Protocol):
    """A user's vehicles (`vehicles.service.Vehicles`)."""

    async def of_user(self, user_id: str) -> list[Vehicle]: ...

    async def reread(self, user_id: str) -> list[Vehicle]: ...


class Registered(Protocol):
    """Apps' registered public keys (`identity.partners.Partners`)."""

    async def key_of(self, client_id: str) -> bytes | None: ...


class Watched(PairingStore, Protocol):
    def listen(self, listener: Listener) -> None: ...

    async def version(self, vin: str) -> int: ...


# Whether a vehicle refuses unsigned commands (the vehicle command protocol decides).
ProtocolRequirement = Callable[[Vehicle], bool]


def no_vehicle_requires_it(_vehicle: Vehicle) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class VehicleInfo:
    firmware_version: str
    vehicle_command_protocol_required: bool
    discounted_device_data: bool
    fleet_telemetry_version: str
    total_number_of_keys: int


@dataclass(frozen=True, slots=True)
class FleetStatus:
    key_paired_vins: list[str]
    unpaired_vins: list[str]
    vehicle_info: dict[str, VehicleInfo]


class VirtualKeys:
    def __init__(
        self,
        store: Watched,
        vehicles: Owned,
        apps: Registered,
        clock: Clock,
        protocol_required: ProtocolRequirement = no_vehicle_requires_it,
    ) -> None:
        self._store = store
        self._vehicles = vehicles
        self._apps = apps
        self._clock = clock
        self._protocol_required = protocol_required

    # The owner's side.

    async def pair(
        self, user_id: str, client_id: str, public_key: bytes, vins: Sequence[str], role: str
    ) -> list[PairedKey]:
        """Add the app's key to the user's vehicles named by `vins`, in `role`."""
        if role not in ROLES:
            raise ValidationFailed(f"role must be one of: {', '.join(ROLES)}")
        wanted = list(dict.fromkeys(vin.upper() for vin in vins))
        if not wanted:
            raise ValidationFailed("choose at least one vehicle")
        owned = await self._owned(user_id, wanted)
        missing = next((vin for vin in wanted if vin not in owned), None)
        if missing is not None:
            raise NotFound(f"no vehicle {missing[:32]!r}")
        now = self._clock.now()
        keys = [PairedKey(vin, client_id, public_key, role, user_id, now) for vin in wanted]
        await self._store.pair(keys)
        return keys

    async def remove(self, user_id: str, vin: str, client_id: str, public_key: bytes) -> bool:
        """Remove a key from one of the user's vehicles: whether it was there."""
        if vin.upper() not in await self._owned(user_id, [vin.upper()]):
            raise NotFound(f"no vehicle {vin[:32]!r}")
        return await self._store.unpair(vin.upper(), client_id, public_key)

    async def of_user(self, user_id: str) -> list[tuple[Vehicle, list[PairedKey]]]:
        """Each of the user's vehicles with the keys it holds."""
        return [
            (vehicle, await self._store.of_vehicle(vehicle.vin))
            for vehicle in await self._vehicles.of_user(user_id)
        ]

    async def app_disconnected(self, user_id: str, client_id: str) -> None:
        """The user withdrew the app's access: the app's keys the user paired go."""
        await self._store.unpair_app(client_id, user_id)

    # The app's side.

    async def fleet_status(self, user_id: str, client_id: str, vins: Sequence[str]) -> FleetStatus:
        """Which of `vins` hold the app's registered key; details of the user's own only."""
        wanted = list(dict.fromkeys(vin.upper() for vin in vins))
        owned = await self._owned(user_id, wanted)
        key = await self._apps.key_of(client_id)
        status = FleetStatus([], [], {})
        for vin in wanted:
            vehicle = owned.get(vin)
            if vehicle is None:
                status.unpaired_vins.append(vin)
                continue
            held = await self._store.of_vehicle(vin)
            mine = key is not None and any(
                k.client_id == client_id and k.public_key == key for k in held
            )
            (status.key_paired_vins if mine else status.unpaired_vins).append(vin)
            status.vehicle_info[vin] = VehicleInfo(
                firmware_version=FIRMWARE_VERSION,
                vehicle_command_protocol_required=self._protocol_required(vehicle),
                discounted_device_data=False,
                fleet_telemetry_version=FLEET_TELEMETRY_VERSION,
                total_number_of_keys=len({k.public_key for k in held}),
            )
        return status

    async def paired(self, client_id: str, vin: str) -> bool:
        """Whether the vehicle holds the app's registered key (telemetry configs ask this)."""
        key = await self._apps.key_of(client_id)
        if key is None:
            return False
        return any(
            k.client_id == client_id and k.public_key == key
            for k in await self._store.of_vehicle(vin.upper())
        )

    # The vehicle's side.

    async def keys_for(self, vin: str) -> list[VehicleKey]:
        """The keys the vehicle holds: (public key point, role, app client id)."""
        return [
            VehicleKey(k.public_key, k.role, k.client_id)
            for k in await self._store.of_vehicle(vin.upper())
        ]

    async def version(self, vin: str) -> int:
        """A number that grows whenever the vehicle's keys change: take `keys_for` again."""
        return await self._store.version(vin.upper())

    def listen(self, listener: Listener) -> None:
        """`listener(vins)` (synchronous, must not raise) whenever those vehicles' keys
        changed in this process's view: a pairing here, or one heard from elsewhere."""
        self._store.listen(listener)

    async def _owned(self, user_id: str, vins: Sequence[str]) -> dict[str, Vehicle]:
        """The user's vehicles by VIN; read again as stored when `vins` names one not held
        (added by another instance a moment ago?)."""
        owned = {v.vin: v for v in await self._vehicles.of_user(user_id)}
        if any(vin not in owned for vin in vins):
            owned = {v.vin: v for v in await self._vehicles.reread(user_id)}
        return owned
