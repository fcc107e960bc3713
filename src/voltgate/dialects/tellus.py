"""Tellus Open Platform: JSON token request, `{code, message, data}` envelope, numeric codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.charging import endpoints as charging
from voltgate.commands import channel
from voltgate.commands import endpoints as commands
from voltgate.devices import endpoints as devices
from voltgate.dialects.canonical import token
from voltgate.errors import tellus_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.http.fastpath import FastRouteTable
from voltgate.http.shapes import envelope
from voltgate.sites import endpoints as sites
from voltgate.telemetry import endpoints as telemetry


def token_envelope(token: dict[str, Any]) -> dict[str, Any]:
    # The Tellus guide's own sample reads `access_token`/`expires_in` from the top level while
    # its error contract is the envelope: both shapes are served so either client works.
    return {**envelope(token), **token}


def mount(app: FastAPI, fast: FastRouteTable) -> None:
    fast.add(
        "/v1/operator/oauth/token",
        ["POST"],
        oauth_endpoint(token, shape=token_envelope),
        tellus_body,
    )
    fast.add(
        "/v1/device/token",
        ["POST"],
        oauth_endpoint(devices.device_token, shape=token_envelope),
        tellus_body,
    )
    fast.add("/v1/device/telemetry", ["POST"], telemetry.ingest, tellus_body)
    app.include_router(sites.tellus)
    app.include_router(devices.operator)
    app.include_router(devices.charger)
    app.include_router(commands.operator)
    app.include_router(channel.charger)
    for router in (telemetry.operator, telemetry.charger, charging.operator, charging.charger):
        app.include_router(router)
