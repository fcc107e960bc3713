"""Operator commands on Tellus paths.

`POST /v1/operator/devices/{id}/connectors/{n}/start|stop|discharge|schedule` and
`POST /v1/operator/control/flexibility` queue commands (`write`; discharge and flexibility are
sensitive: signed whenever the client signs; an `Idempotency-Key` makes a retry safe);
`GET /v1/operator/commands[/{id}]` reads them (`read`). The charger's side is `channel.py`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.commands.schemas import (
    ConnectorCommand,
    Discharge,
    Flexibility,
    Schedule,
    StartCharging,
    StopCharging,
)
from voltgate.commands.service import Commands
from voltgate.commands.store import Command, Status
from voltgate.dialects.tellus.envelope import Envelope, PageQuery, TellusPage, envelope, paged
from voltgate.dialects.tellus.guards import READER, ROUTINE, SENSITIVE
from voltgate.http.guards import Guard
from voltgate.http.kept import Keep
from voltgate.http.routing import Body, Call, HeaderDoc, RouteTable

TAGS = ("tellus: commands",)
ACCEPTED = 202
MAX_CONNECTOR = 64
IDEMPOTENCY_KEY = HeaderDoc(
    "Idempotency-Key",
    "1 to 200 visible ASCII characters: the same key and body return the same command(s) for "
    "24 h; the same key with another body is 409",
)
StatusName = Literal[
    "queued", "delivered", "accepted", "rejected", "completed", "failed", "expired"
]


class ConnectorPath(BaseModel):
    device_id: str = Field(max_length=64)
    connector: int = Field(ge=1, le=MAX_CONNECTOR, description="the connector, from 1")


class CommandPath(BaseModel):
    command_id: str = Field(max_length=64)


class CommandQuery(PageQuery):
    device_id: str | None = Field(default=None, max_length=64)
    status: StatusName | None = None


class Issued(TypedDict):
    command_id: str
    status: str
    device_online: bool
    expires_at: int


class FlexibilityIssued(TypedDict):
    command_ids: list[str]
    status: str


class CommandView(TypedDict):
    """The operator's view of one command and where it is in its lifecycle."""

    command_id: str
    device_id: str
    type: str
    connector: int | None
    params: dict[str, Any]
    status: str
    reason: str | None
    created_at: int
    expires_at: int
    delivered_at: int | None
    updated_at: int


def command_view(command: Command) -> CommandView:
    return {
        "command_id": command.id,
        "device_id": command.device_id,
        "type": command.type,
        "connector": command.connector,
        "params": command.params,
        "status": command.status.value,
        "reason": command.reason,
        "created_at": int(command.created_at),
        "expires_at": int(command.expires_at),
        "delivered_at": None if command.delivered_at is None else int(command.delivered_at),
        "updated_at": int(command.updated_at),
    }


class Control:
    def __init__(self, commands: Commands) -> None:
        self._commands = commands

    async def queue(
        self, call: Call[ConnectorPath, None, ConnectorCommand | None]
    ) -> Envelope[Issued]:
        """One connector command; `stop` may come without a body."""
        issued = await self._commands.queue(
            call.principal.claims.client_id,
            call.path.device_id,
            call.path.connector,
            call.body if call.body is not None else StopCharging(),
            key=call.request.header(b"idempotency-key"),
            request_id=call.request.request_id,
        )
        command = issued.command
        return envelope(
            {
                "command_id": command.id,
                "status": command.status.value,
                "device_online": issued.device_online,
                "expires_at": int(command.expires_at),
            }
        )

    async def flexibility(self, call: Call[None, None, Flexibility]) -> Envelope[FlexibilityIssued]:
        ids = await self._commands.flexibility(
            call.principal.claims.client_id,
            call.body,
            key=call.request.header(b"idempotency-key"),
            request_id=call.request.request_id,
        )
        return envelope({"command_ids": ids, "status": Status.QUEUED.value})

    async def show(self, call: Call[CommandPath, None, None]) -> Envelope[CommandView]:
        found = await self._commands.get(call.principal.claims.client_id, call.path.command_id)
        return envelope(command_view(found))

    async def listing(
        self, call: Call[None, CommandQuery, None]
    ) -> Envelope[TellusPage[CommandView]]:
        query = call.query
        found = await self._commands.page(
            call.principal.claims.client_id,
            query.device_id,
            None if query.status is None else Status(query.status),
            query.page,
            query.size,
        )
        return paged(found, command_view)


_CONNECTOR_COMMANDS: tuple[tuple[str, type[ConnectorCommand], Guard, str], ...] = (
    ("start", StartCharging, ROUTINE, "Start charging on a connector"),
    ("stop", StopCharging, ROUTINE, "Stop charging on a connector (body optional)"),
    (
        "discharge",
        Discharge,
        SENSITIVE,
        "V2G: discharge the vehicle to the grid (signed when the client signs)",
    ),
    ("schedule", Schedule, ROUTINE, "Install a charging schedule on a connector"),
)


def mount(tellus: RouteTable, commands: Commands) -> None:
    routes = Control(commands)
    operator = tellus.scope("/v1/operator", tags=TAGS)
    for action, model, guard, summary in _CONNECTOR_COMMANDS:
        operator.post(
            f"/devices/{{device_id}}/connectors/{{connector}}/{action}",
            routes.queue,
            guard=guard,
            path_model=ConnectorPath,
            body=Body.json(model, optional=model is StopCharging),
            headers=(IDEMPOTENCY_KEY,),
            status=ACCEPTED,
            response=Envelope[Issued],
            # 404: not the operator's device; 409: the key was used with another request.
            failures=(404, 409),
            summary=summary,
        )
    operator.post(
        "/control/flexibility",
        routes.flexibility,
        guard=SENSITIVE,
        body=Body.json(Flexibility),
        headers=(IDEMPOTENCY_KEY,),
        status=ACCEPTED,
        response=Envelope[FlexibilityIssued],
        failures=(409,),
        summary="Curtail or pause a site's or all the operator's chargers (signed when it signs)",
    )
    operator.get(
        "/commands/{command_id}",
        routes.show,
        guard=READER,
        path_model=CommandPath,
        keep=Keep(lambda call: commands.version(call.principal.claims.client_id)),
        response=Envelope[CommandView],
        failures=(404,),
        summary="One command and where it is in its lifecycle",
    )
    operator.get(
        "/commands",
        routes.listing,
        guard=READER,
        query=CommandQuery,
        keep=Keep(lambda call: commands.version(call.principal.claims.client_id)),
        response=Envelope[TellusPage[CommandView]],
        summary="The operator's commands, newest first",
    )
