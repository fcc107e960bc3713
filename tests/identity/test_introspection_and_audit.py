"""Introspection (RFC 7662) and the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import App
from voltgate.db.schema import audit_events


async def test_introspection_of_own_token(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret, scope="read"))["access_token"]
    response = await app.http.post("/oauth/introspect", data={"token": token}, auth=(cid, secret))
    body = response.json()
    assert body["active"] is True
    assert body["client_id"] == cid and body["scope"] == "read"
    assert body["kind"] == "operator" and body["env"] == "sandbox"


async def test_introspection_inactive_cases(app: App) -> None:
    cid, secret = await app.client(token_ttl=60)
    other, other_secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    foreign = await app.http.post(
        "/oauth/introspect", data={"token": token}, auth=(other, other_secret)
    )
    assert foreign.json() == {"active": False}
    garbage = await app.http.post("/oauth/introspect", data={"token": "nope"}, auth=(cid, secret))
    assert garbage.json() == {"active": False}
    app.clock.advance(61)
    expired = await app.http.post("/oauth/introspect", data={"token": token}, auth=(cid, secret))
    assert expired.json() == {"active": False}


async def test_resource_server_with_introspect_scope_sees_any_token(app: App) -> None:
    cid, secret = await app.client()
    rs, rs_secret = await app.client(scopes="voltgate:introspect")
    token = (await app.token(cid, secret))["access_token"]
    body = (
        await app.http.post("/oauth/introspect", data={"token": token}, auth=(rs, rs_secret))
    ).json()
    assert body["active"] is True and body["client_id"] == cid


async def test_introspection_needs_client_authentication(app: App) -> None:
    response = await app.http.post("/oauth/introspect", data={"token": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_audit_trail_records_events_without_secrets(app: App) -> None:
    cid, secret = await app.client()
    token = (await app.token(cid, secret))["access_token"]
    await app.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(cid, "vgcs_test_guessing"),
        headers={"X-Request-ID": "req-42"},
    )
    await app.http.post("/oauth/revoke", data={"token": token}, auth=(cid, secret))
    await app.rt.identity.admin.rotate_secret(cid, overlap=0)

    async with app.rt.db.connect() as conn:
        rows = (await conn.execute(sa.select(audit_events))).all()
    events = {r.event for r in rows}
    assert {
        "client_created",
        "token_issued",
        "client_auth_failed",
        "token_revoked",
        "secret_rotated",
    } <= events
    failed = next(r for r in rows if r.event == "client_auth_failed")
    assert failed.client_id == cid and failed.request_id == "req-42"
    dump = repr(rows)
    for sensitive in (secret, token, "vgcs_test_guessing"):
        assert sensitive not in dump
