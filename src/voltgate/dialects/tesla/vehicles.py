"""Vehicles on the Tesla Fleet API: `/api/1/vehicles[/{vehicle}]`, `vehicle_data`, `wake_up`,
`command/{name}` and `/api/1/dx/charging/history`, in `{"response": …}` bodies. Each command
names the scopes that may send it (`vehicles.catalog`): `vehicle_cmds` for all of them,
`vehicle_charging_cmds` for the charging ones.

Only a user's delegated token reaches them (kinds `third_party`, `open_source`: the token's
subject is the user); any other kind is 403. `{vehicle}` is the vehicle's id or VIN; another
user's vehicle is 404, exactly like a missing one.

The reads keep their answers (`http.kept`) while the user's vehicles are unchanged (every
command, wake-up and settled charge moves them, here at once and on other instances when
heard) and for at most a second: the present computed from the clock (battery level while
charging, asleep or online, a charge that just finished entering the history) is up to 1 s
old. A read settles a finished charge in the database; a kept answer skips that, and the next
read that is made does it.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from voltgate.errors import InvalidRequest
from voltgate.http.guards import Guard
from voltgate.http.kept import by_subject
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS
from voltgate.pagination import MAX_SIZE
from voltgate.vehicles.catalog import COMMANDS, find
from voltgate.vehicles.schemas import charging_session, parse_endpoints, summary, vehicle_data
from voltgate.vehicles.service import Vehicles
from voltgate.vehicles.views import ChargingHistoryEntry, VehicleData, VehicleSummary

VEHICLE_SCOPES = (
    "vehicle_device_data",
    "vehicle_location",
    "vehicle_cmds",
    "vehicle_charging_cmds",
)
ANY_VEHICLE_SCOPE = Guard(kinds=DELEGATED_KINDS, scopes=VEHICLE_SCOPES, any_of=True)
DEVICE_DATA = Guard(kinds=DELEGATED_KINDS, scopes=("vehicle_device_data",))
WAKER = Guard(
    kinds=DELEGATED_KINDS,
    scopes=("vehicle_device_data", "vehicle_cmds", "vehicle_charging_cmds"),
    any_of=True,
)
COMMANDER = Guard(
    kinds=DELEGATED_KINDS, scopes=("vehicle_charging_cmds", "vehicle_cmds"), any_of=True
)
CHARGING_READER = Guard(kinds=DELEGATED_KINDS, scopes=("vehicle_charging_cmds",))
_MAX_PAGE = 100_000
_MAX_MESSAGE = 16_384  # base64 characters: a command is a few hundred bytes


class VehiclePage(BaseModel):
    page: int = Field(default=1, ge=1, le=_MAX_PAGE)
    per_page: int = Field(default=MAX_SIZE, ge=1, le=MAX_SIZE)


class DataQuery(BaseModel):
    endpoints: str | None = Field(
        default=None,
        max_length=300,
        description="sections separated by `;`, e.g. charge_state;location_data (all if absent)",
    )


class HistoryQuery(BaseModel):
    vin: str | None = Field(default=None, min_length=1, max_length=32)
    page_no: int = Field(default=0, alias="pageNo", ge=0, le=_MAX_PAGE)
    page_size: int = Field(default=50, alias="pageSize", ge=1, le=MAX_SIZE)
    sort_order: Literal["ASC", "DESC"] = Field(default="DESC", alias="sortOrder")


class SignedCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    routable_message: str = Field(
        min_length=1,
        max_length=_MAX_MESSAGE,
        description="a RoutableMessage of the vehicle command protocol, base64 (standard)",
    )


class SignedReply(TypedDict):
    response: str  # the vehicle's RoutableMessage, base64


class Pagination(TypedDict):
    previous: int | None
    next: int | None
    current: int
    per_page: int
    count: int
    pages: int


class VehicleList(TypedDict):
    response: list[VehicleSummary]
    pagination: Pagination
    count: int


class OneVehicle(TypedDict):
    response: VehicleSummary


class VehicleDataResponse(TypedDict):
    response: VehicleData


class CommandResult(TypedDict):
    result: bool
    reason: str


class CommandResponse(TypedDict):
    response: CommandResult


class ChargingHistory(TypedDict):
    data: list[ChargingHistoryEntry]
    totalResults: int
    hasMoreData: bool
    pageNo: int


class ChargingHistoryResponse(TypedDict):
    response: ChargingHistory


class VehicleRoutes:
    def __init__(self, vehicles: Vehicles) -> None:
        self._vehicles = vehicles

    async def list_vehicles(self, call: Call[None, VehiclePage, None]) -> VehicleList:
        page, per_page = call.query.page, call.query.per_page
        owned = await self._vehicles.owned(call.principal.claims.subject)
        window = owned[(page - 1) * per_page : page * per_page]
        pages = max(1, math.ceil(len(owned) / per_page))
        return {
            "response": [summary(vehicle, seen) for vehicle, seen in window],
            "pagination": {
                "previous": page - 1 if page > 1 else None,
                "next": page + 1 if page < pages else None,
                "current": page,
                "per_page": per_page,
                "count": len(owned),
                "pages": pages,
            },
            "count": len(owned),
        }

    async def show(self, call: Call[None, None, None]) -> OneVehicle:
        user_id = call.principal.claims.subject
        found, seen = await self._vehicles.get(user_id, call.params["vehicle"])
        return {"response": summary(found, seen)}

    async def data(self, call: Call[None, DataQuery, None]) -> VehicleDataResponse:
        sections = parse_endpoints(call.query.endpoints)
        claims = call.principal.claims
        found, seen = await self._vehicles.data(claims.subject, call.params["vehicle"])
        located = "vehicle_location" in claims.scopes
        return {"response": vehicle_data(found, seen, located=located, sections=sections)}

    async def wake_up(self, call: Call[None, None, None]) -> OneVehicle:
        user_id = call.principal.claims.subject
        found, seen = await self._vehicles.wake_up(user_id, call.params["vehicle"])
        return {"response": summary(found, seen)}

    async def command(self, call: Call[None, None, dict[str, Any]]) -> CommandResponse:
        """An unknown command is 400 and a token without one of the command's own scopes 403,
        before the vehicle is looked up."""
        params, principal = call.params, call.principal
        command = find(params["name"])
        principal.require_any(*command.scopes)
        result, reason = await self._vehicles.command(
            principal.claims.subject, params["vehicle"], command, call.body
        )
        return {"response": {"result": result, "reason": reason}}

    async def signed_command(self, call: Call[None, None, SignedCommand]) -> SignedReply:
        """The vehicle's reply, base64; HTTP 200 whether or not the vehicle took the command
        (the reply says). The token needs a scope that may send the command carried."""
        try:
            message = base64.b64decode(call.body.routable_message, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("routable_message is not base64") from None
        principal = call.principal

        def may_send(name: str) -> None:
            principal.require_any(*find(name).scopes)

        reply = await self._vehicles.signed_command(
            principal.claims.subject, call.params["vehicle"], message, may_send
        )
        return {"response": base64.b64encode(reply).decode()}

    async def history(self, call: Call[None, HistoryQuery, None]) -> ChargingHistoryResponse:
        query = call.query
        page_no, page_size = query.page_no, query.page_size
        sessions, total = await self._vehicles.history(
            call.principal.claims.subject,
            query.vin,
            page_no,
            page_size,
            newest_first=query.sort_order == "DESC",
        )
        return {
            "response": {
                "data": [charging_session(s) for s in sessions],
                "totalResults": total,
                "hasMoreData": (page_no + 1) * page_size < total,
                "pageNo": page_no,
            }
        }


_COMMANDS_DOC = (
    "The body is the command's parameters (nothing, or a JSON object), e.g. "
    '`{"percent": 80}` for set_charge_limit; an unknown command or parameter is 400. '
    "The commands and the scopes that may send each (any one of them): "
    + "; ".join(f"`{name}` ({' or '.join(c.scopes)})" for name, c in sorted(COMMANDS.items()))
    + "."
)


def mount(table: RouteTable, vehicles: Vehicles) -> None:
    """`table` carries the dialect's error body and the per-app limit."""
    routes = VehicleRoutes(vehicles)
    keep = by_subject(vehicles.versions)
    api = table.scope("/api/1/vehicles", tags=("tesla: vehicles",))
    # Every read settles a charge that finished since the last look: 409 if that keeps losing.
    api.get(
        "",
        routes.list_vehicles,
        guard=ANY_VEHICLE_SCOPE,
        query=VehiclePage,
        keep=keep,
        response=VehicleList,
        failures=(409,),
        summary="The user's vehicles (any vehicle scope)",
    )
    api.get(
        "/{vehicle}",
        routes.show,
        guard=ANY_VEHICLE_SCOPE,
        keep=keep,
        response=OneVehicle,
        failures=(404, 409),
        summary="One of the user's vehicles, asleep or not",
    )
    api.get(
        "/{vehicle}/vehicle_data",
        routes.data,
        guard=DEVICE_DATA,
        query=DataQuery,
        keep=keep,
        response=VehicleDataResponse,
        failures=(404, 408, 409),
        summary="Live vehicle data (vehicle_device_data; the location needs vehicle_location)",
    )
    api.post(
        "/{vehicle}/wake_up",
        routes.wake_up,
        guard=WAKER,
        response=OneVehicle,
        failures=(404, 409),
        summary="Wake the vehicle up",
    )
    api.post(
        "/{vehicle}/command/{name}",
        routes.command,
        guard=COMMANDER,
        body=Body.object(),
        response=CommandResponse,
        failures=(404, 408, 409),
        summary="A vehicle command (each names its scopes: vehicle_cmds, vehicle_charging_cmds)",
        description=_COMMANDS_DOC,
    )
    api.post(
        "/{vehicle}/signed_command",
        routes.signed_command,
        guard=COMMANDER,
        body=Body.json(SignedCommand, max_bytes=_MAX_MESSAGE + 64),
        response=SignedReply,
        failures=(400, 404, 408, 409, 422),
        summary="A command in the vehicle command protocol, signed with a key paired to the "
        "vehicle (vehicle_cmds or vehicle_charging_cmds, as the command carried needs)",
        description='The body is `{"routable_message": base64}`; the answer '
        '`{"response": base64}` is the vehicle\'s reply, which says whether it took the '
        "command: HTTP 200 does not mean it ran. 422 for a vehicle that does not speak the "
        "protocol (`command_signing: off`).",
    )
    table.get(
        "/api/1/dx/charging/history",
        routes.history,
        guard=CHARGING_READER,
        query=HistoryQuery,
        keep=keep,
        response=ChargingHistoryResponse,
        failures=(404, 409),
        tags=("tesla: vehicles",),
        summary="The user's vehicles' finished charging sessions (vehicle_charging_cmds)",
    )
