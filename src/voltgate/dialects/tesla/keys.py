"""Virtual keys on the Tesla Fleet API: `POST /api/1/vehicles/fleet_status {vins}` says which of
the vehicles hold the calling app's key (the one it registered with `/api/1/partner_accounts`)
and, for the user's own vehicles, their details (`vehicle_info`).

A user's delegated token (kinds `third_party`, `open_source`) with any vehicle scope. A VIN that
is not the user's vehicle (another user's, or none at all) is listed in `unpaired_vins`, with no
`vehicle_info`: an app learns nothing of vehicles it was not given.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from voltgate.dialects.tesla.vehicles import ANY_VEHICLE_SCOPE
from voltgate.fleettelemetry.configs.schemas import MAX_VINS, VIN
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.virtualkeys.service import VirtualKeys


class FleetStatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    vins: list[str] = Field(min_length=1, max_length=MAX_VINS)

    @field_validator("vins")
    @classmethod
    def _vins(cls, value: list[str]) -> list[str]:
        vins = [vin.upper() for vin in value]
        bad = [vin for vin in vins if not VIN.match(vin)]
        if bad:
            raise ValueError(f"{bad[0][:32]!r} is not a VIN (17 letters and digits, no I, O, Q)")
        return list(dict.fromkeys(vins))


class VehicleInfo(TypedDict):
    firmware_version: str
    vehicle_command_protocol_required: bool
    discounted_device_data: bool
    fleet_telemetry_version: str
    total_number_of_keys: int


class FleetStatus(TypedDict):
    key_paired_vins: list[str]
    unpaired_vins: list[str]
    vehicle_info: dict[str, VehicleInfo]


class FleetStatusResponse(TypedDict):
    response: FleetStatus


class KeyRoutes:
    def __init__(self, keys: VirtualKeys) -> None:
        self._keys = keys

    async def fleet_status(self, call: Call[None, None, FleetStatusRequest]) -> FleetStatusResponse:
        claims = call.principal.claims
        status = await self._keys.fleet_status(claims.subject, claims.client_id, call.body.vins)
        return {
            "response": {
                "key_paired_vins": status.key_paired_vins,
                "unpaired_vins": status.unpaired_vins,
                "vehicle_info": {
                    vin: {
                        "firmware_version": info.firmware_version,
                        "vehicle_command_protocol_required": (
                            info.vehicle_command_protocol_required
                        ),
                        "discounted_device_data": info.discounted_device_data,
                        "fleet_telemetry_version": info.fleet_telemetry_version,
                        "total_number_of_keys": info.total_number_of_keys,
                    }
                    for vin, info in status.vehicle_info.items()
                },
            }
        }


def mount(table: RouteTable, keys: VirtualKeys) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = KeyRoutes(keys)
    table.post(
        "/api/1/vehicles/fleet_status",
        routes.fleet_status,
        guard=ANY_VEHICLE_SCOPE,
        body=Body.json(FleetStatusRequest),
        response=FleetStatusResponse,
        tags=("tesla: vehicles",),
        summary="Which of the vehicles hold the app's virtual key (any vehicle scope)",
        description=(
            "Body `{vins: [VIN, …]}` (1 to 100). A vehicle is in `key_paired_vins` when it holds "
            "the public key the app registered now; the user's own vehicles also get "
            "`vehicle_info`; any other VIN is in `unpaired_vins`."
        ),
    )
