"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3, PKCE RFC 7636 §4.5)."""

from __future__ import annotations

from typing import Any

from voltgate.identity.clients import Client
from voltgate.identity.delegation import Delegation
from voltgate.identity.requests import OAuthRequest


class AuthorizationCodeGrant:
    grant_type = "authorization_code"
    allows_public = True  # open-source clients: no secret, PKCE instead

    def __init__(self, delegation: Delegation) -> None:
        self._delegation = delegation

    async def issue(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        return await self._delegation.redeem_code(request, client)
