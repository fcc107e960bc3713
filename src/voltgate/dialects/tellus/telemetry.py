"""Telemetry on Tellus paths.

Charger side: `POST /v1/device/telemetry` (the hottest write of the platform: the raw body,
checked by hand, 202 and stored within a second) and `POST /v1/device/events`. Operator side:
`GET /v1/operator/devices/{id}/telemetry/latest`, `…/telemetry` (a raw range, by cursor),
`…/telemetry/series` (downsampled) and `GET /v1/operator/devices/{id}/events`.
"""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.clock import Clock
from voltgate.dialects.tellus.envelope import Envelope, envelope
from voltgate.dialects.tellus.guards import READER, SIGNED_DEVICE
from voltgate.http.kept import Keep
from voltgate.http.routing import NO_STORE, Body, Call, RawResponse, RouteTable, json
from voltgate.http.times import instant
from voltgate.pagination import MAX_SIZE
from voltgate.telemetry import rollups
from voltgate.telemetry.schemas import (
    BucketView,
    EventBatch,
    EventView,
    ReadingView,
    TelemetryBody,
    bucket_view,
    event_view,
    reading_view,
)
from voltgate.telemetry.service import MAX_LIMIT, Telemetry

OPERATOR_TAGS = ("tellus: operator",)
CHARGER_TAGS = ("tellus: charger",)
MAX_CONNECTOR = 64
RAW_DEFAULT = rollups.HOUR  # `from` when left out: this long before `to`
SERIES_DEFAULT = rollups.DAY
_FROM = "Unix seconds or RFC 3339 (inclusive); default: see `to`"
_TO = "Unix seconds or RFC 3339 (exclusive); default: now"


class RangeQuery(BaseModel):
    """`from` defaults to an hour before `to`, `to` to now; `connector` left out: all."""

    connector: int | None = Field(
        default=None, ge=1, le=MAX_CONNECTOR, description="a connector number (1..n)"
    )
    start: str | None = Field(default=None, alias="from", max_length=40, description=_FROM)
    end: str | None = Field(default=None, alias="to", max_length=40, description=_TO)
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=400)


class SeriesQuery(BaseModel):
    connector: int = Field(ge=1, le=MAX_CONNECTOR, description="a connector number (1..n)")
    field: str = Field(max_length=32, description=", ".join(rollups.FIELDS))
    start: str | None = Field(default=None, alias="from", max_length=40, description=_FROM)
    end: str | None = Field(default=None, alias="to", max_length=40, description=_TO)
    resolution: str = Field(default="1m", max_length=8, description="1m, 15m or 1h")


class EventsQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_SIZE)


class Accepted(TypedDict):
    accepted: int


class Latest(TypedDict):
    device_id: str
    online: bool
    last_seen_at: int | None
    connectors: list[ReadingView]


class Events(TypedDict):
    items: list[EventView]


# `from` and `to` are Python keywords: the functional form.
Readings = TypedDict(
    "Readings",
    {
        "device_id": str,
        "connector": int | None,
        "from": float,
        "to": float,
        "items": list[ReadingView],
        "next_cursor": str | None,
    },
)
Series = TypedDict(
    "Series",
    {
        "device_id": str,
        "connector": int,
        "field": str,
        "resolution": str,
        "from": float,
        "to": float,
        "buckets": list[BucketView],
    },
)


class Meter:
    """The telemetry routes, bound to the telemetry service."""

    def __init__(self, telemetry: Telemetry, clock: Clock) -> None:
        self._telemetry = telemetry
        self._clock = clock

    async def ingest(self, call: Call[None, None, bytes]) -> RawResponse:
        accepted = await self._telemetry.ingest(call.principal.claims.client_id, call.body)
        return json(envelope({"accepted": accepted}), 202, NO_STORE)

    async def post_events(self, call: Call[None, None, EventBatch]) -> Envelope[Accepted]:
        accepted = await self._telemetry.record_events(call.principal.claims.client_id, call.body)
        return envelope({"accepted": accepted})

    async def latest(self, call: Call[None, None, None]) -> Envelope[Latest]:
        operator_id = call.principal.claims.client_id
        found, newest = await self._telemetry.latest(operator_id, call.params["device_id"])
        # This process may have heard from it since last_seen_at was last written.
        heard = self._telemetry.last_heard(found.id)
        seen = max((t for t in (found.last_seen_at, heard) if t is not None), default=None)
        return envelope(
            {
                "device_id": found.id,
                "online": replace(found, last_seen_at=seen).online_at(self._clock.now()),
                "last_seen_at": None if seen is None else int(seen),
                "connectors": [reading_view(r) for r in newest],
            }
        )

    async def readings(self, call: Call[None, RangeQuery, None]) -> Envelope[Readings]:
        query, device_id = call.query, call.params["device_id"]
        first, stop = self._range(query.start, query.end, RAW_DEFAULT)
        part = await self._telemetry.readings(
            call.principal.claims.client_id,
            device_id,
            query.connector,
            first,
            stop,
            limit=query.limit,
            cursor=query.cursor,
        )
        return envelope(
            {
                "device_id": device_id,
                "connector": query.connector,
                "from": first,
                "to": stop,
                "items": [reading_view(r) for r in part.items],
                "next_cursor": part.next_cursor,
            }
        )

    async def series(self, call: Call[None, SeriesQuery, None]) -> Envelope[Series]:
        query, device_id = call.query, call.params["device_id"]
        first, stop = self._range(query.start, query.end, SERIES_DEFAULT)
        found = await self._telemetry.series(
            call.principal.claims.client_id,
            device_id,
            query.connector,
            query.field,
            first,
            stop,
            query.resolution,
        )
        return envelope(
            {
                "device_id": device_id,
                "connector": query.connector,
                "field": query.field,
                "resolution": query.resolution,
                "from": first,
                "to": stop,
                "buckets": [bucket_view(b) for b in found],
            }
        )

    async def events(self, call: Call[None, EventsQuery, None]) -> Envelope[Events]:
        found = await self._telemetry.events(
            call.principal.claims.client_id, call.params["device_id"], call.query.limit
        )
        return envelope({"items": [event_view(e) for e in found]})

    def _range(self, start: str | None, end: str | None, span: int) -> tuple[float, float]:
        stop = instant(end, "to")
        if stop is None:
            stop = self._clock.now()
        low = instant(start, "from")
        return (stop - span if low is None else low), stop


def mount(tellus: RouteTable, telemetry: Telemetry, clock: Clock) -> None:
    routes = Meter(telemetry, clock)
    charger = tellus.scope("/v1/device", guard=SIGNED_DEVICE, tags=CHARGER_TAGS)
    charger.post(
        "/telemetry",
        routes.ingest,
        body=Body.raw(TelemetryBody),
        status=202,
        response=Envelope[Accepted],
        # 404: no charger registered under this token; 429: storage is behind, retry in 1 s;
        # 503: the commit failed, nothing stored.
        failures=(404, 429, 503),
        summary="Tellus charger telemetry (202 {accepted}: committed before the answer)",
    )
    charger.post(
        "/events",
        routes.post_events,
        body=Body.json(EventBatch),
        status=201,
        response=Envelope[Accepted],
        failures=(404,),
        summary="Report events: faults, plug in/out, … (stored at once)",
    )
    # Kept per caller and request while the charger's telemetry and the operator's chargers
    # are unchanged, at most a second (`online` and a defaulted `to` come from the clock).
    kept = Keep(
        lambda call: telemetry.version(call.principal.claims.client_id, call.params["device_id"])
    )
    device = tellus.scope(
        "/v1/operator/devices/{device_id}",
        guard=READER,
        failures=(404,),
        tags=OPERATOR_TAGS,
        keep=kept,
    )
    device.get(
        "/telemetry/latest",
        routes.latest,
        response=Envelope[Latest],
        summary="Each connector's newest reading, and whether the charger is online",
    )
    device.get(
        "/telemetry",
        routes.readings,
        query=RangeQuery,
        response=Envelope[Readings],
        summary="Stored readings in [from, to) (at most 1 day), oldest first, cursor-paginated",
    )
    device.get(
        "/telemetry/series",
        routes.series,
        query=SeriesQuery,
        response=Envelope[Series],
        summary="One field of one connector in 1m, 15m or 1h buckets: count, avg, min, max, last",
        description="Buckets aligned to UTC multiples of the resolution, every one overlapping "
        "[from, to) that holds a value (1m spans at most 7 days, 15m 31 days, 1h 366 days); "
        "`from` defaults to a day before `to`, `to` to now.",
    )
    device.get(
        "/events",
        routes.events,
        query=EventsQuery,
        response=Envelope[Events],
        summary="The charger's newest events",
    )
