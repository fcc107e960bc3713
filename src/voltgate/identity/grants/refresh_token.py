"""The refresh token grant (RFC 6749 §6): rotation on every use, see identity/delegation.py."""

from __future__ import annotations

from typing import Any

from voltgate.identity.clients import Client
from voltgate.identity.delegation import Delegation
from voltgate.identity.requests import OAuthRequest


class RefreshTokenGrant:
    grant_type = "refresh_token"
    allows_public = True

    def __init__(self, delegation: Delegation) -> None:
        self._delegation = delegation

    async def issue(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        return await self._delegation.refresh(request, client)
