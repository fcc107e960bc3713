"""The operator's inventory on voltgate's own paths: `/v1/sites` and `/v1/devices`, plain JSON,
cursor slices `{items, next_cursor}` that stay exact while rows are added. An operator token
is needed: `read` to list and show, `write` to create."""

from __future__ import annotations

from pydantic import BaseModel, Field

from voltgate.clock import Clock
from voltgate.devices.schemas import DeviceView, device_view
from voltgate.devices.service import Devices
from voltgate.devices.store import Device
from voltgate.errors import RESOURCE_ERRORS
from voltgate.http.guards import Guard
from voltgate.http.kept import by_client
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.identity.clients import ClientKind
from voltgate.pagination import DEFAULT_LIMIT, MAX_SIZE, SliceView, slice_view
from voltgate.sites.schemas import SiteCreate, SiteView, site_view
from voltgate.sites.service import Sites

_OPERATOR = (ClientKind.OPERATOR.value,)
READER = Guard(kinds=_OPERATOR, scopes=("read",))
WRITER = Guard(kinds=_OPERATOR, scopes=("write",))


class CursorQuery(BaseModel):
    limit: int = Field(
        default=DEFAULT_LIMIT, ge=1, le=MAX_SIZE, description=f"rows, at most {MAX_SIZE}"
    )
    cursor: str | None = Field(
        default=None, max_length=400, description="`next_cursor` of the previous response"
    )


class Inventory:
    def __init__(self, sites: Sites, devices: Devices, clock: Clock) -> None:
        self._sites = sites
        self._devices = devices
        self._clock = clock

    async def sites(self, call: Call[None, CursorQuery, None]) -> SliceView[SiteView]:
        operator_id, query = call.principal.claims.client_id, call.query
        return slice_view(
            await self._sites.scroll(operator_id, query.cursor, query.limit), site_view
        )

    async def create_site(self, call: Call[None, None, SiteCreate]) -> SiteView:
        return site_view(await self._sites.create(call.principal.claims.client_id, call.body))

    async def site(self, call: Call[None, None, None]) -> SiteView:
        operator_id = call.principal.claims.client_id
        return site_view(await self._sites.get(operator_id, call.params["site_id"]))

    async def devices(self, call: Call[None, CursorQuery, None]) -> SliceView[DeviceView]:
        operator_id, query = call.principal.claims.client_id, call.query
        part = await self._devices.scroll(operator_id, query.cursor, query.limit)
        now = self._clock.now()

        def view(device: Device) -> DeviceView:
            return device_view(device, now)

        return slice_view(part, view)

    async def device(self, call: Call[None, None, None]) -> DeviceView:
        operator_id = call.principal.claims.client_id
        found = await self._devices.get(operator_id, call.params["device_id"])
        return device_view(found, self._clock.now())


def mount(table: RouteTable, sites: Sites, devices: Devices, clock: Clock) -> None:
    routes = Inventory(sites, devices, clock)
    site = table.scope("/v1/sites", errors=RESOURCE_ERRORS, tags=("sites",))
    site.get(
        "",
        routes.sites,
        guard=READER,
        query=CursorQuery,
        keep=by_client(sites.versions),
        response=SliceView[SiteView],
        summary="The operator's sites, by cursor",
    )
    site.post(
        "",
        routes.create_site,
        guard=WRITER,
        body=Body.json(SiteCreate),
        status=201,
        response=SiteView,
        summary="Create a site (write scope)",
    )
    site.get(
        "/{site_id}",
        routes.site,
        guard=READER,
        keep=by_client(sites.versions),
        response=SiteView,
        failures=(404,),
        summary="One of the operator's sites",
    )
    device = table.scope(
        "/v1/devices",
        errors=RESOURCE_ERRORS,
        guard=READER,
        tags=("devices",),
        keep=by_client(devices.versions),
    )
    device.get(
        "",
        routes.devices,
        query=CursorQuery,
        response=SliceView[DeviceView],
        summary="The operator's chargers, by cursor",
    )
    device.get(
        "/{device_id}",
        routes.device,
        response=DeviceView,
        failures=(404,),
        summary="One of the operator's chargers",
    )
