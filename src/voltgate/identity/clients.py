"""OAuth clients (RFC 6749 §2): kinds, secrets, and the in-process registry before the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from voltgate.clock import Clock
from voltgate.identity.stores import ClientStore


class ClientKind(StrEnum):
    OPERATOR = "operator"
    PARTNER = "partner"
    THIRD_PARTY = "third_party"
    OPEN_SOURCE = "open_source"
    DEVICE = "device"
    # be.ENERGISED: an application whose pre-shared key starts its users' sessions.
    BEENERGISED_APP = "beenergised_app"

    @property
    def default_ttl(self) -> int:
        # Tellus issues 24 h operator tokens; user-delegated tokens default to one hour.
        return _DEFAULT_TTL[self]

    @property
    def default_grants(self) -> tuple[str, ...]:
        return _DEFAULT_GRANTS[self]

    @property
    def is_public(self) -> bool:
        return self is ClientKind.OPEN_SOURCE


# Kinds whose tokens a person granted (authorization code), as opposed to a machine's own.
DELEGATED_KINDS = (ClientKind.THIRD_PARTY.value, ClientKind.OPEN_SOURCE.value)

_DEFAULT_TTL = {
    ClientKind.OPERATOR: 86_400,
    ClientKind.PARTNER: 86_400,
    ClientKind.THIRD_PARTY: 3_600,
    ClientKind.OPEN_SOURCE: 3_600,
    ClientKind.DEVICE: 86_400,
    ClientKind.BEENERGISED_APP: 3_600,  # be.ENERGISED: session tokens last 60 minutes
}
_DEFAULT_GRANTS: dict[ClientKind, tuple[str, ...]] = {
    ClientKind.OPERATOR: ("client_credentials",),
    ClientKind.PARTNER: ("client_credentials",),
    ClientKind.THIRD_PARTY: ("authorization_code", "refresh_token", "client_credentials"),
    ClientKind.OPEN_SOURCE: ("authorization_code", "refresh_token"),
    ClientKind.DEVICE: ("client_credentials",),
    ClientKind.BEENERGISED_APP: ("refresh_token",),  # its sessions are refreshed
}


@dataclass(frozen=True, slots=True)
class ClientSecret:
    id: str
    secret_hash: str
    created_at: float
    expires_at: float | None = None

    def valid_at(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    kind: ClientKind
    scopes: tuple[str, ...]
    grant_types: tuple[str, ...]
    token_ttl: int | None  # None: the app chose none (its kind's, or the dialect path's)
    environment: str
    created_at: float
    redirect_uris: tuple[str, ...] = ()
    signing: str = "off"
    disabled_at: float | None = None
    secrets: tuple[ClientSecret, ...] = field(default=())
    # A production app registered in the developer portal, until an admin approves it.
    awaiting_approval_since: float | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def awaiting_approval(self) -> bool:
        return self.awaiting_approval_since is not None

    def access_ttl(self, path_default: int | None = None) -> int:
        """Its access tokens' lifetime: the app's own, else the path's (a dialect whose
        platform documents one), else its kind's."""
        if self.token_ttl is not None:
            return self.token_ttl
        return path_default if path_default is not None else self.kind.default_ttl


class ClientRegistry:
    """Clients by id, cached in process; invalidated by admin changes (local or broadcast)."""

    def __init__(self, store: ClientStore, clock: Clock, max_entries: int = 50_000) -> None:
        self._store = store
        self._clock = clock
        self._cache: dict[str, Client] = {}
        self._max = max_entries

    async def get(self, client_id: str, *, fresh: bool = False) -> Client | None:
        client = None if fresh else self._cache.get(client_id)
        if client is not None:
            return client
        if "\x00" in client_id:  # never a client id, and PostgreSQL text refuses it
            return None
        client = await self._store.get(client_id)
        if client is not None:
            if len(self._cache) >= self._max:
                self._cache.clear()
            self._cache[client_id] = client
        else:
            self._cache.pop(client_id, None)
        return client

    def known(self, client_id: str) -> bool:
        """Whether the client is held in process (no look-up): usage is counted for those only,
        so made-up client ids cost nothing."""
        return client_id in self._cache

    def invalidate(self, client_id: str | None = None) -> None:
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id, None)
