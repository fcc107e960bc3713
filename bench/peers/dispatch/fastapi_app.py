"""FastAPI as voltgate used it: the guard a dependency, the query an annotated parameter."""

from __future__ import annotations

from typing import Annotated, Any

from common import DEVICES, authorized, envelope
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import ORJSONResponse


async def operator(request: Request) -> str:
    if not authorized(request.headers.get("authorization")):
        raise HTTPException(401, "invalid token")
    return "operator"


app = FastAPI(default_response_class=ORJSONResponse)


@app.get("/v1/operator/devices/{device_id}")
async def device(
    device_id: str,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    _caller: str = Depends(operator),
) -> dict[str, Any]:
    found = DEVICES.get(device_id)
    if found is None:
        raise HTTPException(404, "no device")
    return envelope(found)
