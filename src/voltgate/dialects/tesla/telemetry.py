"""Fleet Telemetry configs on the Tesla Fleet API: `POST /api/1/vehicles/fleet_telemetry_config`,
`GET` and `DELETE /api/1/vehicles/{vehicle}/fleet_telemetry_config`, in `{"response": …}`
bodies.

A user's delegated token (kinds `third_party`, `open_source`) with `vehicle_device_data`, the
scope Tesla's endpoint reference names for all three (the config only says what the vehicle
streams to the app: reading its data). The config is the calling app's own: each app sees and
deletes only what it set. `{vehicle}` is the vehicle's VIN or id; another user's vehicle is
404 exactly like a missing one, and a POST naming one changes nothing.
"""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

from voltgate.fleettelemetry.configs.schemas import ConfigRequest
from voltgate.fleettelemetry.configs.service import TelemetryConfigs
from voltgate.http.guards import Guard
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS

CONFIGURER = Guard(kinds=DELEGATED_KINDS, scopes=("vehicle_device_data",))


class SkippedVehicles(TypedDict):
    missing_key: list[str]
    unsupported_hardware: list[str]
    unsupported_firmware: list[str]
    max_configs: list[str]


class Configured(TypedDict):
    updated_vehicles: int
    skipped_vehicles: SkippedVehicles


class ConfiguredResponse(TypedDict):
    response: Configured


class FieldShown(TypedDict):
    interval_seconds: int
    minimum_delta: NotRequired[float]
    resend_interval_seconds: NotRequired[int]


class ConfigShown(TypedDict):
    hostname: str
    port: int
    ca: NotRequired[str]
    fields: dict[str, FieldShown]
    alert_types: NotRequired[list[str]]
    exp: NotRequired[int]
    prefer_typed: NotRequired[bool]


class VehicleTelemetryConfig(TypedDict):
    synced: bool
    config: ConfigShown | None
    limit_reached: bool
    key_paired: bool


class ConfigResponse(TypedDict):
    response: VehicleTelemetryConfig


class Deleted(TypedDict):
    updated_vehicles: int


class DeletedResponse(TypedDict):
    response: Deleted


class TelemetryRoutes:
    def __init__(self, configs: TelemetryConfigs) -> None:
        self._configs = configs

    async def create(self, call: Call[None, None, ConfigRequest]) -> ConfiguredResponse:
        claims = call.principal.claims
        body = call.body
        updated, skipped = await self._configs.configure(
            claims.subject, claims.client_id, body.vins, body.config.telemetry_config()
        )
        return {
            "response": {
                "updated_vehicles": updated,
                "skipped_vehicles": {
                    "missing_key": skipped.missing_key,
                    "unsupported_hardware": skipped.unsupported_hardware,
                    "unsupported_firmware": skipped.unsupported_firmware,
                    "max_configs": skipped.max_configs,
                },
            }
        }

    async def show(self, call: Call[None, None, None]) -> ConfigResponse:
        claims = call.principal.claims
        shown = await self._configs.show(claims.subject, claims.client_id, call.params["vehicle"])
        config: Any = None if shown.config is None else shown.config.document()
        return {
            "response": {
                "synced": shown.synced,
                "config": config,
                "limit_reached": shown.limit_reached,
                "key_paired": shown.key_paired,
            }
        }

    async def remove(self, call: Call[None, None, None]) -> DeletedResponse:
        claims = call.principal.claims
        count = await self._configs.remove(claims.subject, claims.client_id, call.params["vehicle"])
        return {"response": {"updated_vehicles": count}}


_CREATE_DOC = (
    "Body `{vins: [VIN, …] (1 to 100), config: {hostname, port? (443), ca? (PEM), fields: "
    "{FieldName: {interval_seconds (1 to 86400), minimum_delta? (≥ 0), resend_interval_seconds?}}, "
    "alert_types? (customer, service, service_fix), exp? (Unix seconds, in the future), "
    "prefer_typed?}}`. Field names are Fleet Telemetry's `Field` names (Soc, BatteryLevel, "
    "Location …). Vehicles that cannot take it are listed under `skipped_vehicles` by reason."
)


def mount(table: RouteTable, configs: TelemetryConfigs) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = TelemetryRoutes(configs)
    api = table.scope("/api/1/vehicles", tags=("tesla: fleet telemetry",), guard=CONFIGURER)
    api.post(
        "/fleet_telemetry_config",
        routes.create,
        body=Body.json(ConfigRequest),
        response=ConfiguredResponse,
        failures=(404,),
        summary="Configure the user's vehicles to stream to the app (vehicle_device_data)",
        description=_CREATE_DOC,
    )
    api.get(
        "/{vehicle}/fleet_telemetry_config",
        routes.show,
        response=ConfigResponse,
        failures=(404,),
        summary="The app's telemetry config of the vehicle, and whether the vehicle runs it",
    )
    api.delete(
        "/{vehicle}/fleet_telemetry_config",
        routes.remove,
        response=DeletedResponse,
        failures=(404,),
        summary="Delete the app's telemetry config of the vehicle",
    )
