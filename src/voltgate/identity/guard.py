"""The one bearer guard in front of every protected route (RFC 6750).

Checks, in order: a Bearer credential is present, the JWT verifies (signature, typ, iss, aud,
environment, expiry — cached per token after the first ECDSA verify), it is not revoked and its
client is not disabled. Scope and kind checks are the route's, through `Principal`.
"""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.errors import Forbidden, InsufficientScope, InvalidToken, MissingToken
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.keys import KeyManager
from voltgate.identity.revocation import Revocations
from voltgate.identity.tokens import AccessClaims, TokenService, UnknownKey
from voltgate.identity.usage import Usage


@dataclass(frozen=True, slots=True)
class Principal:
    claims: AccessClaims

    def require(self, *needed: str) -> None:
        missing = [s for s in needed if s not in self.claims.scopes]
        if missing:
            raise InsufficientScope(
                f"this request needs the scope {' '.join(missing)}", scope=" ".join(needed)
            )

    def require_any(self, *options: str) -> None:
        if len(options) == 1:
            self.require(*options)
        elif not any(s in self.claims.scopes for s in options):
            raise InsufficientScope(
                f"this request needs one of the scopes {' '.join(options)}",
                scope=" ".join(options),
            )

    def require_kind(self, *kinds: str) -> None:
        if self.claims.kind not in kinds:
            raise Forbidden(
                f"this endpoint needs a {' or '.join(kinds)} token; this is a "
                f"{self.claims.kind} token"
            )


class BearerGuard:
    def __init__(
        self,
        tokens: TokenService,
        revocations: Revocations,
        registry: ClientRegistry,
        keys: KeyManager,
        usage: Usage | None = None,
    ) -> None:
        self._usage = usage
        self._keys = keys
        self._tokens = tokens
        self._revocations = revocations
        self._registry = registry

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise MissingToken("the request carries no bearer token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("the Authorization header must be 'Bearer <token>'")
        try:
            claims = self._tokens.verify(token)
        except UnknownKey:
            # Another instance may have rotated keys a moment ago: look once, then decide.
            if not await self._keys.reload_if_stale():
                raise
            claims = self._tokens.verify(token)
        if self._revocations.is_revoked(claims):
            raise InvalidToken("the access token has been revoked")
        client = await self._registry.get(claims.client_id)
        if client is None or client.disabled:
            raise InvalidToken("the client of this access token is disabled")
        if self._usage is not None:
            self._usage.request(claims.client_id)
        return Principal(claims)
