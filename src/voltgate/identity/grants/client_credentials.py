"""The client credentials grant (RFC 6749 §4.4): a machine acting for itself."""

from __future__ import annotations

from typing import Any

from voltgate.errors import UnauthorizedClient
from voltgate.identity import scopes
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import Client
from voltgate.identity.requests import OAuthRequest
from voltgate.identity.tokens import TokenService


class ClientCredentialsGrant:
    grant_type = "client_credentials"
    allows_public = False

    def __init__(self, tokens: TokenService, audit: AuditLog, max_ttl: int) -> None:
        self._tokens = tokens
        self._audit = audit
        self._max_ttl = max_ttl

    async def issue(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        if client.kind.is_public:
            raise UnauthorizedClient("public clients cannot use client_credentials")
        granted = scopes.narrow(scopes.parse(request.params.get("scope")), client.scopes)
        issued = self._tokens.issue(
            subject=client.id,
            client_id=client.id,
            scopes=granted,
            kind=client.kind.value,
            ttl=min(client.access_ttl(request.profile.access_ttl), self._max_ttl),
        )
        await self._audit.record(
            "token_issued",
            client_id=client.id,
            request_id=request.request_id,
            address=request.address,
            grant_type=self.grant_type,
            jti=issued.jti,
            scope=issued.scope,
        )
        return issued.response()
