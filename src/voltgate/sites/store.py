"""The sites domain's record and the storage interface it owns (`repository.py` implements it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltgate.readmodel import Versions


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    operator_id: str
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    grid_limit_kw: float | None
    created_at: float


class SiteStore(Protocol):
    versions: Versions  # per operator

    async def add(self, site: Site) -> None: ...

    async def get(self, operator_id: str, site_id: str) -> Site | None:
        """The site if it exists and belongs to `operator_id`."""

    async def by_id(self, site_id: str) -> Site | None:
        """The site, whoever operates it (for local admin tools)."""

    async def page(self, operator_id: str, offset: int, limit: int) -> tuple[list[Site], int]:
        """One offset window of the operator's sites in id order, and their total."""

    async def after(self, operator_id: str, after_id: str | None, limit: int) -> list[Site]:
        """Up to `limit` of the operator's sites with ids after `after_id`, in id order."""
