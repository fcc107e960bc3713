"""Storage interfaces owned by the identity domain; `voltgate.db.stores` implements them in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from voltgate.identity.clients import Client, ClientSecret


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """A secret as stored: keyed hash for authentication, sealed copy for request signing."""

    secret: ClientSecret
    sealed: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    kid: str
    alg: str
    private_sealed: str
    public_jwk: str
    created_at: float
    retired_at: float | None = None
    expires_at: float | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: float
    event: str
    client_id: str | None
    request_id: str | None
    address: str | None
    detail: dict[str, Any]


class ClientStore(Protocol):
    async def get(self, client_id: str) -> Client | None: ...

    async def list_all(self) -> list[Client]: ...

    async def create(self, client: Client, secret: SealedSecret | None) -> None: ...

    async def rotate_secret(self, client_id: str, new: SealedSecret, old_expire_at: float) -> None:
        """Add `new` and cut every open-ended current secret off at `old_expire_at`."""

    async def sealed_secrets(self, client_id: str, now: float) -> list[str]:
        """Sealed copies of the secrets valid at `now`, newest first (request signing)."""

    async def disable(self, client_id: str, at: float) -> bool: ...


class KeyStore(Protocol):
    async def load(self, now: float) -> list[StoredKey]:
        """Keys that are still active or whose signatures may still be unexpired."""

    async def add(self, key: StoredKey, retire_at: float, expire_at: float) -> None:
        """Insert `key` and retire every other active key, keeping it until `expire_at`."""


class RevocationStore(Protocol):
    async def add(self, jti: str, client_id: str, expires_at: float, revoked_at: float) -> None: ...

    async def active(self, now: float) -> list[tuple[str, float]]: ...


class AuditStore(Protocol):
    async def append(self, events: list[AuditEvent]) -> None: ...


class StateStore(Protocol):
    async def generation(self) -> int: ...

    async def bump(self) -> int: ...
