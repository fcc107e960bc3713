"""Telemetry over HTTP (Tellus paths, envelope).

Charger side: `POST /v1/device/telemetry` is a fast-path route (`ingest`, raw ASGI: it is the
hottest write of the platform) and `POST /v1/device/events`. Operator side:
`GET /v1/operator/devices/{id}/telemetry/latest` and `GET /v1/operator/devices/{id}/events`.
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
from voltgate.identity.clients import ClientKind
from voltgate.identity.guard import Principal
from voltgate.pagination import MAX_SIZE
from voltgate.telemetry.schemas import EventBatch, event_view, reading_view

DEVICE = ClientKind.DEVICE.value
reader = operator_reader
device = signed(bearer(kinds=(DEVICE,)), sensitive=False)

operator = tellus_router(prefix="/v1/operator", tags=["tellus: operator"])
charger = tellus_router(prefix="/v1/device", tags=["tellus: charger"])


async def ingest(request: RawRequest) -> RawResponse:
    """`POST /v1/device/telemetry` → 202 `{accepted: n}`; stored within a second."""
    rt = runtime(request)
    principal = await rt.guard.authenticate(request.header(b"authorization"))
    principal.require_kind(DEVICE)
    body = await request.body(rt.settings.max_body_bytes)
    await _verify_signature(request, principal.claims.client_id, body)
    accepted = await rt.telemetry.ingest(principal.claims.client_id, body)
    return fastpath.json(envelope({"accepted": accepted}), 202, fastpath.NO_STORE)


async def _verify_signature(request: RawRequest, client_id: str, body: bytes) -> None:
    """As `http.signing.signed` does for FastAPI routes: a present signature is always
    verified; the device's mode decides whether an unsigned request passes."""
    rt = runtime(request)
    client = await rt.clients.get(client_id)
    if client is None:
        raise InvalidToken("the client of this access token no longer exists")
    signature = request.header(b"x-signature")
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    query: bytes = request.scope.get("query_string", b"")
    target = (raw + b"?" + query if query else raw).decode("latin-1")
    await rt.verifier.verify(
        mode=client.signing,
        sensitive=False,
        method="POST",
        path=target,
        body=body,
        timestamp=request.header(b"x-timestamp"),
        signature=signature,
        sealed_secrets=[] if signature is None else await rt.admin.signing_secrets(client_id),
    )


@charger.post(
    "/events", status_code=201, summary="Report events: faults, plug in/out, … (stored at once)"
)
async def post_events(
    body: EventBatch, request: Request, principal: Principal = Depends(device)
) -> dict[str, Any]:
    accepted = await runtime(request).telemetry.record_events(principal.claims.client_id, body)
    return envelope({"accepted": accepted})


@operator.get(
    "/devices/{device_id}/telemetry/latest",
    summary="Each connector's newest reading, and whether the charger is online",
)
async def latest(
    device_id: str, request: Request, principal: Principal = Depends(reader)
) -> dict[str, Any]:
    rt = runtime(request)
    found, newest = await rt.telemetry.latest(principal.claims.client_id, device_id)
    # This process may have heard from it since last_seen_at was last written.
    heard = rt.telemetry.last_heard(found.id)
    seen = max((t for t in (found.last_seen_at, heard) if t is not None), default=None)
    return envelope(
        {
            "device_id": found.id,
            "online": replace(found, last_seen_at=seen).online_at(rt.clock.now()),
            "last_seen_at": None if seen is None else int(seen),
            "connectors": [reading_view(r) for r in newest],
        }
    )


@operator.get("/devices/{device_id}/events", summary="The charger's newest events")
async def list_events(
    device_id: str,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_SIZE)] = 50,
    principal: Principal = Depends(reader),
) -> dict[str, Any]:
    found = await runtime(request).telemetry.events(principal.claims.client_id, device_id, limit)
    return envelope({"items": [event_view(e) for e in found]})
