"""Sites of one operator: created with `write`, listed and read with `read`; another operator's
site does not exist (404, so its existence does not leak)."""

from __future__ import annotations

from voltgate.clock import Clock
from voltgate.errors import NotFound
from voltgate.ids import new_id
from voltgate.pagination import Page, Slice, check_size, decode_cursor, offset_of, slice_of
from voltgate.sites.schemas import SiteCreate
from voltgate.sites.store import Site, SiteStore


class Sites:
    def __init__(self, store: SiteStore, clock: Clock) -> None:
        self._store = store
        self.versions = store.versions  # per operator: what kept answers are made from
        self._clock = clock

    async def create(self, operator_id: str, spec: SiteCreate) -> Site:
        site = Site(
            id=new_id("site"),
            operator_id=operator_id,
            name=spec.name,
            address=spec.address,
            latitude=spec.latitude,
            longitude=spec.longitude,
            timezone=spec.timezone,
            grid_limit_kw=spec.grid_limit_kw,
            created_at=self._clock.now(),
        )
        await self._store.add(site)
        return site

    async def get(self, operator_id: str, site_id: str) -> Site:
        # A NUL is never in an id, and PostgreSQL text refuses it.
        site = None if "\x00" in site_id else await self._store.get(operator_id, site_id[:64])
        if site is None:
            raise NotFound(f"no site {site_id[:64]!r}")
        return site

    async def find(self, site_id: str) -> Site:
        """A site by id alone, for local admin tools (`voltgate sim chargers --site`)."""
        site = None if "\x00" in site_id else await self._store.by_id(site_id[:64])
        if site is None:
            raise NotFound(f"no site {site_id[:64]!r}")
        return site

    async def page(self, operator_id: str, page: int, size: int) -> Page[Site]:
        items, total = await self._store.page(operator_id, offset_of(page, size), size)
        return Page(items, total, page, size)

    async def scroll(self, operator_id: str, cursor: str | None, limit: int) -> Slice[Site]:
        check_size(limit, "limit")
        rows = await self._store.after(operator_id, decode_cursor(cursor), limit + 1)
        return slice_of(rows, limit, lambda site: site.id)
