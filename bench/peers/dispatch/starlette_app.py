"""Plain Starlette routes, the query validated by a pydantic model compiled once."""

from __future__ import annotations

import orjson
from common import DEVICES, authorized, envelope
from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Query(BaseModel):
    size: int = Field(default=20, ge=1, le=100)


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


async def device(request: Request) -> Response:
    if not authorized(request.headers.get("authorization")):
        return _json({"code": 2001, "message": "invalid token"}, 401)
    try:
        Query.model_validate(dict(request.query_params))
    except ValidationError:
        return _json({"code": 1002, "message": "bad size"}, 400)
    found = DEVICES.get(request.path_params["device_id"])
    if found is None:
        return _json({"code": 3001, "message": "no device"}, 404)
    return _json(envelope(found))


app = Starlette(routes=[Route("/v1/operator/devices/{device_id}", device)])
