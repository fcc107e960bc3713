"""Tellus tokens: the operator's `POST /v1/operator/oauth/token` and the charger's
`POST /v1/device/token {device_id, device_secret}`, client credentials over the one token
endpoint, answered in the envelope."""

from __future__ import annotations

from typing import Any, Literal

from voltgate.devices.service import token_request
from voltgate.dialects.tellus.envelope import envelope
from voltgate.http.oauth import TokenResponse, oauth_endpoint
from voltgate.http.routing import Body, RouteTable
from voltgate.identity.clients import ClientKind
from voltgate.identity.endpoints import TokenEndpoint
from voltgate.identity.requests import OAuthRequest

TAGS = ("tellus",)


class TellusToken(TokenResponse):
    """The envelope, and the token at the top level as well."""

    code: Literal[0]
    message: Literal["success"]
    data: TokenResponse


def token_envelope(token: dict[str, Any]) -> dict[str, Any]:
    # The Tellus guide's own sample reads `access_token`/`expires_in` from the top level while
    # its error contract is the envelope: both shapes are served so either client works.
    return {**envelope(token), **token}


def mount(tellus: RouteTable, endpoint: TokenEndpoint) -> None:
    async def device_token(request: OAuthRequest) -> dict[str, Any]:
        """The token endpoint's client_credentials, for devices only."""
        return await endpoint.handle(token_request(request), kinds=(ClientKind.DEVICE,))

    tellus.post(
        "/v1/operator/oauth/token",
        oauth_endpoint(endpoint.handle, shape=token_envelope),
        body=Body.oauth(),
        response=TellusToken,
        failures=(401, 429),  # 401: the client (or device) credentials are wrong
        tags=TAGS,
        summary="Tellus token endpoint (JSON body, envelope)",
    )
    tellus.post(
        "/v1/device/token",
        oauth_endpoint(device_token, shape=token_envelope),
        body=Body.oauth(),
        response=TellusToken,
        failures=(401, 429),  # 401: the client (or device) credentials are wrong
        tags=TAGS,
        summary="Tellus device token {device_id, device_secret}",
    )
