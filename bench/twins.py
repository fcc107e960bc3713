"""The protected-read bench's server: voltgate's app plus, under `/_unguarded`, twins of the
measured routes — the same handlers, with the bearer guard replaced by a fixed principal.

Only this bench mounts the twins (`python -m bench.twins --host H --port P`, run like
`voltgate serve`); voltgate itself never does. The principals are read from the environment
the bench sets: BENCH_OPERATOR_ID (an operator client), BENCH_APP_ID and BENCH_USER_ID (a
third-party app and the user who granted it `vehicle_device_data` and `energy_device_data`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request

from voltgate.app import VoltgateApp
from voltgate.app import from_environment as voltgate_app
from voltgate.devices import endpoints as devices
from voltgate.energy import endpoints as energy
from voltgate.http.adapter import operator_reader
from voltgate.http.ratelimit import authenticated
from voltgate.identity.guard import Principal
from voltgate.identity.tokens import AccessClaims
from voltgate.vehicles import endpoints as vehicles

TWIN = "/_unguarded"
Guard = Callable[[Request], Awaitable[Principal]]


@dataclass(frozen=True)
class ProtectedRead:
    """One measured read: its path (`{…}` filled from the seeded ids), the router that serves
    it, the guard dependency the twin replaces and whose principal the twin gets instead."""

    name: str
    path: str
    router: APIRouter
    guard: Guard
    principal: str  # "operator" | "user"


# The measured reads; adding a route is one line (and its id in bench.protected's seed).
READS = (
    ProtectedRead(
        "operator devices", "/v1/operator/devices", devices.operator, operator_reader, "operator"
    ),
    ProtectedRead(
        "energy live_status",
        "/api/1/energy_sites/{energy_site}/live_status",
        energy.router,
        authenticated,
        "user",
    ),
    ProtectedRead(
        "vehicle_data",
        "/api/1/vehicles/{vehicle}/vehicle_data",
        vehicles.router,
        authenticated,
        "user",
    ),
)


def _claims(subject: str, client_id: str, scopes: str, kind: str) -> AccessClaims:
    return AccessClaims(
        subject=subject,
        client_id=client_id,
        scopes=frozenset(scopes.split()),
        scope=scopes,
        kind=kind,
        jti="bench-twin",
        issued_at=0.0,
        expires_at=float("inf"),
        raw={},
    )


def principals() -> dict[str, Principal]:
    operator = os.environ["BENCH_OPERATOR_ID"]
    app, user = os.environ["BENCH_APP_ID"], os.environ["BENCH_USER_ID"]
    return {
        "operator": Principal(_claims(operator, operator, "read write", "operator")),
        "user": Principal(
            _claims(user, app, "vehicle_device_data energy_device_data energy_cmds", "third_party")
        ),
    }


def _twin_or_real(real: Guard, fixed: Principal) -> Guard:
    # Both paths pay for this prefix test, so the ratio is the guard's cost alone.
    async def guard(request: Request) -> Principal:
        if request.scope["path"].startswith(TWIN):
            return fixed
        return await real(request)

    return guard


def with_twins(app: FastAPI, fixed: dict[str, Principal]) -> FastAPI:
    routers: list[APIRouter] = []
    for read in READS:
        app.dependency_overrides[read.guard] = _twin_or_real(read.guard, fixed[read.principal])
        if all(read.router is not r for r in routers):
            routers.append(read.router)
            app.include_router(read.router, prefix=TWIN)
    return app


def from_environment() -> VoltgateApp:
    """granian's factory in each worker: the twins join the routes still on FastAPI."""
    app = voltgate_app()
    with_twins(app.state.legacy, principals())
    return app


def main() -> None:
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from voltgate.cli.serve import _GRANIAN_LOGGING
    from voltgate.config import Settings
    from voltgate.observability import configure_logging

    parser = argparse.ArgumentParser(prog="python -m bench.twins", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("VOLTGATE_ISSUER", f"http://{args.host}:{args.port}")
    configure_logging(Settings().log_level)
    Server(
        target="bench.twins:from_environment",
        factory=True,
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        log_access=False,
        log_dictconfig=_GRANIAN_LOGGING,
    ).serve()


if __name__ == "__main__":
    main()
