"""The operator's inventory on Tellus paths: sites (`/v1/operator/sites`), chargers
(`/v1/operator/devices`) and the enrollment tokens chargers register with
(`/v1/operator/enrollments`); and the charger's side of it, `POST /v1/device/register` (the
enrollment token as bearer, or none in a sandbox) and `POST /v1/device/secret/rotate`."""

from __future__ import annotations

from typing_extensions import TypedDict

from voltgate.clock import Clock
from voltgate.devices.enrollment import Enrollments
from voltgate.devices.schemas import (
    MAX_REGISTRATION_BODY,
    DeviceRegistration,
    DeviceView,
    EnrollmentCreate,
    EnrollmentView,
    device_view,
    enrollment_view,
)
from voltgate.devices.service import Devices
from voltgate.devices.store import Device
from voltgate.dialects.tellus.envelope import Envelope, PageQuery, TellusPage, envelope, paged
from voltgate.dialects.tellus.guards import DEVICE, READER, WRITER
from voltgate.http.kept import by_client
from voltgate.http.routing import Body, Call, RouteTable
from voltgate.sites.schemas import SiteCreate, SiteView, site_view
from voltgate.sites.service import Sites

OPERATOR_TAGS = ("tellus: operator",)
CHARGER_TAGS = ("tellus: charger",)


class Registered(TypedDict):
    device_id: str
    device_secret: str  # shown once


class RotatedDeviceSecret(TypedDict):
    device_id: str
    device_secret: str  # shown once
    overlap_seconds: int
    previous_secret_expires_at: int


class Inventory:
    def __init__(
        self, sites: Sites, devices: Devices, enrollments: Enrollments, clock: Clock
    ) -> None:
        self._sites = sites
        self._devices = devices
        self._enrollments = enrollments
        self._clock = clock

    async def sites(self, call: Call[None, PageQuery, None]) -> Envelope[TellusPage[SiteView]]:
        operator_id, query = call.principal.claims.client_id, call.query
        return paged(await self._sites.page(operator_id, query.page, query.size), site_view)

    async def create_site(self, call: Call[None, None, SiteCreate]) -> Envelope[SiteView]:
        return envelope(
            site_view(await self._sites.create(call.principal.claims.client_id, call.body))
        )

    async def site(self, call: Call[None, None, None]) -> Envelope[SiteView]:
        operator_id = call.principal.claims.client_id
        return envelope(site_view(await self._sites.get(operator_id, call.params["site_id"])))

    async def devices(self, call: Call[None, PageQuery, None]) -> Envelope[TellusPage[DeviceView]]:
        operator_id, query = call.principal.claims.client_id, call.query
        found = await self._devices.page(operator_id, query.page, query.size)
        now = self._clock.now()

        def view(device: Device) -> DeviceView:
            return device_view(device, now)

        return paged(found, view)

    async def device(self, call: Call[None, None, None]) -> Envelope[DeviceView]:
        operator_id = call.principal.claims.client_id
        found = await self._devices.get(operator_id, call.params["device_id"])
        return envelope(device_view(found, self._clock.now()))

    async def enroll(self, call: Call[None, None, EnrollmentCreate]) -> Envelope[EnrollmentView]:
        enrollment, token = await self._enrollments.create(
            call.principal.claims.client_id, call.body, request_id=call.request.request_id
        )
        return envelope(enrollment_view(enrollment, token))

    async def register(self, call: Call[None, None, DeviceRegistration]) -> Envelope[Registered]:
        request = call.request
        registered = await self._devices.register(
            request.header(b"authorization"),
            call.body,
            request_id=request.request_id,
            address=request.address,
        )
        return envelope({"device_id": registered.device.id, "device_secret": registered.secret})

    async def rotate(self, call: Call[None, None, None]) -> Envelope[RotatedDeviceSecret]:
        device_id = call.principal.claims.client_id
        rotated = await self._devices.rotate_secret(device_id, request_id=call.request.request_id)
        return envelope(
            {
                "device_id": device_id,
                "device_secret": rotated.secret,
                "overlap_seconds": rotated.overlap,
                "previous_secret_expires_at": int(rotated.previous_expires_at),
            }
        )


def mount(
    tellus: RouteTable, sites: Sites, devices: Devices, enrollments: Enrollments, clock: Clock
) -> None:
    routes = Inventory(sites, devices, enrollments, clock)
    operator = tellus.scope("/v1/operator", tags=OPERATOR_TAGS)
    operator.get(
        "/sites",
        routes.sites,
        guard=READER,
        query=PageQuery,
        keep=by_client(sites.versions),
        response=Envelope[TellusPage[SiteView]],
        summary="The operator's sites, a page at a time",
    )
    operator.post(
        "/sites",
        routes.create_site,
        guard=WRITER,
        body=Body.json(SiteCreate),
        status=201,
        response=Envelope[SiteView],
        summary="Create a site (write scope)",
    )
    operator.get(
        "/sites/{site_id}",
        routes.site,
        guard=READER,
        keep=by_client(sites.versions),
        response=Envelope[SiteView],
        failures=(404,),
        summary="One of the operator's sites",
    )
    operator.get(
        "/devices",
        routes.devices,
        guard=READER,
        query=PageQuery,
        keep=by_client(devices.versions),
        response=Envelope[TellusPage[DeviceView]],
        summary="The operator's chargers, a page at a time",
    )
    operator.get(
        "/devices/{device_id}",
        routes.device,
        guard=READER,
        keep=by_client(devices.versions),
        response=Envelope[DeviceView],
        failures=(404,),
        summary="One of the operator's chargers",
    )
    operator.post(
        "/enrollments",
        routes.enroll,
        guard=WRITER,
        body=Body.json(EnrollmentCreate),
        status=201,
        response=Envelope[EnrollmentView],
        failures=(404,),  # the site, or the operator since disabled
        summary="Issue an enrollment token for chargers to register with (shown once)",
    )
    charger = tellus.scope("/v1/device", tags=CHARGER_TAGS)
    charger.post(
        "/register",
        routes.register,
        body=Body.json(DeviceRegistration, max_bytes=MAX_REGISTRATION_BODY),
        status=201,
        response=Envelope[Registered],
        # The enrollment token is checked by the enrollments, not a route guard: 401 code
        # 2001 with the reason; 409 code 4001 for a serial already registered.
        failures=(401, 409),
        summary="Register a charger (Authorization: Bearer <enrollment token>)",
    )
    charger.post(
        "/secret/rotate",
        routes.rotate,
        guard=DEVICE,
        response=Envelope[RotatedDeviceSecret],
        summary="A new device secret; the old one overlaps for 24 h",
    )
