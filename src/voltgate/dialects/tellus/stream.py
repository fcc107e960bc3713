"""`GET /v1/operator/stream?devices=id1,id2`: a WebSocket of the operator's chargers' telemetry
as it is stored (`streams.chargers` has the frame), each frame one text message.

The token (an operator's, scope `read`) comes in `Authorization: Bearer …` or `?token=`. The
handshake is refused with the Tellus error body: 401 code 2001/2002 (token missing, invalid,
revoked or expired), 403 code 2003 (kind or scope), 404 code 3001 (a device that is not the
operator's, exactly like a missing one), 400 code 1002 (`devices` empty or too long), 429 code
5001 (the token's streams are all open). Once open, the stream closes with 1008 when its token
is revoked (within a second) or expires, 1013 when the client reads too slowly to keep up, 1001
when the server stops.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from voltgate.devices.service import Devices
from voltgate.dialects.tellus.guards import READER
from voltgate.errors import ValidationFailed
from voltgate.http.routing import Call, HeaderDoc, RouteTable
from voltgate.http.sockets import Socket
from voltgate.streams.chargers import ChargerFrame
from voltgate.streams.hub import Hub
from voltgate.streams.pump import Feed, stream
from voltgate.streams.sessions import Sessions

MAX_DEVICES = 100
_ID_LENGTH = 64


class StreamQuery(BaseModel):
    devices: str = Field(
        min_length=1,
        max_length=MAX_DEVICES * (_ID_LENGTH + 1),
        # Printable ASCII: ids are, and so the documented bound stays far inside the longest
        # request line the server reads (64 KiB; past it, 414 before any route).
        pattern=r"^[\x21-\x7e]+$",
        description=f"the chargers' ids, comma-separated (1 to {MAX_DEVICES})",
    )
    token: str | None = Field(
        default=None,
        max_length=4096,
        pattern=r"^[\x21-\x7e]+$",
        description="the access token, where the client cannot send an Authorization header",
    )


def device_ids(devices: str) -> list[str]:
    """The ids of `?devices=`, each once, in order."""
    ids = list(dict.fromkeys(part.strip() for part in devices.split(",") if part.strip()))
    if not ids:
        raise ValidationFailed("query.devices: name at least one device")
    if len(ids) > MAX_DEVICES:
        raise ValidationFailed(f"query.devices: at most {MAX_DEVICES} devices a stream")
    if any(len(found) > _ID_LENGTH for found in ids):
        raise ValidationFailed(f"query.devices: a device id is at most {_ID_LENGTH} characters")
    return ids


class OperatorStream:
    def __init__(self, devices: Devices, hub: Hub, feed: Feed, sessions: Sessions) -> None:
        self._devices = devices
        self._hub = hub
        self._feed = feed
        self._sessions = sessions

    async def open(self, call: Call[None, StreamQuery, None], socket: Socket) -> None:
        claims = call.principal.claims
        ids = device_ids(call.query.devices)
        for device_id in ids:  # another operator's charger is 404, like a missing one
            await self._devices.get(claims.client_id, device_id)
        await stream(socket, claims, ids, self._hub, self._feed, self._sessions)


def mount(tellus: RouteTable, devices: Devices, hub: Hub, feed: Feed, sessions: Sessions) -> None:
    routes = OperatorStream(devices, hub, feed, sessions)
    tellus.websocket(
        "/v1/operator/stream",
        routes.open,
        guard=READER,
        query=StreamQuery,
        failures=(404, 429),
        response=ChargerFrame,  # documented as each message of the 101's WebSocket
        headers=(
            HeaderDoc("Upgrade", "websocket", required=True),
            HeaderDoc("Connection", "Upgrade", required=True),
        ),
        tags=("tellus: operator",),
        summary="Live telemetry of the operator's chargers (WebSocket; read scope)",
        description="One text message per reading batch of a charger: `{device_id, "
        "connectors: [{connector, state, power (kW), energy_delivered (kWh), soc}], "
        "timestamp}`, within about VOLTGATE_STREAM_POLL_INTERVAL (0.1 s) of its commit. The "
        "handshake's refusals carry the Tellus error body; an open stream closes with 1008 "
        "(token revoked or expired), 1013 (too slow to keep up) or 1001 (server stopping).",
    )
