"""Delegated access at the token endpoint: authorization codes (RFC 6749 §4.1) with PKCE, and
refresh tokens (§6) rotated on every use, with a grace window and reuse detection.

A code redemption starts a token *family*. Each refresh consumes its token by compare-and-set and
stores the successor pair sealed on the consumed row: a repeat within the grace window (two tabs,
two instances, a retry after a lost response) gets the very same pair; a repeat after it is reuse,
and the whole family — every refresh and access token of that grant — is revoked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.errors import InvalidGrant, InvalidRequest, InvalidScope
from voltgate.identity import pkce
from voltgate.identity import scopes as scope_rules
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import Client
from voltgate.identity.oidc import IdTokens
from voltgate.identity.profiles import Profile
from voltgate.identity.requests import OAuthRequest
from voltgate.identity.revocation import Revocations
from voltgate.identity.secrets import Crypto
from voltgate.identity.stores import CodeRecord, DelegationStore, Family, RefreshRecord
from voltgate.identity.tokens import TokenService
from voltgate.ids import new_id


@dataclass(frozen=True, slots=True)
class DelegationPolicy:
    code_ttl: int = 60  # ev.energy: codes are valid for one minute
    refresh_ttl: int = 90 * 86_400  # Tesla: refresh tokens live three months
    grace: float = 30.0
    max_access_ttl: int = 86_400


class Delegation:
    def __init__(
        self,
        store: DelegationStore,
        crypto: Crypto,
        clock: Clock,
        tokens: TokenService,
        revocations: Revocations,
        coordinator: Coordinator,
        audit: AuditLog,
        policy: DelegationPolicy,
        id_tokens: IdTokens,
    ) -> None:
        self._store = store
        self._crypto = crypto
        self._clock = clock
        self._tokens = tokens
        self._revocations = revocations
        self._coordinator = coordinator
        self._audit = audit
        self._policy = policy
        self._id_tokens = id_tokens
        self._refresh_prefix = crypto.formats.prefix("rt")
        self.rotations = self.grace_hits = self.reuse_detected = 0  # refreshes, by outcome

    # -- codes -----------------------------------------------------------------------------
    async def issue_code(
        self,
        *,
        client: Client,
        user_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        auth_time: float,
        nonce: str | None = None,
        code_challenge: str | None = None,
    ) -> str:
        """Called by the authorization endpoint once the user has consented."""
        code = self._crypto.formats.secret("ac")
        now = self._clock.now()
        await self._store.add_code(
            CodeRecord(
                code_hash=self._crypto.hasher.hash(code),
                client_id=client.id,
                user_id=user_id,
                redirect_uri=redirect_uri,
                scope=" ".join(scopes),
                nonce=nonce,
                code_challenge=code_challenge,
                auth_time=auth_time,
                family_id=new_id("fam_"),
                expires_at=now + self._policy.code_ttl,
            )
        )
        return code

    async def redeem_code(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        code = request.get("code")
        redirect_uri = request.get("redirect_uri")
        if code is None or redirect_uri is None:
            raise InvalidRequest("code and redirect_uri are required")
        now = self._clock.now()
        code_hash = self._crypto.hasher.hash(code)
        record = await self._store.get_code(code_hash)
        if record is None or record.client_id != client.id:
            raise InvalidGrant("the authorization code is invalid")
        if record.used_at is not None:
            await self._code_replayed(record, request)
        if record.expires_at <= now:
            raise InvalidGrant("the authorization code has expired")
        if record.redirect_uri != redirect_uri:
            raise InvalidGrant("redirect_uri does not match the authorization request")
        if client.kind.is_public and record.code_challenge is None:
            raise InvalidGrant("public clients must use PKCE")
        pkce.verify(record.code_challenge, request.get("code_verifier"), request.profile.verifier)
        if not await self._store.claim_code(code_hash, now):
            await self._code_replayed(record, request)  # lost a race with a concurrent use
        granted = tuple(record.scope.split())
        await self._store.create_family(
            Family(record.family_id, client.id, record.user_id, record.scope, now)
        )
        await self._audit.record(
            "code_redeemed",
            client_id=client.id,
            request_id=request.request_id,
            address=request.address,
            family=record.family_id,
            user=record.user_id,
        )
        pair = await self._issue_pair(
            client, record.user_id, record.family_id, granted, granted, request.profile
        )
        if "openid" in granted:
            pair["id_token"] = await self._id_tokens.issue(
                user_id=record.user_id,
                client_id=client.id,
                scopes=granted,
                auth_time=record.auth_time,
                nonce=record.nonce,
                access_token=pair["access_token"],
            )
        return pair

    async def _code_replayed(self, record: CodeRecord, request: OAuthRequest) -> None:
        # §4.1.2: a second use is refused and revokes everything issued from the first.
        await self._revoke(record.family_id, "code_replay", request, record.client_id)
        raise InvalidGrant("the authorization code was already used")

    # -- sessions (be.ENERGISED) -------------------------------------------------------------
    async def start_session(
        self, client: Client, user_id: str, request: OAuthRequest
    ) -> dict[str, Any]:
        """A signed-in user's session for an app (its pre-shared key checked by the caller):
        a new family with an access token and a refresh token, rotated as any other."""
        now = self._clock.now()
        family_id = new_id("fam_")
        scopes = client.scopes
        await self._store.create_family(
            Family(family_id, client.id, user_id, " ".join(scopes), now)
        )
        await self._audit.record(
            "session_started",
            client_id=client.id,
            request_id=request.request_id,
            address=request.address,
            family=family_id,
            user=user_id,
        )
        return await self._issue_pair(client, user_id, family_id, scopes, scopes, request.profile)

    async def refresh_bearer(
        self,
        presented: str,
        request: OAuthRequest,
        client_of: Callable[[str], Awaitable[Client | None]],
    ) -> dict[str, Any]:
        """A refresh token sent alone as a bearer (be.ENERGISED's refreshSession): the client
        is the one it was issued to, if `client_of` still accepts it; then as `refresh`."""
        found = None
        if self.is_refresh_token(presented) and len(presented) <= 256:
            found = await self._store.get_refresh(self._crypto.hasher.hash(presented))
        client = None if found is None else await client_of(found[0].client_id)
        if found is None or client is None:
            raise InvalidGrant("the refresh token is invalid")
        return await self._refresh(found, request, client)

    # -- refresh ---------------------------------------------------------------------------
    async def refresh(self, request: OAuthRequest, client: Client) -> dict[str, Any]:
        presented = request.get("refresh_token")
        if presented is None:
            raise InvalidRequest("refresh_token is required")
        found = await self._store.get_refresh(self._crypto.hasher.hash(presented))
        if found is None or found[0].client_id != client.id:
            raise InvalidGrant("the refresh token is invalid")
        return await self._refresh(found, request, client)

    async def _refresh(
        self,
        found: tuple[RefreshRecord, Family],
        request: OAuthRequest,
        client: Client,
    ) -> dict[str, Any]:
        token_hash = found[0].token_hash
        record, family = found
        if family.revoked_at is not None:
            raise InvalidGrant("the refresh token has been revoked")
        now = self._clock.now()
        if record.expires_at <= now:
            raise InvalidGrant("the refresh token has expired")
        granted = tuple(record.scope.split())
        requested = scope_rules.parse(request.params.get("scope"))
        if any(s not in granted for s in requested):
            raise InvalidScope("a refresh may narrow the scope, never widen it")
        narrowed = requested or granted
        if record.consumed_at is None:
            # One rotation at a time per token (across instances with Redis); the database's
            # compare-and-set below stays the arbiter either way.
            async with self._coordinator.lock(f"refresh:{token_hash}", ttl=10, wait=10):
                won = await self._rotate(record, client, narrowed, granted, request.profile)
                if won is not None:
                    self.rotations += 1
                    await self._audit.record(
                        "refresh_rotated",
                        client_id=client.id,
                        request_id=request.request_id,
                        address=request.address,
                        family=record.family_id,
                    )
                    return won
            again = await self._store.get_refresh(token_hash)
            record = record if again is None else again[0]
        return await self._replayed(record, request, client)

    async def _rotate(
        self,
        record: RefreshRecord,
        client: Client,
        scopes: tuple[str, ...],
        granted: tuple[str, ...],
        profile: Profile,
    ) -> dict[str, Any] | None:
        # A refresh token, once given, is always succeeded by another, whatever the path.
        pair = self._pair(client, record.user_id, record.family_id, scopes, profile, refresh=True)
        successor = self._refresh_record(pair["refresh_token"], client, record, granted)
        sealed = self._seal(pair, record.token_hash)
        won = await self._store.rotate_refresh(
            record.token_hash, self._clock.now(), successor, sealed
        )
        return pair if won else None

    async def _replayed(
        self, record: RefreshRecord, request: OAuthRequest, client: Client
    ) -> dict[str, Any]:
        consumed = record.consumed_at
        if (
            consumed is not None
            and record.successor_sealed is not None
            and self._clock.now() - consumed <= self._policy.grace
        ):
            self.grace_hits += 1
            return self._unseal(record.successor_sealed, record.token_hash)
        self.reuse_detected += 1
        await self._revoke(record.family_id, "refresh_reuse", request, client.id)
        raise InvalidGrant("the refresh token was already used; the grant has been revoked")

    # -- revocation and introspection (RFC 7009 §2.1, RFC 7662 §2.2) ------------------------
    def is_refresh_token(self, token: str) -> bool:
        return token.startswith(self._refresh_prefix)

    async def revoke_refresh(self, token: str, client: Client, request: OAuthRequest) -> None:
        """Revoke the grant the refresh token belongs to; someone else's token is ignored."""
        found = await self._store.get_refresh(self._crypto.hasher.hash(token))
        if found is None or found[0].client_id != client.id:
            return
        await self._revoke(found[0].family_id, "revoked_by_client", request, client.id)

    async def introspect_refresh(
        self, token: str, may_see: Callable[[str], bool]
    ) -> dict[str, Any]:
        found = await self._store.get_refresh(self._crypto.hasher.hash(token))
        if found is None or not may_see(found[0].client_id):
            return {"active": False}
        record, family = found
        if (
            family.revoked_at is not None
            or record.consumed_at is not None
            or record.expires_at <= self._clock.now()
        ):
            return {"active": False}
        return {
            "active": True,
            "token_type": "refresh_token",
            "scope": record.scope,
            "client_id": record.client_id,
            "sub": record.user_id,
            "iat": int(record.created_at),
            "exp": int(record.expires_at),
        }

    # -- helpers ---------------------------------------------------------------------------
    async def _issue_pair(
        self,
        client: Client,
        user_id: str,
        family_id: str,
        scopes: tuple[str, ...],
        granted: tuple[str, ...],
        profile: Profile,
    ) -> dict[str, Any]:
        refresh = self._may_refresh(client, scopes, profile)
        pair = self._pair(client, user_id, family_id, scopes, profile, refresh=refresh)
        if refresh:
            now = self._clock.now()
            await self._store.add_refresh(
                RefreshRecord(
                    token_hash=self._crypto.hasher.hash(pair["refresh_token"]),
                    family_id=family_id,
                    client_id=client.id,
                    user_id=user_id,
                    scope=" ".join(granted),
                    created_at=now,
                    expires_at=now + self._policy.refresh_ttl,
                )
            )
        return pair

    def _pair(
        self,
        client: Client,
        user_id: str,
        family_id: str,
        scopes: tuple[str, ...],
        profile: Profile,
        *,
        refresh: bool,
    ) -> dict[str, Any]:
        """An access token (the lifetime of the app, else of the path it came to), and with
        `refresh` a refresh token."""
        issued = self._tokens.issue(
            subject=user_id,
            client_id=client.id,
            scopes=scopes,
            kind=client.kind.value,
            ttl=min(client.access_ttl(profile.access_ttl), self._policy.max_access_ttl),
            extra={"fid": family_id},
        )
        body = issued.response()
        if refresh:
            body["refresh_token"] = self._crypto.formats.secret("rt")
        return body

    @staticmethod
    def _may_refresh(client: Client, scopes: tuple[str, ...], profile: Profile) -> bool:
        if "refresh_token" not in client.grant_types:
            return False
        if profile.refresh_needs_offline_access:
            return "offline_access" in scopes
        # OpenID Connect Core §11: with OpenID scopes a refresh token needs offline_access.
        return "openid" not in scopes or "offline_access" in scopes

    def _refresh_record(
        self, token: str, client: Client, parent: RefreshRecord, granted: tuple[str, ...]
    ) -> RefreshRecord:
        now = self._clock.now()
        # §6: the new refresh token keeps the scope of the one it replaces.
        return RefreshRecord(
            token_hash=self._crypto.hasher.hash(token),
            family_id=parent.family_id,
            client_id=client.id,
            user_id=parent.user_id,
            scope=" ".join(granted),
            created_at=now,
            expires_at=now + self._policy.refresh_ttl,
        )

    def _seal(self, pair: dict[str, Any], token_hash: str) -> str:
        return self._crypto.envelope.seal(orjson.dumps(pair), f"refresh-successor:{token_hash}")

    def _unseal(self, sealed: str, token_hash: str) -> dict[str, Any]:
        pair: dict[str, Any] = orjson.loads(
            self._crypto.envelope.open(sealed, f"refresh-successor:{token_hash}")
        )
        return pair

    async def _revoke(
        self, family_id: str, reason: str, request: OAuthRequest, client_id: str
    ) -> None:
        await self._store.revoke_family(family_id, self._clock.now(), reason)
        await self._revocations.revoke_family(family_id)
        await self._audit.record(
            "family_revoked",
            client_id=client_id,
            request_id=request.request_id,
            address=request.address,
            family=family_id,
            reason=reason,
        )
