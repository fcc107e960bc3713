"""`GET /api/1/products`: everything a user owns, as Tesla lists it: vehicles first, then
energy sites."""

from __future__ import annotations

from typing import Any

from voltgate.energy.schemas import product
from voltgate.runtime import Runtime
from voltgate.vehicles.endpoints import VEHICLE_SCOPES
from voltgate.vehicles.schemas import summary


async def products(
    rt: Runtime, user_id: str, scopes: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """The user's products. With `scopes` (the token's), a kind of product is listed only when
    the token may reach it: vehicles with any vehicle scope, energy sites with
    `energy_device_data`."""
    found: list[dict[str, Any]] = []
    if scopes is None or not scopes.isdisjoint(VEHICLE_SCOPES):
        found += [
            summary(vehicle, seen) for vehicle, seen in await rt.owner.vehicles.owned(user_id)
        ]
    if scopes is None or "energy_device_data" in scopes:
        sites = await rt.owner.energy.of_user(user_id)
        found += [product(site, rt.owner.energy.live_status(site)) for site in sites]
    return found
