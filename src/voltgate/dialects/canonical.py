"""voltgate's own OAuth paths: token, revocation, introspection, metadata and JWKS."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from voltgate.errors import rfc_body
from voltgate.http.adapter import oauth_endpoint, runtime
from voltgate.http.responses import json_response
from voltgate.identity.metadata import server_metadata
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime

# Scopes this deployment knows how to protect (Tellus, ev.energy and Tesla vocabularies).
KNOWN_SCOPES = ["read", "write"]


async def token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.token_endpoint.handle(request)


async def revoke(rt: Runtime, request: OAuthRequest) -> None:
    await rt.revocation_endpoint.handle(request)


async def introspect(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.introspection_endpoint.handle(request)


async def metadata(request: Request) -> Response:
    rt = runtime(request)
    body = server_metadata(rt.settings.issuer, rt.token_endpoint.grant_types, KNOWN_SCOPES)
    return json_response(body, headers={"Cache-Control": "public, max-age=300"})


async def jwks(request: Request) -> Response:
    ring = runtime(request).keys.ring
    assert ring is not None
    return Response(
        ring.jwks_json(),
        media_type="application/jwk-set+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


def mount(app: FastAPI) -> None:
    app.add_route("/oauth/token", oauth_endpoint(token, rfc_body), methods=["POST"])
    app.add_route("/oauth/revoke", oauth_endpoint(revoke, rfc_body), methods=["POST"])
    app.add_route("/oauth/introspect", oauth_endpoint(introspect, rfc_body), methods=["POST"])
    app.add_route("/.well-known/oauth-authorization-server", metadata, methods=["GET"])
    app.add_route("/.well-known/jwks.json", jwks, methods=["GET"])
