"""Energy sites on the Tesla Fleet API: `/api/1/energy_sites/{site_id}/live_status`, `site_info`,
`calendar_history`, and `POST backup`, `operation`, `storm_mode`, in `{"response": …}` bodies.

Reads need `energy_device_data`, changes `energy_cmds`, both on a token a user granted;
another user's site is 404, exactly like a missing one.

The reads keep their answers (`http.kept`) while the user's sites are unchanged (a backup,
mode or storm-mode change moves them, here at once and on other instances when heard) and for
at most a second: live power flows and charge, and the "today" of a calendar history, are up
to 1 s old.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.energy.schemas import (
    UPDATED,
    BackupReserve,
    CalendarHistory,
    LiveStatus,
    Operation,
    SiteInfo,
    StormMode,
    Updated,
    site_info,
)
from voltgate.energy.service import EnergySites
from voltgate.energy.store import EnergySite
from voltgate.http.guards import Guard
from voltgate.http.kept import by_subject
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS

READ = "energy_device_data"
CHANGE = "energy_cmds"
READER = Guard(kinds=DELEGATED_KINDS, scopes=(READ,))
CHANGER = Guard(kinds=DELEGATED_KINDS, scopes=(CHANGE,))


class CalendarQuery(BaseModel):
    """Checked by the domain (400 naming the parameter)."""

    kind: str | None = Field(default=None, description="energy (the default) or backup")
    period: str | None = Field(default=None, description="day (the default), week, month, year")
    end_date: str | None = Field(
        default=None, description="RFC 3339; the period ends with this local day (today)"
    )
    time_zone: str | None = Field(
        default=None, description="the IANA time zone of the days (the site's)"
    )


class LiveStatusResponse(TypedDict):
    response: LiveStatus


class SiteInfoResponse(TypedDict):
    response: SiteInfo


class CalendarHistoryResponse(TypedDict):
    response: CalendarHistory


def live_status(energy: EnergySites, site: EnergySite) -> LiveStatus:
    # EnergySites.live_status is typed dict[str, Any]; its keys are LiveStatus's.
    return cast(LiveStatus, energy.live_status(site))


class EnergyRoutes:
    def __init__(self, energy: EnergySites) -> None:
        self._energy = energy

    async def _site(self, call: Call[Any, Any, Any]) -> EnergySite:
        return await self._energy.get(call.principal.claims.subject, call.params["site_id"])

    async def live_status(self, call: Call[None, None, None]) -> LiveStatusResponse:
        return {"response": live_status(self._energy, await self._site(call))}

    async def site_info(self, call: Call[None, None, None]) -> SiteInfoResponse:
        return {"response": site_info(await self._site(call))}

    async def calendar_history(
        self, call: Call[None, CalendarQuery, None]
    ) -> CalendarHistoryResponse:
        site = await self._site(call)
        q = call.query
        found = await self._energy.calendar_history(site, q.kind, q.period, q.end_date, q.time_zone)
        return {"response": cast(CalendarHistory, found)}

    async def set_backup(self, call: Call[None, None, BackupReserve]) -> Updated:
        site = await self._site(call)
        await self._energy.set_backup_reserve(site, call.body.backup_reserve_percent)
        return UPDATED

    async def set_operation(self, call: Call[None, None, Operation]) -> Updated:
        site = await self._site(call)
        await self._energy.set_mode(site, call.body.default_real_mode)
        return UPDATED

    async def set_storm_mode(self, call: Call[None, None, StormMode]) -> Updated:
        site = await self._site(call)
        await self._energy.set_storm_mode(site, call.body.enabled)
        return UPDATED


def mount(table: RouteTable, energy: EnergySites) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = EnergyRoutes(energy)
    site = table.scope("/api/1/energy_sites/{site_id}", tags=("tesla: energy",))
    reads = {"guard": READER, "failures": (404,), "keep": by_subject(energy.versions)}
    site.get(
        "/live_status",
        routes.live_status,
        response=LiveStatusResponse,
        summary="Power flows and battery charge now",
        **reads,
    )
    site.get(
        "/site_info",
        routes.site_info,
        response=SiteInfoResponse,
        summary="The site's equipment and settings",
        **reads,
    )
    site.get(
        "/calendar_history",
        routes.calendar_history,
        query=CalendarQuery,
        response=CalendarHistoryResponse,
        summary="Energy totals per day or month",
        **reads,
    )
    changes = {"guard": CHANGER, "failures": (404,), "response": Updated}
    site.post(
        "/backup",
        routes.set_backup,
        body=Body.json(BackupReserve),
        summary="Set the backup reserve (percent kept for outages)",
        **changes,
    )
    site.post(
        "/operation",
        routes.set_operation,
        body=Body.json(Operation),
        summary="Set the operating mode",
        **changes,
    )
    site.post(
        "/storm_mode",
        routes.set_storm_mode,
        body=Body.json(StormMode),
        summary="Turn storm watch on or off",
        **changes,
    )
