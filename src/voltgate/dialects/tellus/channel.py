"""The charger's side of the command channel (device token; Tellus envelope).

`POST /v1/device/heartbeat` (every 30 s; carries pending commands back),
`GET /v1/device/commands?wait=SECONDS` (long-poll: returns the moment a command is queued, when
the charger hangs up, or at once when the server drains) and `POST /v1/device/command-status`.
A device whose signing mode is `required` signs every one.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.clock import Clock
from voltgate.commands.schemas import Heartbeat, StatusReport
from voltgate.commands.service import Commands
from voltgate.commands.store import Command, ConnectorReport
from voltgate.dialects.tellus.envelope import Envelope, envelope
from voltgate.dialects.tellus.guards import SIGNED_DEVICE
from voltgate.http.request import RawRequest
from voltgate.http.routing import Body, Call, RouteTable

TAGS = ("tellus: charger",)
DEFAULT_WAIT = 30
MAX_WAIT = 60


class WaitQuery(BaseModel):
    wait: int = Field(
        default=DEFAULT_WAIT, ge=0, le=MAX_WAIT, description="seconds to wait for a command"
    )


class Delivery(TypedDict):
    """A command as its charger receives it."""

    command_id: str
    type: str
    connector: int | None
    params: dict[str, Any]
    created_at: int
    expires_at: int


class Beat(TypedDict):
    server_time: int
    commands: list[Delivery]


class Deliveries(TypedDict):
    commands: list[Delivery]


class Reported(TypedDict):
    command_id: str
    status: str


def delivery_view(command: Command) -> Delivery:
    return {
        "command_id": command.id,
        "type": command.type,
        "connector": command.connector,
        "params": command.params,
        "created_at": int(command.created_at),
        "expires_at": int(command.expires_at),
    }


class Channel:
    def __init__(self, commands: Commands, clock: Clock, max_body: int) -> None:
        self._commands = commands
        self._clock = clock
        self._max_body = max_body

    async def heartbeat(self, call: Call[None, None, Heartbeat | None]) -> Envelope[Beat]:
        states = call.body.connectors if call.body is not None else []
        reports = [
            ConnectorReport(c.connector, c.state, c.soc, c.type, c.max_power_kw) for c in states
        ]
        delivered = await self._commands.heartbeat(call.principal.claims.client_id, reports)
        return envelope(
            {
                "server_time": int(self._clock.now()),
                "commands": [delivery_view(c) for c in delivered],
            }
        )

    async def poll(self, call: Call[None, WaitQuery, None]) -> Envelope[Deliveries]:
        request, device_id = call.request, call.principal.claims.client_id
        if call.query.wait <= 0:  # a look, no wait: nothing to hang up on
            delivered = await self._commands.poll(device_id, 0)
            return envelope({"commands": [delivery_view(c) for c in delivered]})
        await request.body(self._max_body)  # after the body, the next message is the hang-up
        gone = asyncio.Event()
        watcher = asyncio.create_task(_hangup(request, gone))
        try:
            delivered = await self._commands.poll(device_id, call.query.wait, gone)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return envelope({"commands": [delivery_view(c) for c in delivered]})

    async def status(self, call: Call[None, None, StatusReport]) -> Envelope[Reported]:
        command = await self._commands.report(call.principal.claims.client_id, call.body)
        return envelope({"command_id": command.id, "status": command.status.value})


async def _hangup(request: RawRequest, gone: asyncio.Event) -> None:
    """Sets `gone` when the charger disconnects (the server's `http.disconnect`), so a
    long-poll whose charger hung up stops instead of taking commands it can no longer get."""
    await request.disconnected()
    gone.set()


def mount(tellus: RouteTable, commands: Commands, clock: Clock, max_body: int) -> None:
    routes = Channel(commands, clock, max_body)
    charger = tellus.scope("/v1/device", guard=SIGNED_DEVICE, tags=TAGS)
    charger.post(
        "/heartbeat",
        routes.heartbeat,
        body=Body.json(Heartbeat, optional=True),
        response=Envelope[Beat],
        summary="I am alive; any commands for me?",
    )
    charger.get(
        "/commands",
        routes.poll,
        query=WaitQuery,
        response=Envelope[Deliveries],
        summary=f"Long-poll for commands (wait ≤ {MAX_WAIT} s)",
    )
    charger.post(
        "/command-status",
        routes.status,
        body=Body.json(StatusReport),
        response=Envelope[Reported],
        # 404: not a command of this charger; 409: its status cannot become that.
        failures=(404, 409),
        summary="Report a command accepted, rejected, completed, failed",
    )
