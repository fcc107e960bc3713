"""voltgate's own OAuth2/OIDC paths: token, revocation, introspection, server metadata
(RFC 8414), OpenID discovery, JWKS and userinfo. Other dialects mount the same handlers at
their own paths."""

from __future__ import annotations

from typing import Any, NotRequired

from typing_extensions import TypedDict

from voltgate.errors import RESOURCE_ERRORS, RFC_ERRORS, InvalidToken
from voltgate.http.guards import Guard
from voltgate.http.oauth import TokenResponse, oauth_endpoint
from voltgate.http.routing import NO_STORE, Body, Call, Handler, RawResponse, RouteTable, json
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.identity.metadata import (
    CANONICAL,
    EndpointPaths,
    openid_configuration,
    server_metadata,
)
from voltgate.identity.oidc import profile_claims
from voltgate.runtime.identity import Identity

PUBLIC_CACHE = [(b"cache-control", b"public, max-age=300")]
USERINFO = Guard(kinds=DELEGATED_KINDS, scopes=("openid",))
TAGS = ("oauth",)


class Introspection(TypedDict):
    """RFC 7662 §2.2: `active`, and the token's claims while it is active."""

    active: bool
    scope: NotRequired[str]
    client_id: NotRequired[str]
    token_type: NotRequired[str]
    exp: NotRequired[int]
    iat: NotRequired[int]
    nbf: NotRequired[int]
    sub: NotRequired[str]
    aud: NotRequired[str]
    iss: NotRequired[str]
    jti: NotRequired[str]


class UserInfo(TypedDict):
    sub: str
    name: NotRequired[str]
    picture: NotRequired[str]
    email: NotRequired[str]
    email_verified: NotRequired[bool]


class OAuth:
    """The protocol endpoints, bound to the identity core."""

    def __init__(self, identity: Identity, issuer: str) -> None:
        self._identity = identity
        self._issuer = issuer
        self.token = oauth_endpoint(identity.token_endpoint.handle)
        self.revoke = oauth_endpoint(identity.revocation_endpoint.handle)
        self.introspect = oauth_endpoint(identity.introspection_endpoint.handle)

    async def metadata(self, _call: Call[None, None, None]) -> RawResponse:
        grants = self._identity.token_endpoint.grant_types
        return json(server_metadata(self._issuer, grants), 200, PUBLIC_CACHE)

    def openid_metadata(self, paths: EndpointPaths) -> Handler:
        """OpenID Provider metadata listing one dialect's endpoint paths."""

        async def handler(_call: Call[None, None, None]) -> RawResponse:
            grants = self._identity.token_endpoint.grant_types
            return json(openid_configuration(self._issuer, grants, paths), 200, PUBLIC_CACHE)

        return handler

    async def jwks(self, _call: Call[None, None, None]) -> RawResponse:
        ring = self._identity.keys.ring
        assert ring is not None
        headers = [(b"content-type", b"application/jwk-set+json"), *PUBLIC_CACHE]
        return RawResponse(200, ring.jwks_json(), headers)

    async def userinfo(self, call: Call[None, None, None]) -> RawResponse:
        """OIDC Core §5.3: the claims about the signed-in user the granted scopes release
        (`profile`, `email`, or Tesla's `user_data` for both)."""
        claims = call.principal.claims
        user = await self._identity.users.find(claims.subject)
        if user is None or user.disabled_at is not None:
            raise InvalidToken("the user of this access token no longer exists or is disabled")
        return json(profile_claims(user, claims.scopes, self._issuer), 200, NO_STORE)


def mount(table: RouteTable, identity: Identity, issuer: str) -> OAuth:
    oauth = OAuth(identity, issuer)
    rfc = table.scope(errors=RFC_ERRORS, tags=TAGS)
    rfc.post(
        "/oauth/token",
        oauth.token,
        body=Body.oauth(),
        response=TokenResponse,
        failures=(429,),
        summary="Token endpoint (RFC 6749 §3.2)",
    )
    rfc.post(
        "/oauth/revoke",
        oauth.revoke,
        body=Body.oauth(),
        failures=(429,),
        summary="Token revocation (RFC 7009)",
    )
    rfc.post(
        "/oauth/introspect",
        oauth.introspect,
        body=Body.oauth(),
        response=Introspection,
        failures=(429,),
        summary="Token introspection (RFC 7662)",
    )
    public = table.scope(errors=RESOURCE_ERRORS, tags=TAGS)
    public.get(
        "/.well-known/oauth-authorization-server",
        oauth.metadata,
        response=dict[str, Any],
        summary="Authorization server metadata (RFC 8414)",
    )
    public.get(
        "/.well-known/openid-configuration",
        oauth.openid_metadata(CANONICAL),
        response=dict[str, Any],
        summary="OpenID Provider metadata (OpenID Connect Discovery 1.0)",
    )
    public.get(
        "/.well-known/jwks.json",
        oauth.jwks,
        response=dict[str, Any],
        media="application/jwk-set+json",
        summary="The token signing keys (RFC 7517)",
    )
    for method in ("GET", "POST"):
        public.add(
            method,
            "/oauth/userinfo",
            oauth.userinfo,
            guard=USERINFO,
            response=UserInfo,
            summary="Claims about the signed-in user (OpenID Connect Core §5.3)",
        )
    return oauth
