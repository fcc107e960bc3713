"""Revocation of JWT access tokens by `jti`: durable in the database, fast in the coordinator."""

from __future__ import annotations

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.identity.stores import RevocationStore
from voltgate.identity.tokens import AccessClaims, TokenService


class Revocations:
    def __init__(
        self,
        store: RevocationStore,
        coordinator: Coordinator,
        tokens: TokenService,
        clock: Clock,
        skew: int,
    ) -> None:
        self._store = store
        self._coordinator = coordinator
        self._tokens = tokens
        self._clock = clock
        self._skew = skew

    async def load(self) -> None:
        """Re-seed the coordinator from the database (a new process, or a Redis that restarted)."""
        for jti, expires_at in await self._store.active(self._clock.now()):
            await self._coordinator.revoke(f"jti:{jti}", expires_at + self._skew)

    async def revoke_access(self, claims: AccessClaims, token: str) -> bool:
        """Revoke; False when it already was (RFC 7009 §2.2: still a success, no new write)."""
        if self.is_revoked(claims):
            return False
        await self._store.add(claims.jti, claims.client_id, claims.expires_at, self._clock.now())
        await self._coordinator.revoke(f"jti:{claims.jti}", claims.expires_at + self._skew)
        self._tokens.forget(token)
        return True

    def is_revoked(self, claims: AccessClaims) -> bool:
        return self._coordinator.is_revoked(f"jti:{claims.jti}")
