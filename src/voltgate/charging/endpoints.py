"""Charging records over HTTP (Tellus paths, envelope): the charger reports
`POST /v1/device/charging-records`; the operator lists `GET /v1/operator/charging-records` and
sums them with `GET /v1/operator/aggregated/energy`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from voltgate.charging.schemas import RecordIn, record_view, report_view
from voltgate.charging.store import RecordFilter
from voltgate.errors import ValidationFailed
from voltgate.http.adapter import bearer, operator_reader, runtime
from voltgate.http.shapes import Cursor, cursor_slice, envelope, tellus_page, tellus_router
from voltgate.http.signing import signed
from voltgate.http.times import instant
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.pagination import DEFAULT_LIMIT, DEFAULT_SIZE, MAX_SIZE

reader = operator_reader
# The window aggregated/energy covers when `from` is left out: a day of hours, a month of days,
# a year of months.
DEFAULT_SPAN = {"hour": 86_400.0, "day": 31 * 86_400.0, "month": 366 * 86_400.0}
device = signed(bearer(kinds=(ClientKind.DEVICE.value,)), sensitive=False)

operator = tellus_router(prefix="/v1/operator", tags=["tellus: operator"])
charger = tellus_router(prefix="/v1/device", tags=["tellus: charger"])


@charger.post(
    "/charging-records",
    status_code=201,
    summary="Report a charging session (201 new; 200 updated or repeated)",
)
async def report(
    body: RecordIn, request: Request, response: Response, principal: Principal = Depends(device)
) -> dict[str, Any]:
    record, created = await runtime(request).fleet.charging.report(principal.claims.client_id, body)
    if not created:
        response.status_code = 200
    return envelope(record_view(record))


Time = Annotated[
    str | None, Query(max_length=40, description="Unix seconds or RFC 3339 (no offset = UTC)")
]
Energy = Annotated[float | None, Query(ge=0, le=1e9, allow_inf_nan=False, description="kWh")]


@operator.get(
    "/charging-records",
    summary="The operator's charging records, newest first, filtered; by page or by cursor",
)
async def list_records(
    request: Request,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    connector: Annotated[int | None, Query(ge=1, le=64)] = None,
    start: Annotated[Time, Query(alias="from", description="started_at at or after")] = None,
    end: Annotated[Time, Query(alias="to", description="started_at before")] = None,
    finished: Annotated[bool | None, Query(description="stopped (true) or open (false)")] = None,
    energy_min: Energy = None,
    energy_max: Energy = None,
    page: Annotated[int | None, Query(ge=1, description="1-based page number")] = None,
    size: Annotated[int | None, Query(ge=1, le=MAX_SIZE, description="rows a page")] = None,
    limit: Annotated[int | None, Query(ge=1, le=MAX_SIZE, description="rows a slice")] = None,
    cursor: Cursor = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    """`page`/`size` answer `{items, page, size, total}`; `limit`/`cursor` answer `{items,
    next_cursor}` (`null` at the end) and stay exact while records keep arriving."""
    which = RecordFilter(
        operator_id=principal.claims.client_id,
        device_id=device_id,
        site_id=site_id,
        connector=connector,
        started_from=instant(start, "from"),
        started_before=instant(end, "to"),
        finished=finished,
        energy_min=energy_min,
        energy_max=energy_max,
    )
    charging = runtime(request).fleet.charging
    if limit is not None or cursor is not None:
        if page is not None or size is not None:
            raise ValidationFailed("use either page/size or limit/cursor, not both")
        part = await charging.scroll(which, cursor, DEFAULT_LIMIT if limit is None else limit)
        return envelope(cursor_slice(part, record_view))
    found = await charging.page(which, page or 1, DEFAULT_SIZE if size is None else size)
    return tellus_page(found, record_view)


@operator.get(
    "/aggregated/energy",
    summary="Energy per hour, day or month of the site's local time, summed from the records",
)
async def aggregated_energy(
    request: Request,
    granularity: Annotated[str, Query(max_length=16, description="hour, day or month")],
    start: Annotated[
        str | None,
        Query(alias="from", max_length=40, description="Unix s or RFC 3339; default: see `to`"),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            alias="to",
            max_length=40,
            description="Unix s or RFC 3339; default now, and `from` 24 h / 31 days / 366 days "
            "before it for hour / day / month",
        ),
    ] = None,
    site: Annotated[str | None, Query(max_length=64, description="a site id")] = None,
    device: Annotated[str | None, Query(max_length=64, description="a device id")] = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    """Each session counts, whole, in the period its `started_at` falls in; the totals equal
    the sum of `GET /v1/operator/charging-records` for the same site, device, from and to."""
    rt = runtime(request)
    high = instant(end, "to")
    if high is None:
        high = rt.clock.now()
    low = instant(start, "from")
    if low is None:
        low = high - DEFAULT_SPAN.get(granularity, DEFAULT_SPAN["hour"])
    report = await rt.fleet.charging.aggregate(
        principal.claims.client_id, granularity, low, high, site_id=site, device_id=device
    )
    return envelope(report_view(report))
