"""Grant types: each one class with `grant_type` and `issue()`, registered on the token endpoint."""

from __future__ import annotations

from typing import Any, Protocol

from voltgate.identity.clients import Client
from voltgate.identity.requests import OAuthRequest


class Grant(Protocol):
    grant_type: str
    # Public clients (no secret) may use this grant when True.
    allows_public: bool

    async def issue(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        """Validate the grant-specific parameters and return the token response body."""
