"""Vehicles over HTTP on the Tesla dialect (`{"response": …}` bodies; the dialect mounts this
router with its error renderer). Only a user's delegated token reaches them (kinds
`third_party`, `open_source`: the token's subject is the user); any other kind is 403.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request

from voltgate.errors import PayloadTooLarge, ValidationFailed
from voltgate.http.adapter import runtime
from voltgate.http.ratelimit import app_rate_limit, delegated
from voltgate.identity.guard import Principal
from voltgate.pagination import MAX_SIZE
from voltgate.vehicles.schemas import charging_session, parse_endpoints, summary, vehicle_data

VEHICLE_SCOPES = (
    "vehicle_device_data",
    "vehicle_location",
    "vehicle_cmds",
    "vehicle_charging_cmds",
)

# Built on the rate limiter's `authenticated`, so a request's token is verified once for both.
any_vehicle_scope = delegated(*VEHICLE_SCOPES, any_of=True)
device_data = delegated("vehicle_device_data")
waker = delegated("vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds", any_of=True)
commander = delegated("vehicle_charging_cmds", "vehicle_cmds", any_of=True)
charging_reader = delegated("vehicle_charging_cmds")

router = APIRouter(tags=["tesla: vehicles"], dependencies=[Depends(app_rate_limit)])

VehicleRef = Annotated[str, "the vehicle's id or VIN"]


@router.get("/api/1/vehicles", summary="The user's vehicles (any vehicle scope)")
async def list_vehicles(
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_SIZE)] = MAX_SIZE,
    principal: Principal = Depends(any_vehicle_scope),
) -> dict[str, Any]:
    owned = await runtime(request).owner.vehicles.owned(principal.claims.subject)
    window = owned[(page - 1) * per_page : page * per_page]
    pages = max(1, math.ceil(len(owned) / per_page))
    return {
        "response": [summary(vehicle, seen) for vehicle, seen in window],
        "pagination": {
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page < pages else None,
            "current": page,
            "per_page": per_page,
            "count": len(owned),
            "pages": pages,
        },
        "count": len(owned),
    }


@router.get("/api/1/vehicles/{vehicle}", summary="One of the user's vehicles, asleep or not")
async def show_vehicle(
    vehicle: VehicleRef, request: Request, principal: Principal = Depends(any_vehicle_scope)
) -> dict[str, Any]:
    found, seen = await runtime(request).owner.vehicles.get(principal.claims.subject, vehicle)
    return {"response": summary(found, seen)}


@router.get(
    "/api/1/vehicles/{vehicle}/vehicle_data",
    summary="Live vehicle data (vehicle_device_data; the location needs vehicle_location)",
)
async def read_vehicle_data(
    vehicle: VehicleRef,
    request: Request,
    endpoints: Annotated[
        str | None, Query(max_length=300, description="sections, e.g. charge_state;location_data")
    ] = None,
    principal: Principal = Depends(device_data),
) -> dict[str, Any]:
    sections = parse_endpoints(endpoints)
    found, seen = await runtime(request).owner.vehicles.data(principal.claims.subject, vehicle)
    located = "vehicle_location" in principal.claims.scopes
    return {"response": vehicle_data(found, seen, located=located, sections=sections)}


@router.post("/api/1/vehicles/{vehicle}/wake_up", summary="Wake the vehicle up")
async def wake_up(
    vehicle: VehicleRef, request: Request, principal: Principal = Depends(waker)
) -> dict[str, Any]:
    found, seen = await runtime(request).owner.vehicles.wake_up(principal.claims.subject, vehicle)
    return {"response": summary(found, seen)}


@router.post(
    "/api/1/vehicles/{vehicle}/command/{name}",
    summary="A charging command (vehicle_charging_cmds or vehicle_cmds)",
)
async def command(
    vehicle: VehicleRef, name: str, request: Request, principal: Principal = Depends(commander)
) -> dict[str, Any]:
    rt = runtime(request)
    raw = await _json_object(request, rt.settings.max_body_bytes)
    result, reason = await rt.owner.vehicles.command(principal.claims.subject, vehicle, name, raw)
    return {"response": {"result": result, "reason": reason}}


@router.get(
    "/api/1/dx/charging/history",
    summary="The user's vehicles' finished charging sessions (vehicle_charging_cmds)",
)
async def charging_history(
    request: Request,
    vin: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    page_no: Annotated[int, Query(alias="pageNo", ge=0, le=100_000)] = 0,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=MAX_SIZE)] = 50,
    sort_order: Annotated[Literal["ASC", "DESC"], Query(alias="sortOrder")] = "DESC",
    principal: Principal = Depends(charging_reader),
) -> dict[str, Any]:
    sessions, total = await runtime(request).owner.vehicles.history(
        principal.claims.subject, vin, page_no, page_size, newest_first=sort_order == "DESC"
    )
    return {
        "response": {
            "data": [charging_session(s) for s in sessions],
            "totalResults": total,
            "hasMoreData": (page_no + 1) * page_size < total,
            "pageNo": page_no,
        }
    }


async def _json_object(request: Request, limit: int) -> dict[str, Any]:
    """A command's body: nothing (no parameters) or a JSON object."""
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    if not body.strip():
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationFailed("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object")
    return data
