"""`GET /metrics`: this process's series in the Prometheus text format, for a scraper holding a
token with `voltgate:admin` (scrapers send bearer tokens; `voltgate.metrics` says what is
measured, and how to scrape without a token on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable

from voltgate.dialects.canonical.admin import ADMIN
from voltgate.errors import RESOURCE_ERRORS
from voltgate.http.routing import NO_STORE, Call, RawResponse, RouteTable
from voltgate.metrics import CONTENT_TYPE

_TYPE = (b"content-type", CONTENT_TYPE.encode())


def mount(table: RouteTable, render: Callable[[], bytes]) -> None:
    async def metrics(_call: Call[None, None, None]) -> RawResponse:
        return RawResponse(200, render(), [_TYPE, *NO_STORE])

    table.get(
        "/metrics",
        metrics,
        errors=RESOURCE_ERRORS,
        guard=ADMIN,
        response=str,
        media="text/plain",
        tags=("metrics",),
        summary="Prometheus metrics of this server process",
    )
