"""`GET /api/1/products`: everything a user owns, as Tesla lists it: vehicles first, then energy
sites, each kind only when the token may reach it (vehicles with any vehicle scope, energy
sites with `energy_device_data`).

The answer is kept (`http.kept`) while the user's vehicles and sites are unchanged and for at
most a second (the vehicles' and sites' present is computed from the clock)."""

from __future__ import annotations

from typing_extensions import TypedDict

from voltgate.dialects.tesla.energy import READ, live_status
from voltgate.dialects.tesla.vehicles import VEHICLE_SCOPES
from voltgate.energy.schemas import EnergyProduct, product
from voltgate.energy.service import EnergySites
from voltgate.http.guards import Guard
from voltgate.http.kept import by_subject
from voltgate.http.routing import Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.vehicles.schemas import summary
from voltgate.vehicles.service import Vehicles
from voltgate.vehicles.views import VehicleSummary

OWNER = Guard(kinds=DELEGATED_KINDS)


class ProductList(TypedDict):
    response: list[VehicleSummary | EnergyProduct]
    count: int


class ProductRoutes:
    def __init__(self, vehicles: Vehicles, energy: EnergySites) -> None:
        self._vehicles = vehicles
        self._energy = energy

    async def list_products(self, call: Call[None, None, None]) -> ProductList:
        claims = call.principal.claims
        found: list[VehicleSummary | EnergyProduct] = []
        if not claims.scopes.isdisjoint(VEHICLE_SCOPES):
            owned = await self._vehicles.owned(claims.subject)
            found += [summary(vehicle, seen) for vehicle, seen in owned]
        if READ in claims.scopes:
            sites = await self._energy.of_user(claims.subject)
            found += [product(site, live_status(self._energy, site)) for site in sites]
        return {"response": found, "count": len(found)}


def mount(table: RouteTable, vehicles: Vehicles, energy: EnergySites) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = ProductRoutes(vehicles, energy)
    table.get(
        "/api/1/products",
        routes.list_products,
        guard=OWNER,
        keep=by_subject(vehicles.versions, energy.versions),
        response=ProductList,
        failures=(409,),  # listing vehicles settles finished charges: 409 if that keeps losing
        tags=("tesla: energy",),
        summary="The user's products: vehicles (any vehicle scope), then energy sites",
    )
