"""The charger's side of the command channel (device token; Tellus envelope).

`POST /v1/device/heartbeat` (every 30 s; carries pending commands back),
`GET /v1/device/commands?wait=SECONDS` (long-poll: returns the moment a command is queued) and
`POST /v1/device/command-status`. A device whose signing mode is `required` signs every one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from voltgate.commands.schemas import Heartbeat, StatusReport, delivery_view
from voltgate.commands.store import ConnectorReport
from voltgate.devices.endpoints import device
from voltgate.http.adapter import runtime
from voltgate.http.shapes import envelope, tellus_router
from voltgate.http.signing import signed
from voltgate.identity.guard import Principal

DEFAULT_WAIT = 30
MAX_WAIT = 60

charger = tellus_router(prefix="/v1/device", tags=["tellus: charger"])
signed_device = signed(device, sensitive=False)


@charger.post("/heartbeat", summary="I am alive; any commands for me?")
async def heartbeat(
    request: Request, body: Heartbeat | None = None, principal: Principal = Depends(signed_device)
) -> dict[str, Any]:
    rt = runtime(request)
    reports = [
        ConnectorReport(c.connector, c.state, c.soc) for c in (body.connectors if body else [])
    ]
    delivered = await rt.fleet.commands.heartbeat(principal.claims.client_id, reports)
    return envelope(
        {"server_time": int(rt.clock.now()), "commands": [delivery_view(c) for c in delivered]}
    )


@charger.get("/commands", summary="Long-poll for commands (wait ≤ 60 s)")
async def commands(
    request: Request,
    wait: Annotated[
        int, Query(ge=0, le=MAX_WAIT, description="seconds to wait for a command")
    ] = DEFAULT_WAIT,
    principal: Principal = Depends(signed_device),
) -> dict[str, Any]:
    async with _hangup(request) as hangup:
        delivered = await runtime(request).fleet.commands.poll(
            principal.claims.client_id, wait, hangup
        )
    return envelope({"commands": [delivery_view(c) for c in delivered]})


@contextlib.asynccontextmanager
async def _hangup(request: Request) -> AsyncIterator[asyncio.Event]:
    """An event set when the client disconnects (the server's `http.disconnect`), so a
    long-poll whose charger hung up stops instead of taking commands it can no longer get."""
    await request.body()  # after the body, the next ASGI message is the disconnect
    gone = asyncio.Event()

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        yield gone
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


@charger.post("/command-status", summary="Report a command accepted, rejected, completed, failed")
async def command_status(
    body: StatusReport, request: Request, principal: Principal = Depends(signed_device)
) -> dict[str, Any]:
    command = await runtime(request).fleet.commands.report(principal.claims.client_id, body)
    return envelope({"command_id": command.id, "status": command.status.value})
