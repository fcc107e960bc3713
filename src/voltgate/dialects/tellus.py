"""Tellus Open Platform: JSON token request, `{code, message, data}` envelope, numeric codes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.errors import tellus_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def token_envelope(token: dict[str, Any]) -> dict[str, Any]:
    # The Tellus guide's own sample reads `access_token`/`expires_in` from the top level while
    # its error contract is the envelope: both shapes are served so either client works.
    return {**envelope(token), **token}


async def token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.token_endpoint.handle(request)


def mount(app: FastAPI) -> None:
    app.add_route(
        "/v1/operator/oauth/token",
        oauth_endpoint(token, tellus_body, shape=token_envelope),
        methods=["POST"],
    )
