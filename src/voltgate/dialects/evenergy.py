"""ev.energy: `/o/token` (form, Basic or body credentials) and `/o/revoke_token/`.

The revocation path requires its trailing slash, as ev.energy's does: without it, 405.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from voltgate.errors import MethodNotAllowed, rfc_body
from voltgate.http.adapter import oauth_endpoint
from voltgate.http.responses import error_response
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime


async def token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.token_endpoint.handle(request)


async def revoke(rt: Runtime, request: OAuthRequest) -> None:
    await rt.revocation_endpoint.handle(request)


async def revoke_without_slash(request: Request) -> Response:
    exc = MethodNotAllowed("the revocation URL needs its trailing slash: /o/revoke_token/")
    return error_response(exc, rfc_body, {"Allow": ""})


def mount(app: FastAPI) -> None:
    app.add_route("/o/token", oauth_endpoint(token, rfc_body), methods=["POST"])
    app.add_route("/o/revoke_token/", oauth_endpoint(revoke, rfc_body), methods=["POST"])
    app.add_route("/o/revoke_token", revoke_without_slash, methods=["GET", "POST", "PUT", "DELETE"])
