"""OpenID Connect Core 1.0: ID tokens (§2, §3.1.3.6) and the UserInfo response (§5.3).

The subject is the user's id: stable, never reassigned, the same for every app (public subject
type). ID tokens are signed with the access-token key ring (ES256), as the metadata advertises.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from voltgate.clock import Clock
from voltgate.identity import jwt
from voltgate.identity.keys import KeyManager
from voltgate.identity.users import User, Users

ID_TOKEN_TTL = 3_600


def at_hash(access_token: str) -> str:
    """§3.1.3.6: the left half of SHA-256 (the hash of ES256) of the token, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


AVATARS = "/avatars"


def picture_url(issuer: str, user_id: str) -> str:
    """The user's picture: an identicon this server draws from a digest of the user's id (no
    stored image, nothing about the user in the URL but the digest)."""
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:32]
    return f"{issuer}{AVATARS}/{digest}.svg"


def profile_claims(
    user: User, scopes: tuple[str, ...] | frozenset[str], issuer: str
) -> dict[str, Any]:
    """The standard claims the granted scopes release (§5.4). Tesla's `user_data` ("contact
    information, profile picture") releases what `profile` and `email` do."""
    claims: dict[str, Any] = {"sub": user.id}
    tesla_profile = "user_data" in scopes
    if tesla_profile or "profile" in scopes:
        claims["name"] = user.display_name
        claims["picture"] = picture_url(issuer, user.id)
    if tesla_profile or "email" in scopes:
        claims["email"] = user.email
        # Accounts are created by an operator (CLI/sandbox); nothing has verified the address.
        claims["email_verified"] = False
    return claims


class IdTokens:
    def __init__(self, keys: KeyManager, users: Users, clock: Clock, issuer: str) -> None:
        self._keys = keys
        self._users = users
        self._clock = clock
        self._issuer = issuer

    async def issue(
        self,
        *,
        user_id: str,
        client_id: str,
        scopes: tuple[str, ...],
        auth_time: float,
        nonce: str | None,
        access_token: str,
    ) -> str:
        user = await self._users.get(user_id)
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "exp": now + ID_TOKEN_TTL,
            "auth_time": int(auth_time),
            "at_hash": at_hash(access_token),
            **profile_claims(user, scopes, self._issuer),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        ring = self._keys.ring
        assert ring is not None, "keys not loaded"
        return jwt.sign(ring.active.header("JWT"), claims, ring.active.private)
