"""Litestar: the guard a Litestar guard, the query a validated parameter (msgspec JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from common import DEVICES, authorized, envelope
from litestar import Litestar, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter


def operator(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not authorized(connection.headers.get("authorization")):
        raise NotAuthorizedException("invalid token")


@get("/v1/operator/devices/{device_id:str}", guards=[operator])
async def device(
    device_id: str, size: Annotated[int, Parameter(ge=1, le=100)] = 20
) -> dict[str, Any]:
    found = DEVICES.get(device_id)
    if found is None:
        raise NotFoundException("no device")
    return envelope(found)


app = Litestar(route_handlers=[device], openapi_config=None)
