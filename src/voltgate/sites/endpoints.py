"""Sites over HTTP: Tellus paths (`/v1/operator/sites`, envelope, page/size) and voltgate's
canonical paths (`/v1/sites`, plain JSON, cursor). An operator token is needed on both."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from voltgate.http.adapter import operator_reader, operator_writer, runtime
from voltgate.http.shapes import (
    Cursor,
    Limit,
    PageNumber,
    PageSize,
    cursor_slice,
    envelope,
    tellus_page,
    tellus_router,
)
from voltgate.identity.guard import Principal
from voltgate.pagination import DEFAULT_LIMIT, DEFAULT_SIZE
from voltgate.sites.schemas import SiteCreate, site_view

reader = operator_reader
writer = operator_writer

tellus = tellus_router(prefix="/v1/operator/sites", tags=["tellus: operator"])
canonical = APIRouter(prefix="/v1/sites", tags=["sites"])


@tellus.get("", summary="The operator's sites, a page at a time")
async def tellus_list(
    request: Request,
    page: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).fleet.sites.page(principal.claims.client_id, page, size)
    return tellus_page(found, site_view)


@tellus.post("", status_code=201, summary="Create a site (write scope)")
async def tellus_create(
    body: SiteCreate, request: Request, principal: Principal = Depends(writer)
) -> dict[str, Any]:
    site = await runtime(request).fleet.sites.create(principal.claims.client_id, body)
    return envelope(site_view(site))


@tellus.get("/{site_id}", summary="One of the operator's sites")
async def tellus_show(
    site_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    site = await runtime(request).fleet.sites.get(principal.claims.client_id, site_id)
    return envelope(site_view(site))


@canonical.get("", summary="The operator's sites, by cursor")
async def list_sites(
    request: Request,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    part = await runtime(request).fleet.sites.scroll(principal.claims.client_id, cursor, limit)
    return cursor_slice(part, site_view)


@canonical.post("", status_code=201, summary="Create a site (write scope)")
async def create_site(
    body: SiteCreate, request: Request, principal: Principal = Depends(writer)
) -> dict[str, Any]:
    return site_view(await runtime(request).fleet.sites.create(principal.claims.client_id, body))


@canonical.get("/{site_id}", summary="One of the operator's sites")
async def show_site(
    site_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    return site_view(await runtime(request).fleet.sites.get(principal.claims.client_id, site_id))
