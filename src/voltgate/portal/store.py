"""What the portal keeps about an app beyond its client: who registered it, its stage, its
allowed origins; the storage Protocol is the domain's (`repository` implements it in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SANDBOX, PRODUCTION = "sandbox", "production"
STAGES = (SANDBOX, PRODUCTION)


@dataclass(frozen=True, slots=True)
class DeveloperApp:
    client_id: str
    owner_id: str  # the signed-in user who registered it: only they see and change it
    stage: str
    allowed_origins: tuple[str, ...]
    created_at: float
    approved_at: float | None = None


class DeveloperAppStore(Protocol):
    async def add(self, app: DeveloperApp) -> None: ...

    async def get(self, client_id: str) -> DeveloperApp | None: ...

    async def of_owner(self, owner_id: str) -> list[DeveloperApp]:
        """The owner's apps, oldest first."""

    async def set_origins(self, client_id: str, origins: tuple[str, ...]) -> None: ...

    async def approved(self, client_id: str, at: float) -> None: ...


class RevealStore(Protocol):
    """Sealed secrets waiting for the one page view that shows them."""

    async def add(self, key: str, client_id: str, sealed: str, expires_at: float) -> None: ...

    async def take(self, key: str, client_id: str, now: float) -> str | None:
        """The sealed secret if current, deleted as it is read: one caller ever gets it."""

    async def prune(self, now: float) -> None:
        """Forget the expired ones (never shown)."""
