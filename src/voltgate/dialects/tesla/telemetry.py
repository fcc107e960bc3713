"""Fleet Telemetry configs on the Tesla Fleet API: `POST /api/1/vehicles/fleet_telemetry_config`
(the config as JSON) and `POST /api/1/vehicles/fleet_telemetry_config_jws` (signed as a JWS),
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

from voltgate.fleettelemetry.configs.schemas import ConfigRequest, SignedConfigRequest
from voltgate.fleettelemetry.configs.service import Skipped, TelemetryConfigs
from voltgate.fleettelemetry.configs.signed import signed_config
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
    iss: NotRequired[str]  # a signed config: its signer's public key (base64)
    aud: NotRequired[str]  # … and its audience, com.tesla.fleet.TelemetryClient


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
        return _configured(updated, skipped)

    async def create_signed(
        self, call: Call[None, None, SignedConfigRequest]
    ) -> ConfiguredResponse:
        claims = call.principal.claims
        signed = signed_config(call.body.token)
        updated, skipped = await self._configs.configure(
            claims.subject, claims.client_id, call.body.vins, signed.config, signed.signer
        )
        return _configured(updated, skipped)

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


def _configured(updated: int, skipped: Skipped) -> ConfiguredResponse:
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


_CREATE_DOC = (
    "Body `{vins: [VIN, …] (1 to 100), config: {hostname, port? (443), ca? (PEM), fields: "
    "{FieldName: {interval_seconds (1 to 86400), minimum_delta? (≥ 0), resend_interval_seconds?}}, "
    "alert_types? (customer, service, service_fix), exp? (Unix seconds, in the future), "
    "prefer_typed?}}`. Field names are Fleet Telemetry's `Field` names (Soc, BatteryLevel, "
    "Location …). Vehicles that cannot take it are listed under `skipped_vehicles` by reason; "
    "a vehicle that requires the vehicle command protocol takes only a signed config "
    "(`fleet_telemetry_config_jws`) and is skipped as `missing_key` here."
)
_CREATE_SIGNED_DOC = (
    "Body `{vins: [VIN, …] (1 to 100), token: JWS}`: the config of `fleet_telemetry_config` as "
    "the claims of a JWS signed with `Tesla.SS256` (Schnorr over P-256) by the app's key, "
    "`iss` the key (base64 of the 65-byte point) and `aud` `com.tesla.fleet.TelemetryClient` "
    "(what the vehicle command proxy and `tesla-jws` make). A vehicle whose paired keys do not "
    "include the signer is skipped as `missing_key`. A token that does not verify is 400 "
    "naming the failure."
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
    api.post(
        "/fleet_telemetry_config_jws",
        routes.create_signed,
        body=Body.json(SignedConfigRequest),
        response=ConfiguredResponse,
        failures=(404,),
        summary="Configure the user's vehicles with a config signed by a paired key "
        "(vehicle_device_data)",
        description=_CREATE_SIGNED_DOC,
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
