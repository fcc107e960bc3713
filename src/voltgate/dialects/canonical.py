"""voltgate's own paths: token, revocation, introspection, metadata (RFC 8414 and OpenID
discovery), JWKS, userinfo, `/v1/me`, health. The authorization endpoint is `voltgate.web`'s."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from voltgate.devices import endpoints as devices
from voltgate.errors import InvalidToken, resource_body, rfc_body
from voltgate.http import fastpath
from voltgate.http.adapter import authenticate, oauth_endpoint, runtime
from voltgate.http.fastpath import FastRouteTable, RawRequest, RawResponse
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.metadata import (
    CANONICAL,
    EndpointPaths,
    openid_configuration,
    server_metadata,
)
from voltgate.identity.oidc import profile_claims
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime
from voltgate.sites import endpoints as sites

PUBLIC_CACHE = [(b"cache-control", b"public, max-age=300")]


async def token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.token_endpoint.handle(request)


async def revoke(rt: Runtime, request: OAuthRequest) -> None:
    await rt.revocation_endpoint.handle(request)


async def introspect(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    return await rt.introspection_endpoint.handle(request)


async def metadata(request: RawRequest) -> RawResponse:
    rt = runtime(request)
    body = server_metadata(rt.settings.issuer, rt.token_endpoint.grant_types)
    return fastpath.json(body, 200, PUBLIC_CACHE)


def openid_metadata(paths: EndpointPaths) -> fastpath.Handler:
    """OpenID Provider metadata listing one dialect's endpoint paths."""

    async def handler(request: RawRequest) -> RawResponse:
        rt = runtime(request)
        body = openid_configuration(rt.settings.issuer, rt.token_endpoint.grant_types, paths)
        return fastpath.json(body, 200, PUBLIC_CACHE)

    return handler


async def userinfo(request: RawRequest) -> RawResponse:
    """OIDC Core §5.3: the claims about the signed-in user that the granted scopes release."""
    principal = await authenticate(request)
    principal.require_kind(*DELEGATED_KINDS)
    principal.require("openid")
    user = await runtime(request).users.find(principal.claims.subject)
    if user is None or user.disabled_at is not None:
        raise InvalidToken("the user of this access token no longer exists or is disabled")
    return fastpath.json(profile_claims(user, principal.claims.scopes), 200, fastpath.NO_STORE)


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


def mount(app: FastAPI, fast: FastRouteTable) -> None:
    app.include_router(sites.canonical)
    app.include_router(devices.canonical)
    fast.add("/oauth/token", ["POST"], oauth_endpoint(token), rfc_body)
    fast.add("/oauth/revoke", ["POST"], oauth_endpoint(revoke), rfc_body)
    fast.add("/oauth/introspect", ["POST"], oauth_endpoint(introspect), rfc_body)
    fast.add("/.well-known/oauth-authorization-server", ["GET"], metadata, resource_body)
    fast.add(
        "/.well-known/openid-configuration", ["GET"], openid_metadata(CANONICAL), resource_body
    )
    fast.add("/.well-known/jwks.json", ["GET"], jwks, resource_body)
    fast.add("/oauth/userinfo", ["GET", "POST"], userinfo, resource_body)
    fast.add("/v1/me", ["GET"], me, resource_body)
    fast.add("/healthz", ["GET"], healthz, resource_body)
