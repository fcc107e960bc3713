"""Client administration: create, rotate secrets with overlap, disable. Used by the CLI and API."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from typing_extensions import TypedDict

from voltgate.clock import Clock
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.identity import scopes as scope_rules
from voltgate.identity.audit import AuditLog
from voltgate.identity.clients import Client, ClientKind, ClientSecret
from voltgate.identity.secrets import Crypto
from voltgate.identity.signing import SigningMode
from voltgate.identity.stores import ClientStore, SealedSecret, SigningModeStore
from voltgate.ids import new_id, ulid

OnChange = Callable[[str | None], Awaitable[None]]
_SEAL_CONTEXT = "client-secret:"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> int:
    """`24h`, `90m`, `7d`, `3600` → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValidationFailed(f"not a duration: {text!r} (use e.g. 30s, 15m, 24h, 7d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True, slots=True)
class NewClient:
    client: Client
    secret: str | None


class ClientAdmin:
    def __init__(
        self,
        store: ClientStore,
        crypto: Crypto,
        clock: Clock,
        max_ttl: int,
        on_change: OnChange,
        audit: AuditLog,
        modes: SigningModeStore,
    ) -> None:
        self._audit = audit
        self._modes = modes
        self._store = store
        self._crypto = crypto
        self._clock = clock
        self._max_ttl = max_ttl
        self._on_change = on_change

    async def create(
        self,
        *,
        name: str,
        kind: str,
        scopes: str,
        grant_types: list[str] | None = None,
        token_ttl: int | None = None,
        redirect_uris: list[str] | None = None,
        signing: str = "off",
        awaiting_approval: bool = False,
    ) -> NewClient:
        try:
            client_kind = ClientKind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in ClientKind)
            raise ValidationFailed(f"kind must be one of: {kinds}") from None
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("name must be 1 to 200 characters")
        allowed = tuple(dict.fromkeys(scopes.split()))
        if not allowed or not all(scope_rules.is_valid(s) for s in allowed):
            raise ValidationFailed("scopes must be one or more valid scope tokens")
        if token_ttl is not None and not 60 <= token_ttl <= self._max_ttl:
            raise ValidationFailed(f"token TTL must be between 60 and {self._max_ttl} seconds")
        uris = tuple(redirect_uris or ())
        for uri in uris:
            check_redirect_uri(uri)
        if signing not in ("off", "optional", "required"):
            raise ValidationFailed("signing must be off, optional or required")
        now = self._clock.now()
        client = Client(
            id=self._crypto.formats.client_id(ulid()),
            name=name,
            kind=client_kind,
            scopes=allowed,
            grant_types=tuple(grant_types or client_kind.default_grants),
            token_ttl=token_ttl,
            environment=self._crypto.formats.environment.value,
            created_at=now,
            redirect_uris=uris,
            signing=signing,
            awaiting_approval_since=now if awaiting_approval else None,
        )
        secret: str | None = None
        sealed: SealedSecret | None = None
        if not client_kind.is_public:
            secret, sealed = self._new_secret(client, now)
        await self._store.create(client, sealed)
        await self._on_change(client.id)
        await self._audit.record("client_created", client_id=client.id, kind=client_kind.value)
        return NewClient(await self.show(client.id), secret)

    async def rotate_secret(
        self, client_id: str, overlap: int, *, request_id: str | None = None, via: str = "api"
    ) -> str:
        client = await self.show(client_id)
        if client.kind.is_public:
            raise ValidationFailed("a public client has no secret to rotate")
        if overlap < 0:
            raise ValidationFailed("overlap must not be negative")
        now = self._clock.now()
        secret, sealed = self._new_secret(client, now)
        await self._store.rotate_secret(client.id, sealed, now + overlap)
        await self._on_change(client.id)
        await self._audit.record(
            "secret_rotated", client_id=client.id, request_id=request_id, overlap=overlap, via=via
        )
        return secret

    async def approve(self, client_id: str, *, via: str = "cli") -> Client:
        """A production app's credentials start working (Conflict if it was not waiting)."""
        client = await self.show(client_id)
        if not await self._store.approve(client.id):
            raise Conflict(f"the app {client_id!r} is not waiting for approval")
        await self._on_change(client.id)
        await self._audit.record("client_approved", client_id=client.id, via=via)
        return await self.show(client.id)

    async def disable(self, client_id: str, *, via: str = "api") -> Client:
        await self.show(client_id)
        await self._store.disable(client_id, self._clock.now())
        await self._on_change(client_id)
        await self._audit.record("client_disabled", client_id=client_id, via=via)
        return await self.show(client_id)

    async def set_signing(
        self, client_id: str, mode: str, *, kind: ClientKind | None = None, via: str = "api"
    ) -> Client:
        """Set whether the client (or device) signs its requests: off | optional | required."""
        if mode not in tuple(SigningMode):
            raise ValidationFailed("signing must be off, optional or required")
        client = await self.show(client_id)
        if kind is not None and client.kind is not kind:
            raise NotFound(f"no {kind.value} {client_id!r}")
        await self._modes.set_signing(client_id, mode)
        await self._on_change(client_id)
        await self._audit.record("signing_changed", client_id=client_id, mode=mode, via=via)
        return await self.show(client_id)

    async def show(self, client_id: str) -> Client:
        client = await self._store.get(client_id)
        if client is None:
            raise NotFound(f"no client {client_id!r}")
        return client

    async def list_all(self) -> list[Client]:
        return await self._store.list_all()

    async def sealed_secrets(self, client_id: str) -> list[str]:
        return await self._store.sealed_secrets(client_id, self._clock.now())

    async def signing_secrets(self, client_id: str) -> list[tuple[str, str]]:
        """(sealed secret, envelope context) pairs for `RequestVerifier`, newest first."""
        context = _SEAL_CONTEXT + client_id
        return [(sealed, context) for sealed in await self.sealed_secrets(client_id)]

    def _new_secret(self, client: Client, now: float) -> tuple[str, SealedSecret]:
        formats = self._crypto.formats
        # A be.ENERGISED app's secret is its pre-shared key: sent alone, as a bearer.
        is_psk = client.kind is ClientKind.BEENERGISED_APP
        secret = formats.psk(client.id) if is_psk else formats.secret("cs")
        record = ClientSecret(new_id("sec_"), self._crypto.hasher.hash(secret), now, None)
        sealed = self._crypto.envelope.seal(secret.encode(), _SEAL_CONTEXT + client.id)
        return secret, SealedSecret(record, sealed)


def check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if not parts.scheme or not (parts.netloc or parts.scheme not in ("http", "https")):
        raise ValidationFailed(f"redirect URI must be absolute: {uri!r}")
    if parts.fragment:
        raise ValidationFailed("redirect URI must not contain a fragment (RFC 6749 §3.1.2)")
    if len(uri) > 2000:
        raise ValidationFailed("redirect URI is too long")


class SecretView(TypedDict):
    id: str
    created_at: float
    expires_at: float | None
    active: bool


class ClientView(TypedDict):
    client_id: str
    name: str
    kind: str
    scopes: list[str]
    grant_types: list[str]
    token_ttl: int | None
    redirect_uris: list[str]
    environment: str
    signing: str
    created_at: float
    disabled_at: float | None
    awaiting_approval: bool
    secrets: list[SecretView]


def describe(client: Client, now: float) -> ClientView:
    """The public view of a client (never a secret or hash)."""
    return {
        "client_id": client.id,
        "name": client.name,
        "kind": client.kind.value,
        "scopes": list(client.scopes),
        "grant_types": list(client.grant_types),
        # The lifetime the app chose; null: each token path's own (identity/profiles.py).
        "token_ttl": client.token_ttl,
        "redirect_uris": list(client.redirect_uris),
        "environment": client.environment,
        "signing": client.signing,
        "created_at": client.created_at,
        "disabled_at": client.disabled_at,
        "awaiting_approval": client.awaiting_approval,
        "secrets": [
            {
                "id": s.id,
                "created_at": s.created_at,
                "expires_at": s.expires_at,
                "active": s.valid_at(now),
            }
            for s in client.secrets
        ],
    }
