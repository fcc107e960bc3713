"""Admin API for clients (the same service the CLI uses); needs a token with `voltgate:admin`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from voltgate.http.adapter import bearer, request_id, runtime
from voltgate.identity.admin import describe, parse_duration

ADMIN_SCOPE = "voltgate:admin"
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(bearer(ADMIN_SCOPE))])


class CreateClient(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str
    scopes: str
    token_ttl: int | None = None
    redirect_uris: list[str] = Field(default_factory=list, max_length=20)
    grant_types: list[str] | None = None


class Rotate(BaseModel):
    overlap: str = Field(default="24h", max_length=16)


@router.get("/clients", summary="List clients")
async def list_clients(request: Request) -> dict[str, Any]:
    rt = runtime(request)
    now = rt.clock.now()
    return {"clients": [describe(c, now) for c in await rt.admin.list_all()]}


@router.post("/clients", status_code=201, summary="Create a client (the secret is shown once)")
async def create_client(body: CreateClient, request: Request) -> dict[str, Any]:
    rt = runtime(request)
    created = await rt.admin.create(
        name=body.name,
        kind=body.kind,
        scopes=body.scopes,
        token_ttl=body.token_ttl,
        redirect_uris=body.redirect_uris,
        grant_types=body.grant_types,
    )
    return {**describe(created.client, rt.clock.now()), "client_secret": created.secret}


@router.get("/clients/{client_id}", summary="Show a client")
async def show_client(client_id: str, request: Request) -> dict[str, Any]:
    rt = runtime(request)
    return describe(await rt.admin.show(client_id), rt.clock.now())


@router.post("/clients/{client_id}/rotate-secret", summary="New secret; the old one overlaps")
async def rotate_secret(client_id: str, body: Rotate, request: Request) -> dict[str, Any]:
    rt = runtime(request)
    overlap = parse_duration(body.overlap)
    secret = await rt.admin.rotate_secret(client_id, overlap, request_id=request_id(request))
    return {"client_id": client_id, "client_secret": secret, "overlap_seconds": overlap}


@router.post("/clients/{client_id}/disable", summary="Disable a client and its tokens")
async def disable_client(client_id: str, request: Request) -> dict[str, Any]:
    rt = runtime(request)
    client = await rt.admin.disable(client_id)
    return describe(client, rt.clock.now())
