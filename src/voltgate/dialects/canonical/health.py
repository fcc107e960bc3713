"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database and the
cache answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from typing_extensions import TypedDict

from voltgate.errors import RESOURCE_ERRORS
from voltgate.http.routing import JSON_TYPE, Call, RawResponse, RouteTable, json

_HEALTHY = b'{"status":"ok"}'
Probe = Callable[[], Awaitable[bool]]


class Health(TypedDict):
    status: Literal["ok"]


class Checks(TypedDict):
    database: bool
    cache: bool


class Readiness(TypedDict):
    status: Literal["ready", "not_ready"]
    checks: Checks


async def healthz(_call: Call[None, None, None]) -> RawResponse:
    return RawResponse(200, _HEALTHY, [JSON_TYPE])


def mount(table: RouteTable, database: Probe, cache: Probe) -> None:
    async def readyz(_call: Call[None, None, None]) -> RawResponse:
        checks: Checks = {"database": await database(), "cache": await cache()}
        ok = all(checks.values())
        body: Readiness = {"status": "ready" if ok else "not_ready", "checks": checks}
        return json(body, 200 if ok else 503)

    routes = table.scope(errors=RESOURCE_ERRORS, tags=("health",))
    routes.get("/healthz", healthz, response=Health, summary="The process is up")
    routes.get(
        "/readyz",
        readyz,
        response=Readiness,
        answers=((503, Readiness),),
        summary="The database and the cache answer",
    )
