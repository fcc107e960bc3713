"""voltgate's own paths: token, revocation, introspection, metadata, JWKS, `/v1/me`, health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.errors import resource_body, rfc_body
from voltgate.http import fastpath
from voltgate.http.adapter import authenticate, oauth_endpoint, runtime
from voltgate.http.fastpath import FastRouteTable, RawRequest, RawResponse
from voltgate.identity.metadata import server_metadata
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime

# Scopes this deployment knows how to protect (Tellus, ev.energy and Tesla vocabularies).
KNOWN_SCOPES = ["read", "write"]
PUBLIC_CACHE = [(b"cache-control", b"public, max-age=300")]


async def token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.token_endpoint.handle(request)


async def revoke(rt: Runtime, request: OAuthRequest) -> None:
    await rt.revocation_endpoint.handle(request)


async def introspect(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.introspection_endpoint.handle(request)


async def metadata(request: RawRequest) -> RawResponse:
    rt = runtime(request)
    body = server_metadata(rt.settings.issuer, rt.token_endpoint.grant_types, KNOWN_SCOPES)
    return fastpath.json(body, 200, PUBLIC_CACHE)


async def jwks(request: RawRequest) -> RawResponse:
    ring = runtime(request).keys.ring
    assert ring is not None
    headers = [(b"content-type", b"application/jwk-set+json"), *PUBLIC_CACHE]
    return RawResponse(200, ring.jwks_json(), headers)


async def me(request: RawRequest) -> RawResponse:
    """Who the bearer token belongs to: the first resource behind the guard."""
    claims = (await authenticate(request)).claims
    return fastpath.json(
        {
            "subject": claims.subject,
            "client_id": claims.client_id,
            "kind": claims.kind,
            "scopes": sorted(claims.scopes),
            "environment": claims.raw.get("env"),
            "issued_at": int(claims.issued_at),
            "expires_at": int(claims.expires_at),
        }
    )


_HEALTHY = b'{"status":"ok"}'


async def healthz(_request: RawRequest) -> RawResponse:
    return RawResponse(200, _HEALTHY, [fastpath.JSON_TYPE])


def mount(_app: FastAPI, fast: FastRouteTable) -> None:
    fast.add("/oauth/token", ["POST"], oauth_endpoint(token), rfc_body)
    fast.add("/oauth/revoke", ["POST"], oauth_endpoint(revoke), rfc_body)
    fast.add("/oauth/introspect", ["POST"], oauth_endpoint(introspect), rfc_body)
    fast.add("/.well-known/oauth-authorization-server", ["GET"], metadata, resource_body)
    fast.add("/.well-known/jwks.json", ["GET"], jwks, resource_body)
    fast.add("/v1/me", ["GET"], me, resource_body)
    fast.add("/healthz", ["GET"], healthz, resource_body)
