"""Tellus Open Platform: JSON token request, `{code, message, data}` envelope, numeric codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.charging import endpoints as charging
from voltgate.commands import channel
from voltgate.commands import endpoints as commands
from voltgate.devices import endpoints as devices
from voltgate.devices import service as devices_service
from voltgate.errors import TELLUS_ERRORS
from voltgate.http.guards import Guard
from voltgate.http.oauth import oauth_endpoint
from voltgate.http.routing import NO_STORE, Body, Call, RawResponse, RouteTable, json
from voltgate.http.shapes import envelope
from voltgate.identity.clients import ClientKind
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime
from voltgate.sites import endpoints as sites
from voltgate.telemetry import endpoints as telemetry


def token_envelope(token: dict[str, Any]) -> dict[str, Any]:
    # The Tellus guide's own sample reads `access_token`/`expires_in` from the top level while
    # its error contract is the envelope: both shapes are served so either client works.
    return {**envelope(token), **token}


def mount(table: RouteTable, rt: Runtime) -> None:
    identity = rt.identity
    tellus = table.scope(errors=TELLUS_ERRORS, tags=("tellus",))
    tellus.post(
        "/v1/operator/oauth/token",
        oauth_endpoint(identity.token_endpoint.handle, shape=token_envelope),
        body=Body.oauth(),
        failures=(429,),
        summary="Tellus token endpoint (JSON body, envelope)",
    )

    async def device_token(request: OAuthRequest) -> dict[str, Any]:
        """`POST /v1/device/token`: the token endpoint's client_credentials, for devices only."""
        return await identity.token_endpoint.handle(
            devices_service.token_request(request), kinds=(ClientKind.DEVICE,)
        )

    tellus.post(
        "/v1/device/token",
        oauth_endpoint(device_token, shape=token_envelope),
        body=Body.oauth(),
        failures=(429,),
        summary="Tellus device token {device_id, device_secret}",
    )
    telemetry_ingest = rt.fleet.telemetry.ingest

    async def ingest(call: Call[None, None, bytes]) -> RawResponse:
        """`POST /v1/device/telemetry` → 202 `{accepted: n}`; stored within a second."""
        accepted = await telemetry_ingest(call.principal.claims.client_id, call.body)
        return json(envelope({"accepted": accepted}), 202, NO_STORE)

    tellus.post(
        "/v1/device/telemetry",
        ingest,
        guard=Guard(kinds=(ClientKind.DEVICE.value,)).signed(),
        body=Body.raw(),
        status=202,
        failures=(429,),
        summary="Tellus charger telemetry (202 {accepted}; stored within a second)",
    )


def legacy(app: FastAPI) -> None:
    app.include_router(sites.tellus)
    app.include_router(devices.operator)
    app.include_router(devices.charger)
    app.include_router(commands.operator)
    app.include_router(channel.charger)
    for router in (telemetry.operator, telemetry.charger, charging.operator, charging.charger):
        app.include_router(router)
