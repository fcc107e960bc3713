"""ev.energy's view of charging records: a user's home-charger sessions for the apps they use.

`GET /v2/charging_sessions` and `GET /v2/charging_sessions/{id}` need the scope
`charging_session:read`. A user's own token (third_party / open_source, from the authorization
code flow) reads the sessions of the chargers that user owns. An app's client-credentials token
acts for one user named by `EvEnergy-User`, and only while that user's consent to the app
covers the scope. ev.energy conventions: prefixed ids (`chrg…`, `evse…`, `user…`), cursor pages
(`page_before` / `page_after` / `page_size`), rate-limit state in response headers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from voltgate.charging.store import ChargingRecord
from voltgate.errors import Forbidden, InvalidRequest, NotFound, ValidationFailed
from voltgate.http.adapter import bearer, runtime
from voltgate.http.ratelimit import count
from voltgate.identity.clients import DELEGATED_KINDS, ClientKind
from voltgate.identity.guard import Principal

SCOPE = "charging_session:read"
USER_HEADER = "EvEnergy-User"
_APP_KINDS = (ClientKind.THIRD_PARTY.value, ClientKind.PARTNER.value)
_ULID = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")
_RECORD_PREFIX = "chg_"

router = APIRouter(prefix="/v2", tags=["ev.energy: charging sessions"])

PageSize = Annotated[int, Query(ge=1, le=100, description="sessions a page, 1-100")]
SessionCursor = Annotated[str | None, Query(max_length=64, description="a `chrg…` session id")]


def session_id(record_id: str) -> str:
    return "chrg" + record_id.removeprefix(_RECORD_PREFIX)


def record_id(value: str) -> str | None:
    """The record id behind a `chrg…` session id, or None if it is not one."""
    ulid = value.removeprefix("chrg")
    return _RECORD_PREFIX + ulid if value.startswith("chrg") and _ULID.fullmatch(ulid) else None


def _evse_id(device_id: str) -> str:
    return "evse" + device_id.rsplit("_", 1)[-1]


def _time(value: float | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def session_view(record: ChargingRecord, user_id: str, *, detail: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": session_id(record.id),
        "object": "charging_session",
        "user_id": user_id,
        "evse_id": _evse_id(record.device_id),
        "connector": record.connector,
        "status": "in_progress" if record.open else "completed",
        "started_at": _time(record.started_at),
        "ended_at": _time(record.stopped_at),
        "duration_seconds": (
            None if record.stopped_at is None else round(record.stopped_at - record.started_at)
        ),
        "energy_kwh": record.energy_kwh,
        "updated_at": _time(record.updated_at),
    }
    if detail:
        view["meter_start_kwh"] = record.meter_start
        view["meter_stop_kwh"] = record.meter_stop
        view["meter_values"] = [
            {**value, "at": _time(value.get("at"))} for value in record.meter_values
        ]
    return view


async def acting_user(
    request: Request, response: Response, principal: Principal = Depends(bearer())
) -> str:
    """The user this request reads for: the token's own user, or the consenting user an app's
    client-credentials token names in `EvEnergy-User`."""
    claims = principal.claims
    named = request.headers.get(USER_HEADER)
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
        if not await _consented(request, user_id, claims.client_id):
            raise Forbidden(f"this user has not allowed this app {SCOPE}")
    else:
        raise Forbidden(
            f"this endpoint needs a user's token or an app's token; this is a {claims.kind} token"
        )
    await _count(request, response, claims.client_id, user_id)
    return user_id


async def _consented(request: Request, user_id: str, client_id: str) -> bool:
    """The user exists, is active and allowed this app the scope (an unknown user reads as one
    who has not consented, so the header cannot probe for accounts)."""
    if "\x00" in user_id:
        return False
    rt = runtime(request)
    user = await rt.identity.users.find(user_id)
    if user is None or user.disabled_at is not None:
        return False
    return await rt.identity.consents.covers(user_id, client_id, (SCOPE,))


async def _count(request: Request, response: Response, client_id: str, user_id: str) -> None:
    key = f"evenergy:{client_id[:128]}:{user_id[:64]}"
    await count(request, response, key, "this app, for this user", prefix="X-RateLimit-")


def _cursor(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    found = record_id(value)
    if found is None:
        raise ValidationFailed(f"{name} must be a charging session id (chrg…)")
    return found


@router.get("/charging_sessions", summary="The user's charging sessions, newest first")
async def list_sessions(
    request: Request,
    page_size: PageSize = 20,
    page_before: SessionCursor = None,
    page_after: SessionCursor = None,
    user_id: str = Depends(acting_user),
) -> dict[str, Any]:
    """`page_after` pages to older sessions, `page_before` to newer ones; pass the value from
    the previous response's `pagination`."""
    if page_before is not None and page_after is not None:
        raise ValidationFailed("send page_before or page_after, not both")
    before, after = _cursor(page_before, "page_before"), _cursor(page_after, "page_after")
    rows, more = await runtime(request).fleet.charging.owned(
        user_id, before=before, after=after, limit=page_size
    )
    newer = (more if before is not None else after is not None) and bool(rows)
    older = (more if before is None else True) and bool(rows)
    return {
        "data": [session_view(r, user_id) for r in rows],
        "pagination": {
            "page_size": page_size,
            "page_before": session_id(rows[0].id) if newer else None,
            "page_after": session_id(rows[-1].id) if older else None,
        },
    }


@router.get("/charging_sessions/{session}", summary="One of the user's charging sessions")
async def get_session(
    session: str, request: Request, user_id: str = Depends(acting_user)
) -> dict[str, Any]:
    found = record_id(session)
    if found is None:
        raise NotFound("no such charging session")
    record = await runtime(request).fleet.charging.owned_one(user_id, found)
    return {"data": session_view(record, user_id, detail=True)}
