"""Enrollment tokens: issued by an operator, good for N registrations until they expire."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from tests.conftest import App
from tests.fixtures.fleet import description, enroll, operator, register, register_raw, site
from voltgate.db.schema import enrollments


async def test_a_token_is_prefixed_shown_once_and_stored_only_hashed(app: App) -> None:
    op = await operator(app)
    response = await app.http.post(
        "/v1/operator/enrollments", json={"uses": 3, "expires_in": 3600}, headers=op.headers
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["enrollment_token"].startswith("vget_test_")
    assert (data["uses"], data["uses_left"], data["site_id"]) == (3, 3, None)
    assert data["expires_at"] - data["created_at"] == 3600
    async with app.rt.db.connect() as conn:
        rows = (await conn.execute(sa.select(enrollments))).all()
    assert len(rows) == 1
    assert data["enrollment_token"] not in repr(tuple(rows[0]))


async def test_a_token_registers_as_many_chargers_as_it_has_uses(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=2)
    await register(app, token)
    await register(app, token)
    third = await register_raw(app, token, description())
    assert third.status_code == 401
    assert third.json()["code"] == 2001
    assert "used up" in third.json()["message"]


async def test_concurrent_registrations_never_take_more_uses_than_there_are(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=3)
    responses = await asyncio.gather(*(register_raw(app, token, description()) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] * 3 + [401] * 5
    listed = await app.http.get("/v1/operator/devices", headers=op.headers)
    assert listed.json()["data"]["total"] == 3


async def test_an_expired_token_is_refused_with_the_reason(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=5, expires_in=600)
    app.clock.advance(599)
    await register(app, token)
    app.clock.advance(1)
    response = await register_raw(app, token, description())
    assert response.status_code == 401
    assert response.json()["code"] == 2001 and "expired" in response.json()["message"]


async def test_unknown_foreign_and_non_enrollment_tokens_are_401_code_2001(app: App) -> None:
    op = await operator(app)
    access_token = op.headers["Authorization"].removeprefix("Bearer ")
    for token, reason in [
        ("vget_test_" + "A" * 43, "unknown enrollment token"),
        ("vget_live_" + "A" * 43, "production environment"),
        (access_token, "not an enrollment token"),
    ]:
        response = await register_raw(app, token, description())
        assert response.status_code == 401, token
        assert response.json()["code"] == 2001
        assert reason in response.json()["message"]
    assert (await app.http.get("/v1/operator/devices", headers=op.headers)).json()["data"][
        "total"
    ] == 0


async def test_a_token_bound_to_a_site_puts_its_chargers_there(app: App) -> None:
    op = await operator(app)
    depot = await site(app, op)
    charger = await register(app, await enroll(app, op, site_id=depot))
    shown = await app.http.get(f"/v1/operator/devices/{charger.device_id}", headers=op.headers)
    assert shown.json()["data"]["site_id"] == depot


async def test_a_token_for_another_operators_site_is_404(app: App) -> None:
    a, b = await operator(app, name="A"), await operator(app, name="B")
    theirs = await site(app, b)
    response = await app.http.post(
        "/v1/operator/enrollments", json={"site_id": theirs}, headers=a.headers
    )
    assert response.status_code == 404 and response.json()["code"] == 3001


async def test_issuing_needs_the_write_scope_and_sane_numbers(app: App) -> None:
    reader = await operator(app, scopes="read")
    refused = await app.http.post("/v1/operator/enrollments", json={}, headers=reader.headers)
    assert refused.status_code == 403 and refused.json()["code"] == 2003
    op = await operator(app)
    for body in ({"uses": 0}, {"uses": 100_001}, {"expires_in": 10}, {"uses": "many"}):
        response = await app.http.post("/v1/operator/enrollments", json=body, headers=op.headers)
        assert response.status_code == 400, body
        assert response.json()["code"] == 1002


async def test_a_disabled_operators_tokens_register_nothing(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=5)
    await app.rt.identity.admin.disable(op.client_id)
    response = await register_raw(app, token, description())
    assert response.status_code == 401 and response.json()["code"] == 2001
    assert "disabled" in response.json()["message"]
