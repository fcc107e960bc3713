"""The virtual-keys domain's records and the storage interface it owns (`repository.py`
implements it for SQLite and PostgreSQL, `readmodel.py` holds it in memory)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

# The roles a key may hold on a vehicle, with their numbers in vehicle-command's keys.proto.
ROLES = {
    "owner": 2,
    "driver": 3,
    "fleet_manager": 4,
    "vehicle_monitor": 5,
    "charging_manager": 6,
}


@dataclass(frozen=True, slots=True)
class PairedKey:
    vin: str
    client_id: str  # the app whose key it is
    public_key: bytes  # the uncompressed P-256 point, 65 bytes
    role: str  # a name in ROLES
    user_id: str  # the owner who paired it
    paired_at: float


class VehicleKey(NamedTuple):
    """What a vehicle needs of a paired key to verify a command signed with it."""

    public_key: bytes
    role: str
    client_id: str


class PairingStore(Protocol):
    async def pair(self, keys: Sequence[PairedKey]) -> None:
        """Store them (a key paired again takes the new role, owner and time)."""

    async def unpair(self, vin: str, client_id: str, public_key: bytes) -> bool:
        """Remove one: whether it was there."""

    async def unpair_app(self, client_id: str, user_id: str) -> list[PairedKey]:
        """Remove every key of the app the user paired: the ones removed."""

    async def of_vehicle(self, vin: str) -> list[PairedKey]:
        """The vehicle's keys, by app then key."""
