"""Storage interfaces owned by the identity domain; `voltgate.db.stores` implements them in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from voltgate.identity.clients import Client, ClientSecret
    from voltgate.identity.users import User


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

    async def approve(self, client_id: str) -> bool:
        """End a production app's wait for approval; False if it was not waiting."""


class SigningModeStore(Protocol):
    async def set_signing(self, client_id: str, mode: str) -> bool:
        """Set the client's request-signing mode; False for an unknown client."""


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


class UserStore(Protocol):
    async def create(self, user: User, password_hash: str) -> None: ...

    async def by_email(self, email: str) -> tuple[User, str] | None:
        """The user and its password hash."""

    async def get(self, user_id: str) -> User | None: ...

    async def list_all(self) -> list[User]: ...

    async def set_password(self, user_id: str, password_hash: str) -> None: ...

    async def disable(self, user_id: str, at: float) -> None: ...


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code_hash: str
    client_id: str
    user_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    auth_time: float
    family_id: str
    expires_at: float
    used_at: float | None = None


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    token_hash: str
    family_id: str
    client_id: str
    user_id: str
    scope: str
    created_at: float
    expires_at: float
    consumed_at: float | None = None
    successor_sealed: str | None = None


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    client_id: str
    user_id: str
    scope: str
    created_at: float
    revoked_at: float | None = None


class DelegationStore(Protocol):
    async def add_code(self, code: CodeRecord) -> None: ...

    async def get_code(self, code_hash: str) -> CodeRecord | None: ...

    async def claim_code(self, code_hash: str, now: float) -> bool:
        """Mark the code used; True only for the one call that did (compare-and-set)."""

    async def create_family(self, family: Family) -> None: ...

    async def revoke_family(self, family_id: str, now: float, reason: str) -> bool: ...

    async def revoked_families(self, since: float) -> list[tuple[str, float]]: ...

    async def add_refresh(self, token: RefreshRecord) -> None: ...

    async def get_refresh(self, token_hash: str) -> tuple[RefreshRecord, Family] | None:
        """The refresh token and its family, read together."""

    async def rotate_refresh(
        self, token_hash: str, now: float, successor: RefreshRecord, sealed_pair: str
    ) -> bool:
        """Compare-and-set: consume `token_hash` and insert `successor` only if it was unused."""


@dataclass(frozen=True, slots=True)
class Consent:
    """What a user has allowed one app (OIDC Core §3.1.2.4), remembered to skip the page."""

    user_id: str
    client_id: str
    scope: str
    granted_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    consent: Consent
    client_name: str
    last_used_at: float | None  # the last token issued to the app for this user


class ConsentStore(Protocol):
    async def get(self, user_id: str, client_id: str) -> Consent | None: ...

    async def save(self, consent: Consent) -> None:
        """Insert or replace the consent of (user, app)."""

    async def for_user(self, user_id: str) -> list[ConnectedApp]: ...

    async def withdraw(self, user_id: str, client_id: str, now: float) -> tuple[bool, list[str]]:
        """Delete the consent and revoke every live family of (user, app) in one transaction.

        Returns whether there was anything to withdraw and the ids of the families revoked.
        """
