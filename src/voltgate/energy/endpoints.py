"""Energy sites over HTTP, Tesla Fleet API paths and `{"response": …}` bodies.

Mounted by the Tesla dialect (which sets its error renderer). Every route is per-app rate
limited; reads need `energy_device_data`, changes `energy_cmds`, both on a token a user granted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from voltgate.energy.products import products
from voltgate.energy.schemas import UPDATED, BackupReserve, Operation, StormMode, site_info
from voltgate.energy.store import EnergySite
from voltgate.http.adapter import runtime
from voltgate.http.ratelimit import app_rate_limit, delegated
from voltgate.identity.guard import Principal

READ = "energy_device_data"
CHANGE = "energy_cmds"
reader = delegated(READ)
changer = delegated(CHANGE)
owner = delegated()

router = APIRouter(tags=["tesla: energy"], dependencies=[Depends(app_rate_limit)])
SITE = "/api/1/energy_sites/{site_id}"


async def _site(request: Request, principal: Principal, site_id: str) -> EnergySite:
    return await runtime(request).owner.energy.get(principal.claims.subject, site_id)


@router.get("/api/1/products", summary="The user's products (energy sites; vehicles too)")
async def list_products(request: Request, principal: Principal = Depends(owner)) -> dict[str, Any]:
    found = await products(runtime(request), principal.claims.subject, principal.claims.scopes)
    return {"response": found, "count": len(found)}


@router.get(SITE + "/live_status", summary="Power flows and battery charge now")
async def live_status(
    site_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    site = await _site(request, principal, site_id)
    return {"response": runtime(request).owner.energy.live_status(site)}


@router.get(SITE + "/site_info", summary="The site's equipment and settings")
async def show_site_info(
    site_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    return {"response": site_info(await _site(request, principal, site_id))}


@router.get(SITE + "/calendar_history", summary="Energy totals per day or month")
async def calendar_history(
    site_id: str,
    request: Request,
    kind: str | None = None,
    period: str | None = None,
    end_date: str | None = None,
    time_zone: str | None = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    site = await _site(request, principal, site_id)
    energy = runtime(request).owner.energy
    return {"response": await energy.calendar_history(site, kind, period, end_date, time_zone)}


@router.post(SITE + "/backup", summary="Set the backup reserve (percent kept for outages)")
async def set_backup(
    site_id: str, body: BackupReserve, request: Request, principal: Principal = Depends(changer)
) -> dict[str, Any]:
    site = await _site(request, principal, site_id)
    await runtime(request).owner.energy.set_backup_reserve(site, body.backup_reserve_percent)
    return UPDATED


@router.post(SITE + "/operation", summary="Set the operating mode")
async def set_operation(
    site_id: str, body: Operation, request: Request, principal: Principal = Depends(changer)
) -> dict[str, Any]:
    site = await _site(request, principal, site_id)
    await runtime(request).owner.energy.set_mode(site, body.default_real_mode)
    return UPDATED


@router.post(SITE + "/storm_mode", summary="Turn storm watch on or off")
async def set_storm_mode(
    site_id: str, body: StormMode, request: Request, principal: Principal = Depends(changer)
) -> dict[str, Any]:
    site = await _site(request, principal, site_id)
    await runtime(request).owner.energy.set_storm_mode(site, body.enabled)
    return UPDATED
