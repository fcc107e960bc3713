"""The framework-free token (RFC 6749 §3.2), revocation (RFC 7009) and introspection (RFC 7662)
endpoints. Each takes an OAuthRequest and returns a body or raises a VoltgateError."""

from __future__ import annotations

from typing import Any

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.config import Settings
from voltgate.errors import (
    InvalidRequest,
    RateLimited,
    UnauthorizedClient,
    UnsupportedGrantType,
    VoltgateError,
)
from voltgate.identity.audit import AuditLog
from voltgate.identity.client_auth import ClientAuthenticator, Credentials, extract
from voltgate.identity.clients import Client, ClientKind, ClientRegistry
from voltgate.identity.delegation import Delegation
from voltgate.identity.grants import Grant
from voltgate.identity.requests import OAuthRequest
from voltgate.identity.revocation import Revocations
from voltgate.identity.tokens import TokenService
from voltgate.identity.usage import Usage

INTROSPECT_SCOPE = "voltgate:introspect"


class RateLimiter:
    """Token endpoint limits per client and per source address, in the coordination port."""

    def __init__(self, coordinator: Coordinator, settings: Settings) -> None:
        self._coordinator = coordinator
        self._per_client = settings.token_rate_per_client
        self._per_address = settings.token_rate_per_address
        self._window = settings.token_rate_window

    async def check(self, request: OAuthRequest, creds: Credentials | None) -> None:
        hits: list[tuple[str, int]] = []
        if request.address:
            hits.append((f"token:addr:{request.address}", self._per_address))
        if creds is not None:
            hits.append((f"token:client:{creds.client_id[:128]}", self._per_client))
        if not hits:
            return
        for decision in await self._coordinator.hit_many(hits, self._window):
            if not decision.allowed:
                raise RateLimited(
                    f"too many token requests; retry in {decision.retry_after} s",
                    decision.retry_after,
                )


class TokenEndpoint:
    def __init__(
        self, authenticator: ClientAuthenticator, limiter: RateLimiter, usage: Usage | None = None
    ) -> None:
        self._authenticator = authenticator
        self._limiter = limiter
        self._usage = usage
        self._grants: dict[str, Grant] = {}
        self.issued: dict[tuple[str, str], int] = {}  # (grant type, client kind) → responses

    def register(self, grant: Grant) -> None:
        self._grants[grant.grant_type] = grant

    @property
    def grant_types(self) -> list[str]:
        return list(self._grants)

    async def handle(
        self, request: OAuthRequest, *, kinds: tuple[ClientKind, ...] = ()
    ) -> dict[str, Any]:
        """Issue a token; with `kinds`, only to clients of those kinds (a dialect's own path)."""
        creds = extract(request)
        usage = self._usage
        if usage is None:
            return await self._issue(request, creds, kinds)
        claimed = None if creds is None else creds.client_id
        try:
            response = await self._issue(request, creds, kinds)
        except VoltgateError as exc:
            if claimed is not None:
                usage.request(claimed)
                usage.answered(claimed, exc.status_code)
            raise
        if claimed is not None:  # always: a token goes to an authenticated client
            usage.request(claimed)
            usage.issued(claimed)
        return response

    async def _issue(
        self, request: OAuthRequest, creds: Credentials | None, kinds: tuple[ClientKind, ...]
    ) -> dict[str, Any]:
        await self._limiter.check(request, creds)
        grant_type = request.get("grant_type")
        if grant_type is None:
            raise InvalidRequest("grant_type is required")
        grant = self._grants.get(grant_type)
        if grant is None:
            raise UnsupportedGrantType(f"grant_type {grant_type[:64]!r} is not supported")
        client = await self._authenticator.authenticate(
            request, allow_public=grant.allows_public, creds=creds
        )
        if kinds and client.kind not in kinds:
            raise UnauthorizedClient(
                f"this path issues tokens to {' or '.join(kinds)} clients only; "
                f"this is a {client.kind.value} client"
            )
        if grant_type not in client.grant_types:
            raise UnauthorizedClient(f"this client may not use the {grant_type} grant")
        response = await grant.issue(request, client)
        counted = (grant_type, client.kind.value)
        self.issued[counted] = self.issued.get(counted, 0) + 1
        return response


class RevocationEndpoint:
    def __init__(
        self,
        authenticator: ClientAuthenticator,
        tokens: TokenService,
        revocations: Revocations,
        audit: AuditLog,
        delegation: Delegation,
    ) -> None:
        self._authenticator = authenticator
        self._tokens = tokens
        self._revocations = revocations
        self._audit = audit
        self._delegation = delegation

    async def handle(self, request: OAuthRequest) -> None:
        client = await self._authenticator.authenticate(request, allow_public=True)
        token = request.get("token")
        if token is None:
            raise InvalidRequest("token is required")
        if self._delegation.is_refresh_token(token):
            # §2.1: a refresh token is revoked with its grant, access tokens included.
            await self._delegation.revoke_refresh(token, client, request)
            return
        claims = self._tokens.peek(token)
        # §2.2: an invalid or foreign token is answered with 200 all the same.
        if claims is None or claims.client_id != client.id:
            return
        if not await self._revocations.revoke_access(claims, token):
            return
        await self._audit.record(
            "token_revoked",
            client_id=client.id,
            request_id=request.request_id,
            address=request.address,
            jti=claims.jti,
        )


class IntrospectionEndpoint:
    def __init__(
        self,
        authenticator: ClientAuthenticator,
        tokens: TokenService,
        revocations: Revocations,
        registry: ClientRegistry,
        clock: Clock,
        delegation: Delegation,
    ) -> None:
        self._authenticator = authenticator
        self._tokens = tokens
        self._revocations = revocations
        self._registry = registry
        self._clock = clock
        self._delegation = delegation

    async def handle(self, request: OAuthRequest) -> dict[str, Any]:
        client = await self._authenticator.authenticate(request)
        token = request.get("token")
        if token is None:
            raise InvalidRequest("token is required")
        if self._delegation.is_refresh_token(token):
            return await self._delegation.introspect_refresh(
                token, lambda owner: self._may_see(client, owner)
            )
        claims = self._tokens.peek(token)
        if claims is None or not self._may_see(client, claims.client_id):
            return {"active": False}
        owner = await self._registry.get(claims.client_id)
        if (
            claims.expires_at <= self._clock.now()
            or self._revocations.is_revoked(claims)
            or owner is None
            or owner.disabled
        ):
            return {"active": False}
        raw = claims.raw
        return {
            "active": True,
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.subject,
            "token_type": "Bearer",
            "exp": raw["exp"],
            "iat": raw["iat"],
            "iss": raw["iss"],
            "aud": raw["aud"],
            "jti": claims.jti,
            "kind": claims.kind,
            "env": raw.get("env"),
        }

    @staticmethod
    def _may_see(client: Client, owner_id: str) -> bool:
        return client.id == owner_id or INTROSPECT_SCOPE in client.scopes
