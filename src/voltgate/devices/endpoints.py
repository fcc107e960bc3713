"""Devices over HTTP.

Tellus paths (envelope, page/size): the operator's `/v1/operator/devices` and
`/v1/operator/enrollments`, and the charger side `/v1/device/register`,
`/v1/device/secret/rotate` and (a fast-path route, `device_token`) `/v1/device/token`.
voltgate's canonical paths (plain JSON, cursor): `/v1/devices`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from voltgate.devices.schemas import (
    DeviceRegistration,
    EnrollmentCreate,
    device_view,
    enrollment_view,
)
from voltgate.devices.service import token_request
from voltgate.http.adapter import bearer, operator_reader, operator_writer, request_id, runtime
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
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.identity.requests import OAuthRequest
from voltgate.pagination import DEFAULT_LIMIT, DEFAULT_SIZE
from voltgate.runtime import Runtime

reader = operator_reader
writer = operator_writer
device = bearer(kinds=(ClientKind.DEVICE.value,))

operator = tellus_router(prefix="/v1/operator", tags=["tellus: operator"])
charger = tellus_router(prefix="/v1/device", tags=["tellus: charger"])
canonical = APIRouter(prefix="/v1/devices", tags=["devices"])


@operator.get("/devices", summary="The operator's chargers, a page at a time")
async def tellus_list(
    request: Request,
    page: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    rt = runtime(request)
    found = await rt.fleet.devices.page(principal.claims.client_id, page, size)
    now = rt.clock.now()
    return tellus_page(found, lambda d: device_view(d, now))


@operator.get("/devices/{device_id}", summary="One of the operator's chargers")
async def tellus_show(
    device_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    rt = runtime(request)
    found = await rt.fleet.devices.get(principal.claims.client_id, device_id)
    return envelope(device_view(found, rt.clock.now()))


@operator.post(
    "/enrollments",
    status_code=201,
    summary="Issue an enrollment token for chargers to register with (shown once)",
)
async def create_enrollment(
    body: EnrollmentCreate, request: Request, principal: Principal = Depends(writer)
) -> dict[str, Any]:
    enrollment, token = await runtime(request).fleet.enrollments.create(
        principal.claims.client_id, body, request_id=request_id(request)
    )
    return envelope(enrollment_view(enrollment, token))


@charger.post(
    "/register",
    status_code=201,
    summary="Register a charger (Authorization: Bearer <enrollment token>)",
)
async def register(body: DeviceRegistration, request: Request) -> dict[str, Any]:
    registered = await runtime(request).fleet.devices.register(
        request.headers.get("authorization"),
        body,
        request_id=request_id(request),
        address=request.client.host if request.client else None,
    )
    return envelope({"device_id": registered.device.id, "device_secret": registered.secret})


@charger.post("/secret/rotate", summary="A new device secret; the old one overlaps for 24 h")
async def rotate_secret(request: Request, principal: Principal = Depends(device)) -> dict[str, Any]:
    rotated = await runtime(request).fleet.devices.rotate_secret(
        principal.claims.client_id, request_id=request_id(request)
    )
    return envelope(
        {
            "device_id": principal.claims.client_id,
            "device_secret": rotated.secret,
            "overlap_seconds": rotated.overlap,
            "previous_secret_expires_at": int(rotated.previous_expires_at),
        }
    )


async def device_token(rt: Runtime, request: OAuthRequest) -> dict[str, Any]:
    """`POST /v1/device/token`: the token endpoint's client_credentials, for devices only."""
    return await rt.identity.token_endpoint.handle(
        token_request(request), kinds=(ClientKind.DEVICE,)
    )


@canonical.get("", summary="The operator's chargers, by cursor")
async def list_devices(
    request: Request,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    rt = runtime(request)
    part = await rt.fleet.devices.scroll(principal.claims.client_id, cursor, limit)
    now = rt.clock.now()
    return cursor_slice(part, lambda d: device_view(d, now))


@canonical.get("/{device_id}", summary="One of the operator's chargers")
async def show_device(
    device_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    rt = runtime(request)
    return device_view(
        await rt.fleet.devices.get(principal.claims.client_id, device_id), rt.clock.now()
    )
