"""Revocation of JWT access tokens by `jti`: durable in the database, fast in the coordinator."""

from __future__ import annotations

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.identity.stores import DelegationStore, RevocationStore
from voltgate.identity.tokens import AccessClaims, TokenService


class Revocations:
    def __init__(
        self,
        store: RevocationStore,
        families: DelegationStore,
        coordinator: Coordinator,
        tokens: TokenService,
        clock: Clock,
        skew: int,
        max_token_ttl: int,
    ) -> None:
        # A revoked family is remembered as long as one of its access tokens could be alive.
        self._horizon = max_token_ttl + skew
        self._store = store
        self._families = families
        self._coordinator = coordinator
        self._tokens = tokens
        self._clock = clock
        self._skew = skew

    async def load(self) -> None:
        """Re-seed the coordinator from the database (a new process, or a Redis that restarted)."""
        now = self._clock.now()
        for jti, expires_at in await self._store.active(now):
            await self._coordinator.revoke(f"jti:{jti}", expires_at + self._skew)
        for family_id, revoked_at in await self._families.revoked_families(now - self._horizon):
            await self._coordinator.revoke(f"fam:{family_id}", revoked_at + self._horizon)

    async def revoke_family(self, family_id: str) -> None:
        """Every access token of the family stops at once; refresh tokens check the store."""
        await self._coordinator.revoke(f"fam:{family_id}", self._clock.now() + self._horizon)

    async def revoke_access(self, claims: AccessClaims, token: str) -> bool:
        """Revoke; False when it already was (RFC 7009 §2.2: still a success, no new write)."""
        if self.is_revoked(claims):
            return False
        await self._store.add(claims.jti, claims.client_id, claims.expires_at, self._clock.now())
        await self._coordinator.revoke(f"jti:{claims.jti}", claims.expires_at + self._skew)
        self._tokens.forget(token)
        return True

    def is_revoked(self, claims: AccessClaims) -> bool:
        if claims.family is not None and self._coordinator.is_revoked(f"fam:{claims.family}"):
            return True
        return self._coordinator.is_revoked(f"jti:{claims.jti}")
