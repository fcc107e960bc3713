"""Charging records on Tellus paths: the charger reports `POST /v1/device/charging-records`;
the operator lists `GET /v1/operator/charging-records` and sums them with
`GET /v1/operator/aggregated/energy`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from voltgate.charging.schemas import (
    EnergyReportView,
    RecordIn,
    RecordView,
    record_view,
    report_view,
)
from voltgate.charging.service import Charging
from voltgate.charging.store import RecordFilter
from voltgate.clock import Clock
from voltgate.dialects.tellus.envelope import Envelope, TellusPage, envelope, page
from voltgate.dialects.tellus.guards import READER, SIGNED_DEVICE
from voltgate.errors import ValidationFailed
from voltgate.http.kept import Keep
from voltgate.http.routing import Body, Call, RawResponse, RouteTable, json
from voltgate.http.times import instant
from voltgate.pagination import DEFAULT_LIMIT, DEFAULT_SIZE, MAX_PAGE, MAX_SIZE, SliceView
from voltgate.pagination import slice_view as cursor_slice

OPERATOR_TAGS = ("tellus: operator",)
CHARGER_TAGS = ("tellus: charger",)
# The window aggregated/energy covers when `from` is left out: a day of hours, a month of days,
# a year of months.
DEFAULT_SPAN = {"hour": 86_400.0, "day": 31 * 86_400.0, "month": 366 * 86_400.0}
_TIME = "Unix seconds or RFC 3339 (no offset = UTC)"
Energy = Annotated[float | None, Field(ge=0, le=1e9, allow_inf_nan=False, description="kWh")]


class RecordQuery(BaseModel):
    """`page`/`size` answer `{items, page, size, total}`; `limit`/`cursor` answer `{items,
    next_cursor}` (`null` at the end) and stay exact while records keep arriving."""

    device_id: str | None = Field(default=None, max_length=64)
    site_id: str | None = Field(default=None, max_length=64)
    connector: int | None = Field(default=None, ge=1, le=64)
    start: str | None = Field(
        default=None, alias="from", max_length=40, description=f"started_at at or after: {_TIME}"
    )
    end: str | None = Field(
        default=None, alias="to", max_length=40, description=f"started_at before: {_TIME}"
    )
    finished: bool | None = Field(default=None, description="stopped (true) or open (false)")
    energy_min: Energy = None
    energy_max: Energy = None
    page: int | None = Field(default=None, ge=1, le=MAX_PAGE, description="1-based page number")
    size: int | None = Field(default=None, ge=1, le=MAX_SIZE, description="rows a page")
    limit: int | None = Field(default=None, ge=1, le=MAX_SIZE, description="rows a slice")
    cursor: str | None = Field(
        default=None, max_length=400, description="`next_cursor` of the previous response"
    )


class EnergyQuery(BaseModel):
    """Each session counts, whole, in the period its `started_at` falls in; the totals equal
    the sum of `GET /v1/operator/charging-records` for the same site, device, from and to."""

    granularity: str = Field(max_length=16, description="hour, day or month")
    start: str | None = Field(
        default=None, alias="from", max_length=40, description="Unix s or RFC 3339; see `to`"
    )
    end: str | None = Field(
        default=None,
        alias="to",
        max_length=40,
        description="Unix s or RFC 3339; default now, and `from` 24 h / 31 days / 366 days "
        "before it for hour / day / month",
    )
    site: str | None = Field(default=None, max_length=64, description="a site id")
    device: str | None = Field(default=None, max_length=64, description="a device id")


RecordList = Envelope[TellusPage[RecordView] | SliceView[RecordView]]


class Records:
    def __init__(self, charging: Charging, clock: Clock) -> None:
        self._charging = charging
        self._clock = clock

    async def report(self, call: Call[None, None, RecordIn]) -> Envelope[RecordView] | RawResponse:
        """201 for a new record; 200 for an update or a repeat."""
        record, created = await self._charging.report(call.principal.claims.client_id, call.body)
        shown = envelope(record_view(record))
        return shown if created else json(shown, 200)

    async def listing(self, call: Call[None, RecordQuery, None]) -> RecordList:
        query = call.query
        which = RecordFilter(
            operator_id=call.principal.claims.client_id,
            device_id=query.device_id,
            site_id=query.site_id,
            connector=query.connector,
            started_from=instant(query.start, "from"),
            started_before=instant(query.end, "to"),
            finished=query.finished,
            energy_min=query.energy_min,
            energy_max=query.energy_max,
        )
        if query.limit is not None or query.cursor is not None:
            if query.page is not None or query.size is not None:
                raise ValidationFailed("use either page/size or limit/cursor, not both")
            limit = DEFAULT_LIMIT if query.limit is None else query.limit
            part = await self._charging.scroll(which, query.cursor, limit)
            return envelope(cursor_slice(part, record_view))
        size = DEFAULT_SIZE if query.size is None else query.size
        found = await self._charging.page(which, query.page or 1, size)
        return envelope(page(found, record_view))

    async def energy(self, call: Call[None, EnergyQuery, None]) -> Envelope[EnergyReportView]:
        query = call.query
        high = instant(query.end, "to")
        if high is None:
            high = self._clock.now()
        low = instant(query.start, "from")
        if low is None:
            low = high - DEFAULT_SPAN.get(query.granularity, DEFAULT_SPAN["hour"])
        report = await self._charging.aggregate(
            call.principal.claims.client_id,
            query.granularity,
            low,
            high,
            site_id=query.site,
            device_id=query.device,
        )
        return envelope(report_view(report))


def mount(tellus: RouteTable, charging: Charging, clock: Clock) -> None:
    routes = Records(charging, clock)
    tellus.post(
        "/v1/device/charging-records",
        routes.report,
        guard=SIGNED_DEVICE,
        body=Body.json(RecordIn),
        status=201,
        response=Envelope[RecordView],
        answers=((200, Envelope[RecordView]),),
        # 404: no charger under this token; 409: the transaction is stopped with other values
        # (or reported concurrently).
        failures=(404, 409),
        tags=CHARGER_TAGS,
        summary="Report a charging session (201 new; 200 updated or repeated)",
    )
    # Kept per caller and request while the operator's records, chargers and sites are
    # unchanged, at most a second (a defaulted `to` is the time).
    kept = Keep(lambda call: charging.version(call.principal.claims.client_id))
    operator = tellus.scope("/v1/operator", guard=READER, tags=OPERATOR_TAGS, keep=kept)
    operator.get(
        "/charging-records",
        routes.listing,
        query=RecordQuery,
        response=RecordList,
        failures=(404,),  # the device or site is not the operator's
        summary="The operator's charging records, newest first, filtered; by page or by cursor",
    )
    operator.get(
        "/aggregated/energy",
        routes.energy,
        query=EnergyQuery,
        response=Envelope[EnergyReportView],
        failures=(404,),
        summary="Energy per hour, day or month of the site's local time, summed from the records",
    )
