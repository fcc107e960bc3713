"""ev.energy's view of charging records: a user's home-charger sessions for the apps they use.

`GET /v2/charging_sessions` and `GET /v2/charging_sessions/{session}` need the scope
`charging_session:read`. A user's own token (third_party / open_source, from the authorization
code flow) reads the sessions of the chargers that user owns. An app's client-credentials token
acts for one user named by `EvEnergy-User`, and only while that user's consent to the app
covers the scope. ev.energy conventions: prefixed ids (`chrg…`, `evse…`, `user…`), cursor pages
(`page_before` / `page_after` / `page_size`), rate-limit state in `X-RateLimit-*` headers,
counted per app and user.

Who a request acts for, the consent and the count are decided on every request; the rendered
answer is then kept (`http.kept.Rendered`) per user and request while the user's chargers'
reports and which chargers are theirs are unchanged, and for at most a second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from voltgate.charging.service import Charging
from voltgate.charging.store import ChargingRecord
from voltgate.errors import RESOURCE_ERRORS, Forbidden, InvalidRequest, NotFound, ValidationFailed
from voltgate.http.guards import ANY_TOKEN
from voltgate.http.kept import Rendered
from voltgate.http.limits import ApiRateLimiter
from voltgate.http.routing import JSON_TYPE, Call, HeaderDoc, RawResponse, RouteTable
from voltgate.identity.clients import DELEGATED_KINDS, ClientKind
from voltgate.identity.consent import Consents
from voltgate.identity.guard import Principal
from voltgate.identity.users import Users

SCOPE = "charging_session:read"
USER_HEADER = "EvEnergy-User"
RATE_PREFIX = "X-RateLimit-"
_USER_HEADER = USER_HEADER.lower().encode()
_APP_KINDS = (ClientKind.THIRD_PARTY.value, ClientKind.PARTNER.value)
_ULID = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")
_RECORD_PREFIX = "chg_"


class SessionPage(BaseModel):
    page_size: int = Field(default=20, ge=1, le=100, description="sessions a page, 1-100")
    page_before: str | None = Field(
        default=None, max_length=64, description="a `chrg…` session id: the newer page"
    )
    page_after: str | None = Field(
        default=None, max_length=64, description="a `chrg…` session id: the older page"
    )


class MeterValue(TypedDict):
    at: str | None
    energy_kwh: float
    power_kw: float | None
    soc: float | None


class Session(TypedDict):
    id: str
    object: Literal["charging_session"]
    user_id: str
    evse_id: str
    connector: int
    status: Literal["in_progress", "completed"]
    started_at: str
    ended_at: str | None
    duration_seconds: int | None
    energy_kwh: float
    updated_at: str


class SessionDetail(Session):
    meter_start_kwh: float | None
    meter_stop_kwh: float | None
    meter_values: list[MeterValue]


class Cursors(TypedDict):
    page_size: int
    page_before: str | None
    page_after: str | None


class SessionList(TypedDict):
    data: list[Session]
    pagination: Cursors


class OneSession(TypedDict):
    data: SessionDetail


def session_id(record_id: str) -> str:
    return "chrg" + record_id.removeprefix(_RECORD_PREFIX)


def record_id(value: str) -> str | None:
    """The record id behind a `chrg…` session id, or None if it is not one."""
    ulid = value.removeprefix("chrg")
    return _RECORD_PREFIX + ulid if value.startswith("chrg") and _ULID.fullmatch(ulid) else None


def _evse_id(device_id: str) -> str:
    return "evse" + device_id.rsplit("_", 1)[-1]


def _time(value: float) -> str:
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def session_view(record: ChargingRecord, user_id: str) -> Session:
    stopped = record.stopped_at
    return {
        "id": session_id(record.id),
        "object": "charging_session",
        "user_id": user_id,
        "evse_id": _evse_id(record.device_id),
        "connector": record.connector,
        "status": "in_progress" if record.open else "completed",
        "started_at": _time(record.started_at),
        "ended_at": None if stopped is None else _time(stopped),
        "duration_seconds": None if stopped is None else round(stopped - record.started_at),
        "energy_kwh": record.energy_kwh,
        "updated_at": _time(record.updated_at),
    }


def _meter_value(value: dict[str, Any]) -> MeterValue:
    at = value.get("at")
    return {
        "at": None if at is None else _time(at),
        "energy_kwh": value["energy_kwh"],
        "power_kw": value.get("power_kw"),
        "soc": value.get("soc"),
    }


def session_detail(record: ChargingRecord, user_id: str) -> SessionDetail:
    return {
        **session_view(record, user_id),
        "meter_start_kwh": record.meter_start,
        "meter_stop_kwh": record.meter_stop,
        "meter_values": [_meter_value(value) for value in record.meter_values],
    }


def _cursor(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    found = record_id(value)
    if found is None:
        raise ValidationFailed(f"{name} must be a charging session id (chrg…)")
    return found


class SessionRoutes:
    def __init__(
        self,
        charging: Charging,
        users: Users,
        consents: Consents,
        limiter: ApiRateLimiter,
        rendered: Rendered,
    ) -> None:
        self._charging = charging
        self._users = users
        self._consents = consents
        self._limiter = limiter
        self._rendered = rendered

    async def list_sessions(self, call: Call[None, SessionPage, None]) -> RawResponse:
        user_id = await self._acting_user(call)
        query = call.query
        if query.page_before is not None and query.page_after is not None:
            raise ValidationFailed("send page_before or page_after, not both")
        before = _cursor(query.page_before, "page_before")
        after = _cursor(query.page_after, "page_after")
        size = query.page_size

        async def make() -> SessionList:
            rows, more = await self._charging.owned(user_id, before=before, after=after, limit=size)
            newer = (more if before is not None else after is not None) and bool(rows)
            older = (more if before is None else True) and bool(rows)
            return {
                "data": [session_view(r, user_id) for r in rows],
                "pagination": {
                    "page_size": size,
                    "page_before": session_id(rows[0].id) if newer else None,
                    "page_after": session_id(rows[-1].id) if older else None,
                },
            }

        version = self._charging.owner_version(user_id)
        key = (user_id, size, before, after)
        return _json(await self._rendered.encoded(key, version, make))

    async def get_session(self, call: Call[None, None, None]) -> RawResponse:
        user_id = await self._acting_user(call)
        found = record_id(call.params["session"])
        if found is None:
            raise NotFound("no such charging session")

        async def make() -> OneSession:
            record = await self._charging.owned_one(user_id, found)
            return {"data": session_detail(record, user_id)}

        version = self._charging.owner_version(user_id)
        return _json(await self._rendered.encoded((user_id, found), version, make))

    async def _acting_user(self, call: Call[Any, Any, Any]) -> str:
        """The user this request reads for: the token's own user, or the consenting user an
        app's client-credentials token names in `EvEnergy-User`; then the request is counted
        against that app and user."""
        principal: Principal = call.principal
        claims = principal.claims
        named = call.request.header(_USER_HEADER)
        if claims.kind in DELEGATED_KINDS and claims.subject != claims.client_id:
            principal.require(SCOPE)
            if named is not None and named.strip() != claims.subject:
                raise Forbidden(f"{USER_HEADER} names another user than this token's")
            user_id = claims.subject
        elif claims.kind in _APP_KINDS:
            principal.require(SCOPE)
            if named is None or not named.strip():
                raise InvalidRequest(
                    f"an app's client-credentials token acts for one user: send {USER_HEADER}"
                )
            user_id = named.strip()[:64]
            if not await self._consented(user_id, claims.client_id):
                raise Forbidden(f"this user has not allowed this app {SCOPE}")
        else:
            raise Forbidden(
                "this endpoint needs a user's token or an app's token; "
                f"this is a {claims.kind} token"
            )
        key = f"evenergy:{claims.client_id[:128]}:{user_id[:64]}"
        await self._limiter.count(call, key, "this app, for this user", RATE_PREFIX)
        return user_id

    async def _consented(self, user_id: str, client_id: str) -> bool:
        """The user exists, is active and allowed this app the scope (an unknown user reads as
        one who has not consented, so the header cannot probe for accounts)."""
        if "\x00" in user_id:
            return False
        user = await self._users.find(user_id)
        if user is None or user.disabled_at is not None:
            return False
        return await self._consents.covers(user_id, client_id, (SCOPE,))


def _json(body: bytes) -> RawResponse:
    return RawResponse(200, body, [JSON_TYPE])


def mount(
    table: RouteTable,
    charging: Charging,
    users: Users,
    consents: Consents,
    limiter: ApiRateLimiter,
    rendered: Rendered,
) -> None:
    routes = SessionRoutes(charging, users, consents, limiter, rendered)
    api = table.scope(
        "/v2/charging_sessions",
        errors=RESOURCE_ERRORS,
        guard=ANY_TOKEN,  # which kinds, and for whom, is decided per request: _acting_user
        counted=RATE_PREFIX,
        headers=(
            HeaderDoc(
                USER_HEADER,
                "the user an app's client-credentials token acts for (a `user…` id)",
            ),
        ),
        tags=("ev.energy: charging sessions",),
    )
    api.get(
        "",
        routes.list_sessions,
        query=SessionPage,
        response=SessionList,
        summary="The user's charging sessions, newest first",
        description=(
            "`page_after` pages to older sessions, `page_before` to newer ones: pass the value "
            "from the previous answer's `pagination`."
        ),
    )
    api.get(
        "/{session}",
        routes.get_session,
        response=OneSession,
        failures=(400, 404),
        summary="One of the user's charging sessions",
    )
