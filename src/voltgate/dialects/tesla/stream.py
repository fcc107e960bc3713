"""`GET /api/1/vehicles/stream?vins=…`: a WebSocket of the user's vehicles' Fleet Telemetry
signals as they are stored (a voltgate extension: Tesla delivers Fleet Telemetry to the
app's own server; here the app may also read it live). Each text message is one message a
vehicle sent (`streams.vehicles` has the frame): `{vin, created_at, data: [{key, value}]}`.

A user's delegated token with `vehicle_device_data`, in `Authorization: Bearer …` or
`?token=`; location-revealing fields only with `vehicle_location` as well. `vins` names some
of the user's vehicles (comma-separated; all of them when left out); another user's VIN is 404
like a missing one. Refusals carry the Tesla error body (401, 403, 404, 400, 429); an open
stream closes with 1008 when its token is revoked (or the user withdraws the app's access)
or expires, 1013 when the client cannot keep up, 1001 when the server stops.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from voltgate.dialects.tesla.vehicles import DEVICE_DATA
from voltgate.errors import Forbidden, NotFound, ValidationFailed
from voltgate.http.routing import Call, HeaderDoc, RouteTable
from voltgate.http.sockets import Socket
from voltgate.streams import vehicles as frames
from voltgate.streams.hub import Hub
from voltgate.streams.pump import Feed, stream
from voltgate.streams.sessions import Sessions
from voltgate.vehicles.service import Vehicles

MAX_VINS = 100
PATH = "/api/1/vehicles/stream"


class VehicleStreamQuery(BaseModel):
    vins: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_VINS * 18,
        pattern=r"^[\x21-\x7e]+$",  # printable ASCII, as VINs are (see Tellus's stream)
        description=f"VINs, comma-separated (at most {MAX_VINS}); all the user's vehicles if "
        "left out",
    )
    token: str | None = Field(
        default=None,
        max_length=4096,
        pattern=r"^[\x21-\x7e]+$",
        description="the access token, where the client cannot send an Authorization header",
    )


def vin_list(vins: str) -> list[str]:
    found = list(dict.fromkeys(part.strip().upper() for part in vins.split(",") if part.strip()))
    if not found:
        raise ValidationFailed("query.vins: name at least one VIN, or leave vins out")
    if len(found) > MAX_VINS:
        raise ValidationFailed(f"query.vins: at most {MAX_VINS} VINs a stream")
    return found


class VehicleStream:
    def __init__(self, vehicles: Vehicles, hub: Hub, feed: Feed, sessions: Sessions) -> None:
        self._vehicles = vehicles
        self._hub = hub
        self._feed = feed
        self._sessions = sessions

    async def open(self, call: Call[None, VehicleStreamQuery, None], socket: Socket) -> None:
        claims = call.principal.claims
        if claims.subject == claims.client_id:  # the app's own token: no user, no vehicles
            raise Forbidden("a user's delegated token is needed: the app's own token has no user")
        owned = [v.vin for v in await self._vehicles.of_user(claims.subject)]
        if call.query.vins is None:
            if not owned:
                raise NotFound("this user has no vehicles")
            wanted = owned[:MAX_VINS]
        else:
            wanted = vin_list(call.query.vins)
            mine = set(owned)
            for vin in wanted:
                if vin not in mine:
                    raise NotFound(f"no vehicle {vin[:32]!r}")
        located = "vehicle_location" in claims.scopes
        keys = [frames.key(vin, located) for vin in wanted]
        await stream(socket, claims, keys, self._hub, self._feed, self._sessions)


def mount(table: RouteTable, vehicles: Vehicles, hub: Hub, feed: Feed, sessions: Sessions) -> None:
    """`table` carries the dialect's error body and the per-app limit (one count a handshake)."""
    routes = VehicleStream(vehicles, hub, feed, sessions)
    table.websocket(
        PATH,
        routes.open,
        guard=DEVICE_DATA,
        query=VehicleStreamQuery,
        failures=(404, 429),
        response=frames.VehicleFrame,  # documented as each message of the 101's WebSocket
        headers=(
            HeaderDoc("Upgrade", "websocket", required=True),
            HeaderDoc("Connection", "Upgrade", required=True),
        ),
        tags=("tesla: vehicles",),
        summary="Live Fleet Telemetry signals of the user's vehicles (WebSocket; voltgate "
        "extension; vehicle_device_data, locations with vehicle_location)",
        description="One text message per message a vehicle sent: `{vin, created_at (RFC "
        "3339), data: [{key (field name), value}]}` (a location's value is `{latitude, "
        "longitude}`), within about VOLTGATE_STREAM_POLL_INTERVAL (0.1 s) of its commit. "
        "Closes with 1008 (token revoked or expired), 1013 (too slow to keep up) or 1001 "
        "(server stopping).",
    )
