"""voltgate's router: the operation registered once, guard and query model bound at start-up."""

from __future__ import annotations

from typing import Any

from common import DEVICES, authorized, envelope
from pydantic import BaseModel, Field

from voltgate.clock import SystemClock
from voltgate.errors import TELLUS_ERRORS, InvalidToken, NotFound
from voltgate.http.dispatch import Binding, Router
from voltgate.http.guards import Guard
from voltgate.http.kept import Kept
from voltgate.http.routing import Call, Limiter, RouteTable
from voltgate.identity.guard import Principal
from voltgate.identity.tokens import AccessClaims

_CALLER = Principal(
    AccessClaims(
        subject="op",
        client_id="op",
        scopes=frozenset({"read"}),
        scope="read",
        kind="operator",
        jti="j",
        issued_at=0,
        expires_at=0,
        raw={},
    )
)


class _Auth:
    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorized(authorization):
            raise InvalidToken("invalid token")
        return _CALLER


async def _unsigned(*_args: Any, **_kwargs: Any) -> bool:
    return False


class Query(BaseModel):
    size: int = Field(default=20, ge=1, le=100)


async def device(call: Call[None, Query, None]) -> dict[str, Any]:
    found = DEVICES.get(call.params["device_id"])
    if found is None:
        raise NotFound("no device")
    return envelope(found)


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


_table = RouteTable()
_table.get(
    "/v1/operator/devices/{device_id}",
    device,
    errors=TELLUS_ERRORS,
    guard=Guard(kinds=("operator",), scopes=("read",)),
    query=Query,
)
app = Router(
    _table, Binding(_Auth(), _unsigned, Limiter(), 65536, SystemClock(), Kept()), _not_found
)
