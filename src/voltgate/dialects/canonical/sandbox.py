"""The sandbox's vehicle controls, `/sandbox/vehicles/{vin}`: make a simulated vehicle do what a
car does in the world (plug in, unplug, drive somewhere, lose charge) and read its state.
Mounted only when the server runs as a sandbox; anywhere else the paths are 404.

Who may: the vehicle's owner (a user's delegated token with any vehicle scope: their own
vehicles, another's is 404 like a missing one) or an admin (`voltgate:admin`: any vehicle).
Each change goes through the vehicle's change queue (`sandbox.controls`), so the simulated car
streams it over Fleet Telemetry and every API read sees it, as after a command.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.errors import RESOURCE_ERRORS, Forbidden
from voltgate.http.guards import ANY_TOKEN
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.guard import Principal
from voltgate.sandbox import controls
from voltgate.vehicles.physics import Present, settle
from voltgate.vehicles.service import Vehicles
from voltgate.vehicles.store import Vehicle

ADMIN_SCOPE = "voltgate:admin"
VEHICLE_SCOPES = (
    "vehicle_device_data",
    "vehicle_location",
    "vehicle_cmds",
    "vehicle_charging_cmds",
)
_WHO = (
    "the sandbox's vehicle controls need the vehicle owner's token (a user's delegated token "
    "with a vehicle scope) or a voltgate:admin token"
)


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # strict: JSON numbers only (true is not 1, "45" is not 45)
    latitude: float = Field(ge=-90, le=90, strict=True)
    longitude: float = Field(ge=-180, le=180, strict=True)
    name: str | None = Field(
        default=None, min_length=1, max_length=100, description="what the place is called"
    )


class Battery(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    level: float = Field(ge=0, le=100, strict=True, description="state of charge, percent")


class SandboxVehicle(TypedDict):
    vin: str
    display_name: str
    state: str  # online | asleep
    command_signing: str
    plugged_in: bool
    charging_state: str
    battery_level: float
    charge_limit: int
    latitude: float
    longitude: float
    location_name: str
    odometer: float  # miles
    climate_on: bool


def view(vehicle: Vehicle, seen: Present) -> SandboxVehicle:
    return {
        "vin": vehicle.vin,
        "display_name": vehicle.display_name,
        "state": seen.state,
        "command_signing": vehicle.command_signing,
        "plugged_in": vehicle.plugged_in,
        "charging_state": seen.charging_state if vehicle.plugged_in else "Disconnected",
        "battery_level": round(seen.level, 2),
        "charge_limit": vehicle.charge_limit,
        "latitude": vehicle.latitude,
        "longitude": vehicle.longitude,
        "location_name": vehicle.location_name,
        "odometer": round(vehicle.odometer_mi, 1),
        "climate_on": vehicle.climate_on,
    }


def whose(principal: Principal) -> str | None:
    """The user whose vehicles the caller may handle; None for an admin (anyone's)."""
    claims = principal.claims
    if ADMIN_SCOPE in claims.scopes:
        return None
    if claims.kind not in DELEGATED_KINDS:
        raise Forbidden(_WHO)
    principal.require_any(*VEHICLE_SCOPES)
    return claims.subject


class SandboxRoutes:
    def __init__(self, vehicles: Vehicles) -> None:
        self._vehicles = vehicles

    async def _handle(self, call: Call[None, None, Any], act: controls.Act) -> SandboxVehicle:
        user = whose(call.principal)
        return view(*await self._vehicles.handle(user, call.params["vin"], act))

    async def show(self, call: Call[None, None, None]) -> SandboxVehicle:
        user = whose(call.principal)
        return view(*await self._vehicles.handle(user, call.params["vin"], settle))

    async def plug_in(self, call: Call[None, None, None]) -> SandboxVehicle:
        return await self._handle(call, controls.plug_in)

    async def unplug(self, call: Call[None, None, None]) -> SandboxVehicle:
        return await self._handle(call, controls.unplug)

    async def location(self, call: Call[None, None, Location]) -> SandboxVehicle:
        body = call.body
        act = controls.move(body.latitude, body.longitude, body.name)
        return await self._handle(call, act)

    async def battery(self, call: Call[None, None, Battery]) -> SandboxVehicle:
        return await self._handle(call, controls.battery(call.body.level))


def mount(table: RouteTable, vehicles: Vehicles) -> None:
    routes = SandboxRoutes(vehicles)
    api = table.scope(
        "/sandbox/vehicles/{vin}",
        errors=RESOURCE_ERRORS,
        guard=ANY_TOKEN,
        tags=("sandbox",),
        response=SandboxVehicle,
    )
    api.get(
        "",
        routes.show,
        failures=(404, 409),
        summary="A sandbox vehicle's state (sandbox only; its owner's token or voltgate:admin)",
    )
    api.post(
        "/plug_in",
        routes.plug_in,
        failures=(404, 409),
        summary="Plug the vehicle in: it charges at once below its limit (sandbox only)",
        description="Already plugged in: nothing changes. Scheduled charging on: `Stopped`; "
        "at or above the limit: `Complete`.",
    )
    api.post(
        "/unplug",
        routes.unplug,
        failures=(404, 409),
        summary="Unplug the vehicle: a charge under way stops (sandbox only)",
    )
    api.post(
        "/location",
        routes.location,
        body=Body.json(Location, max_bytes=1024),
        failures=(404, 409),
        summary="Drive the vehicle to a place (sandbox only; 409 while plugged in)",
        description='`{"latitude": -90..90, "longitude": -180..180, "name"?: text}` (numbers, '
        "not strings or booleans); the odometer grows by the great-circle distance; without "
        "`name` the location name is cleared.",
    )
    api.post(
        "/battery",
        routes.battery,
        body=Body.json(Battery, max_bytes=1024),
        failures=(404, 409),
        summary="Set the battery's state of charge, 0-100 % (sandbox only; a number)",
        description="While charging, the charge goes on from the new level (at or above the "
        "limit it completes).",
    )
