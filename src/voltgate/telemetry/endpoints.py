"""Telemetry over HTTP (Tellus paths, envelope).

Charger side: `POST /v1/device/telemetry` is a fast-path route (`ingest`, raw ASGI: it is the
hottest write of the platform) and `POST /v1/device/events`. Operator side:
`GET /v1/operator/devices/{id}/telemetry/latest`, `…/telemetry` (a raw range),
`…/telemetry/series` (downsampled) and `GET /v1/operator/devices/{id}/events`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from voltgate.errors import InvalidToken
from voltgate.http import fastpath
from voltgate.http.adapter import bearer, operator_reader, runtime
from voltgate.http.fastpath import RawRequest, RawResponse
from voltgate.http.shapes import envelope, tellus_router
from voltgate.http.signing import signed
from voltgate.http.times import instant
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.pagination import MAX_SIZE
from voltgate.telemetry import rollups
from voltgate.telemetry.schemas import (
    EventBatch,
    bucket_view,
    event_view,
    reading_view,
)
from voltgate.telemetry.service import MAX_LIMIT

DEVICE = ClientKind.DEVICE.value
reader = operator_reader
device = signed(bearer(kinds=(DEVICE,)), sensitive=False)

operator = tellus_router(prefix="/v1/operator", tags=["tellus: operator"])
charger = tellus_router(prefix="/v1/device", tags=["tellus: charger"])


async def ingest(request: RawRequest) -> RawResponse:
    """`POST /v1/device/telemetry` → 202 `{accepted: n}`; stored within a second."""
    rt = runtime(request)
    principal = await rt.identity.guard.authenticate(request.header(b"authorization"))
    principal.require_kind(DEVICE)
    body = await request.body(rt.settings.max_body_bytes)
    await _verify_signature(request, principal.claims.client_id, body)
    accepted = await rt.fleet.telemetry.ingest(principal.claims.client_id, body)
    return fastpath.json(envelope({"accepted": accepted}), 202, fastpath.NO_STORE)


async def _verify_signature(request: RawRequest, client_id: str, body: bytes) -> None:
    """As `http.signing.signed` does for FastAPI routes: a present signature is always
    verified; the device's mode decides whether an unsigned request passes."""
    rt = runtime(request)
    client = await rt.identity.clients.get(client_id)
    if client is None:
        raise InvalidToken("the client of this access token no longer exists")
    signature = request.header(b"x-signature")
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope.get("query_string", b"")
    target = (raw + b"?" + query if query else raw).decode("latin-1")
    await rt.identity.verifier.verify(
        mode=client.signing,
        sensitive=False,
        method="POST",
        path=target,
        body=body,
        timestamp=request.header(b"x-timestamp"),
        signature=signature,
        sealed_secrets=[]
        if signature is None
        else await rt.identity.admin.signing_secrets(client_id),
    )


@charger.post(
    "/events", status_code=201, summary="Report events: faults, plug in/out, … (stored at once)"
)
async def post_events(
    body: EventBatch, request: Request, principal: Principal = Depends(device)
) -> dict[str, Any]:
    accepted = await runtime(request).fleet.telemetry.record_events(
        principal.claims.client_id, body
    )
    return envelope({"accepted": accepted})


@operator.get(
    "/devices/{device_id}/telemetry/latest",
    summary="Each connector's newest reading, and whether the charger is online",
)
async def latest(
    device_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    rt = runtime(request)
    found, newest = await rt.fleet.telemetry.latest(principal.claims.client_id, device_id)
    # This process may have heard from it since last_seen_at was last written.
    heard = rt.fleet.telemetry.last_heard(found.id)
    seen = max((t for t in (found.last_seen_at, heard) if t is not None), default=None)
    return envelope(
        {
            "device_id": found.id,
            "online": replace(found, last_seen_at=seen).online_at(rt.clock.now()),
            "last_seen_at": None if seen is None else int(seen),
            "connectors": [reading_view(r) for r in newest],
        }
    )


Connector = Annotated[int | None, Query(ge=1, description="a connector number (1..n)")]
From = Annotated[
    str | None,
    Query(alias="from", max_length=40, description="Unix seconds or RFC 3339 (inclusive)"),
]
To = Annotated[
    str | None,
    Query(alias="to", max_length=40, description="Unix seconds or RFC 3339 (exclusive); now"),
]
RAW_DEFAULT = rollups.HOUR  # `from` when left out: this long before `to`
SERIES_DEFAULT = rollups.DAY


def _range(request: Request, start: str | None, end: str | None, span: int) -> tuple[float, float]:
    stop = instant(end, "to")
    if stop is None:
        stop = runtime(request).clock.now()
    low = instant(start, "from")
    return (stop - span if low is None else low), stop


@operator.get(
    "/devices/{device_id}/telemetry",
    summary="Stored readings in [from, to) (at most 1 day), oldest first, cursor-paginated",
)
async def readings(
    device_id: str,
    request: Request,
    connector: Connector = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    """`from` defaults to an hour before `to`, `to` to now; `connector` left out: all of them."""
    first, stop = _range(request, start, end, RAW_DEFAULT)
    part = await runtime(request).fleet.telemetry.readings(
        principal.claims.client_id, device_id, connector, first, stop, limit=limit, cursor=cursor
    )
    return envelope(
        {
            "device_id": device_id,
            "connector": connector,
            "from": first,
            "to": stop,
            "items": [reading_view(r) for r in part.items],
            "next_cursor": part.next_cursor,
        }
    )


@operator.get(
    "/devices/{device_id}/telemetry/series",
    summary="One field of one connector in 1m, 15m or 1h buckets: count, avg, min, max, last",
)
async def series(
    device_id: str,
    request: Request,
    connector: Annotated[int, Query(ge=1)],
    field: Annotated[str, Query(max_length=32, description=", ".join(rollups.FIELDS))],
    start: From = None,
    end: To = None,
    resolution: Annotated[str, Query(max_length=8, description="1m, 15m or 1h")] = "1m",
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    """Buckets aligned to UTC multiples of the resolution, every one overlapping [from, to)
    that holds a value (1m spans at most 7 days, 15m 31 days, 1h 366 days); `from` defaults
    to a day before `to`, `to` to now."""
    first, stop = _range(request, start, end, SERIES_DEFAULT)
    found = await runtime(request).fleet.telemetry.series(
        principal.claims.client_id, device_id, connector, field, first, stop, resolution
    )
    return envelope(
        {
            "device_id": device_id,
            "connector": connector,
            "field": field,
            "resolution": resolution,
            "from": first,
            "to": stop,
            "buckets": [bucket_view(b) for b in found],
        }
    )


@operator.get("/devices/{device_id}/events", summary="The charger's newest events")
async def list_events(
    device_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 50,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).fleet.telemetry.events(
        principal.claims.client_id, device_id, limit
    )
    return envelope({"items": [event_view(e) for e in found]})
