"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from voltgate.http.adapter import runtime
from voltgate.http.responses import json_response

router = APIRouter(tags=["health"])


@router.get("/readyz", summary="The database and the cache answer")
async def readyz(request: Request) -> Response:
    rt = runtime(request)
    checks = {"database": await rt.db.ping(), "cache": await rt.coordinator.ping()}
    ok = all(checks.values())
    return json_response(
        {"status": "ready" if ok else "not_ready", "checks": checks}, status=200 if ok else 503
    )
