"""Charging records over HTTP (Tellus paths, envelope): the charger reports
`POST /v1/device/charging-records`; the operator lists `GET /v1/operator/charging-records`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from voltgate.charging.schemas import RecordIn, record_view
from voltgate.http.adapter import bearer, operator_reader, runtime
from voltgate.http.shapes import PageNumber, PageSize, envelope, tellus_page, tellus_router
from voltgate.http.signing import signed
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.pagination import DEFAULT_SIZE

reader = operator_reader
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
    record, created = await runtime(request).charging.report(principal.claims.client_id, body)
    if not created:
        response.status_code = 200
    return envelope(record_view(record))


@operator.get("/charging-records", summary="The operator's charging records, newest first")
async def list_records(
    request: Request,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    page: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).charging.page(principal.claims.client_id, device_id, page, size)
    return tellus_page(found, record_view)
