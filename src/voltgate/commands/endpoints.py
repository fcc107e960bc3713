"""Operator commands over HTTP (Tellus paths, `{code, message, data}` envelope).

`POST /v1/operator/devices/{id}/connectors/{n}/start|stop|discharge|schedule` and
`POST /v1/operator/control/flexibility` queue commands (`write`; discharge and flexibility are
sensitive: signed whenever the client signs); `GET /v1/operator/commands[/{id}]` reads them
(`read`). The charger's side is `channel.py`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Path, Query, Request

from voltgate.commands.schemas import (
    ConnectorCommand,
    Discharge,
    Flexibility,
    Schedule,
    StartCharging,
    StopCharging,
    command_view,
    issued_view,
)
from voltgate.commands.store import Status
from voltgate.devices.endpoints import reader, writer
from voltgate.http.adapter import request_id, runtime
from voltgate.http.shapes import PageNumber, PageSize, envelope, tellus_page, tellus_router
from voltgate.http.signing import signed
from voltgate.identity.guard import Principal
from voltgate.pagination import DEFAULT_SIZE

operator = tellus_router(prefix="/v1/operator", tags=["tellus: commands"])

ACCEPTED = 202
DeviceId = Annotated[str, Path(max_length=64)]
ConnectorNumber = Annotated[int, Path(ge=1, le=64, description="the connector, from 1")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="the same key and body return the same command; another body is 409",
    ),
]
StatusFilter = Literal[
    "queued", "delivered", "accepted", "rejected", "completed", "failed", "expired"
]
routine = signed(writer, sensitive=False)
sensitive = signed(writer, sensitive=True)


async def _queue(
    request: Request,
    principal: Principal,
    device_id: str,
    connector: int,
    body: ConnectorCommand,
    key: str | None,
) -> dict[str, Any]:
    rt = runtime(request)
    issued = await rt.fleet.commands.queue(
        principal.claims.client_id,
        device_id,
        connector,
        body,
        key=key,
        request_id=request_id(request),
    )
    return envelope(issued_view(issued.command, issued.device_online))


@operator.post(
    "/devices/{device_id}/connectors/{connector}/start",
    status_code=ACCEPTED,
    summary="Start charging on a connector",
)
async def start(
    device_id: DeviceId,
    connector: ConnectorNumber,
    body: StartCharging,
    request: Request,
    key: IdempotencyKey = None,
    principal: Principal = Depends(routine),
) -> dict[str, Any]:
    return await _queue(request, principal, device_id, connector, body, key)


@operator.post(
    "/devices/{device_id}/connectors/{connector}/stop",
    status_code=ACCEPTED,
    summary="Stop charging on a connector (body optional)",
)
async def stop(
    device_id: DeviceId,
    connector: ConnectorNumber,
    request: Request,
    body: StopCharging | None = None,
    key: IdempotencyKey = None,
    principal: Principal = Depends(routine),
) -> dict[str, Any]:
    return await _queue(request, principal, device_id, connector, body or StopCharging(), key)


@operator.post(
    "/devices/{device_id}/connectors/{connector}/discharge",
    status_code=ACCEPTED,
    summary="V2G: discharge the vehicle to the grid (signed when the client signs)",
)
async def discharge(
    device_id: DeviceId,
    connector: ConnectorNumber,
    body: Discharge,
    request: Request,
    key: IdempotencyKey = None,
    principal: Principal = Depends(sensitive),
) -> dict[str, Any]:
    return await _queue(request, principal, device_id, connector, body, key)


@operator.post(
    "/devices/{device_id}/connectors/{connector}/schedule",
    status_code=ACCEPTED,
    summary="Install a charging schedule on a connector",
)
async def schedule(
    device_id: DeviceId,
    connector: ConnectorNumber,
    body: Schedule,
    request: Request,
    key: IdempotencyKey = None,
    principal: Principal = Depends(routine),
) -> dict[str, Any]:
    return await _queue(request, principal, device_id, connector, body, key)


@operator.post(
    "/control/flexibility",
    status_code=ACCEPTED,
    summary="Curtail or pause a site's or all the operator's chargers (signed when it signs)",
)
async def flexibility(
    body: Flexibility,
    request: Request,
    key: IdempotencyKey = None,
    principal: Principal = Depends(sensitive),
) -> dict[str, Any]:
    ids = await runtime(request).fleet.commands.flexibility(
        principal.claims.client_id, body, key=key, request_id=request_id(request)
    )
    return envelope({"command_ids": ids, "status": Status.QUEUED.value})


@operator.get("/commands/{command_id}", summary="One command and where it is in its lifecycle")
async def show(
    command_id: Annotated[str, Path(max_length=64)],
    request: Request,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).fleet.commands.get(principal.claims.client_id, command_id)
    return envelope(command_view(found))


@operator.get("/commands", summary="The operator's commands, newest first")
async def list_commands(
    request: Request,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    status: StatusFilter | None = None,
    page: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).fleet.commands.page(
        principal.claims.client_id,
        device_id,
        None if status is None else Status(status),
        page,
        size,
    )
    return tellus_page(found, command_view)
