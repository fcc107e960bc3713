"""Device tokens: 24 h tokens of kind `device` from `/v1/device/token`, refused on every operator
and user route; the device's own secret rotation overlaps like a client's."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.fixtures.fleet import (
    Charger,
    bearer,
    device_headers,
    device_token_response,
    enroll,
    operator,
    register,
)


async def _charger(app: App) -> Charger:
    return await register(app, await enroll(app, await operator(app)))


async def test_a_charger_gets_a_24_hour_device_token(app: App) -> None:
    charger = await _charger(app)
    response = await device_token_response(app, charger.device_id, charger.secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (0, "success")
    assert body["data"]["expires_in"] == 86_400 and body["data"]["token_type"] == "Bearer"
    assert "refresh_token" not in body["data"]
    me = await app.http.get("/v1/me", headers=bearer(body["data"]["access_token"]))
    assert me.json()["kind"] == "device" and me.json()["client_id"] == charger.device_id


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"device_secret": "x", "grant_type": "client_credentials"}, 400, 1002),
        ({"device_id": "x", "grant_type": "client_credentials"}, 400, 1002),
        ({"device_id": "vgc_test_nope", "device_secret": "vgcs_test_x"}, 400, 1001),
        (
            {
                "device_id": "vgc_test_nope",
                "device_secret": "vgcs_test_x",
                "grant_type": "client_credentials",
            },
            401,
            2001,
        ),
    ],
)
async def test_bad_token_requests_are_refused_in_the_envelope(
    app: App, body: dict[str, str], status: int, code: int
) -> None:
    response = await app.http.post("/v1/device/token", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["data"] is None


async def test_a_wrong_device_secret_is_401_code_2001(app: App) -> None:
    charger = await _charger(app)
    response = await device_token_response(app, charger.device_id, "vgcs_test_" + "A" * 43)
    assert response.status_code == 401 and response.json()["code"] == 2001


async def test_an_operator_cannot_get_a_token_on_the_device_path(app: App) -> None:
    cid, secret = await app.client(kind="operator")
    response = await device_token_response(app, cid, secret)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert "device" in response.json()["message"]


async def _guarded_paths(app: App) -> list[tuple[str, str]]:
    """Every operator and user route the API publishes, from its own OpenAPI document."""
    spec = (await app.http.get("/openapi.json")).json()
    found = []
    for path, methods in spec["paths"].items():
        operator_route = path.startswith(("/v1/operator/", "/v1/sites", "/v1/devices"))
        if (operator_route and path != "/v1/operator/oauth/token") or path.startswith("/v1/me/"):
            found += [(method.upper(), path) for method in methods]
    return found


async def test_a_device_token_is_refused_on_every_operator_and_user_route(app: App) -> None:
    charger = await _charger(app)
    headers = await device_headers(app, charger)
    paths = await _guarded_paths(app)
    assert ("GET", "/v1/operator/devices/{device_id}") in paths
    assert ("POST", "/v1/operator/enrollments") in paths
    for method, path in paths:
        url = path.replace("{device_id}", charger.device_id).replace("{site_id}", "site0")
        url = url.replace("{client_id}", "vgc_test_x")
        response = await app.http.request(method, url, json={}, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert "device token" in response.json()["message"], (method, path)
        if path.startswith("/v1/operator/"):
            assert response.json()["code"] == 2003 and response.json()["data"] is None


async def test_the_old_device_secret_works_through_the_overlap_and_not_after(app: App) -> None:
    charger = await _charger(app)
    rotated = await app.http.post(
        "/v1/device/secret/rotate", headers=await device_headers(app, charger)
    )
    assert rotated.status_code == 200, rotated.text
    data = rotated.json()["data"]
    new = data["device_secret"]
    assert new.startswith("vgcs_test_") and new != charger.secret
    assert data["overlap_seconds"] == 86_400
    assert data["previous_secret_expires_at"] == int(app.clock.now()) + 86_400

    for secret in (charger.secret, new):
        response = await device_token_response(app, charger.device_id, secret)
        assert response.status_code == 200
    app.clock.advance(86_400 - 1)
    assert (await device_token_response(app, charger.device_id, charger.secret)).status_code == 200
    app.clock.advance(1)
    old = await device_token_response(app, charger.device_id, charger.secret)
    assert old.status_code == 401 and old.json()["code"] == 2001
    assert (await device_token_response(app, charger.device_id, new)).status_code == 200


async def test_only_a_device_token_may_rotate_a_device_secret(app: App) -> None:
    op = await operator(app)
    response = await app.http.post("/v1/device/secret/rotate", headers=op.headers)
    assert response.status_code == 403
    assert response.json()["code"] == 2003 and "device" in response.json()["message"]
    assert (await app.http.post("/v1/device/secret/rotate")).status_code == 401
