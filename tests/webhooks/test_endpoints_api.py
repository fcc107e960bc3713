"""`/v1/webhooks`: an app registers endpoints (the secret is answered once and stored sealed),
lists, shows and deletes them; they are its own; the URL rules follow the environment."""

from __future__ import annotations

import base64
import secrets

import pytest
import sqlalchemy as sa

from tests.conftest import App, Backend
from tests.fixtures.alerting import alerting_app, endpoint, third_party
from voltgate.db.schema import webhook_endpoints


async def test_an_app_registers_lists_shows_and_deletes_endpoints(alerting: App) -> None:
    app = alerting
    client, other = await third_party(app), await third_party(app)
    created = await endpoint(app, client, "http://127.0.0.1:9/hooks")
    assert created["id"].startswith("whe_") and created["url"] == "http://127.0.0.1:9/hooks"
    assert created["secret"].startswith("vgwhs_test_") and len(created["secret"]) > 40
    assert created["previous_secret_expires_at"] is None
    # Stored sealed: neither the secret nor any part of it is in the row.
    rows = await app.rt.db.read(lambda c: list(c.execute(sa.select(webhook_endpoints))))
    stored = " ".join(str(v) for v in rows[0])
    assert created["secret"] not in stored and created["secret"][11:30] not in stored

    listed = await app.http.get("/v1/webhooks", headers=client.headers)
    assert [e["id"] for e in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]
    shown = await app.http.get(f"/v1/webhooks/{created['id']}", headers=client.headers)
    assert shown.status_code == 200 and "secret" not in shown.json()

    # Another app sees nothing of it.
    assert (await app.http.get("/v1/webhooks", headers=other.headers)).json() == {"items": []}
    for method, path in (
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/rotate"),
        ("GET", "/deliveries"),
        ("POST", "/deliveries/replay-dead"),
        ("POST", "/deliveries/whd_1/replay"),
    ):
        answer = await app.http.request(
            method, f"/v1/webhooks/{created['id']}{path}", headers=other.headers
        )
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["code"] == 3001

    deleted = await app.http.delete(f"/v1/webhooks/{created['id']}", headers=client.headers)
    assert deleted.status_code == 204
    gone = await app.http.get(f"/v1/webhooks/{created['id']}", headers=client.headers)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url: must be https or http in the sandbox"),
        ({"url": "https://u:p@hooks.example.com/x"}, "url: must not carry credentials"),
        ({"url": ""}, "url:"),
        ({"url": 5}, "url:"),
        ({"url": "https://hooks.example.com/x", "secret": "mine"}, "secret:"),
        ({}, "url:"),
    ],
)
async def test_a_bad_endpoint_is_400(alerting: App, body: object, says: str) -> None:
    client = await third_party(alerting)
    response = await alerting.http.post("/v1/webhooks", json=body, headers=client.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error_description"].startswith(says)
    assert response.json()["code"] == 1002


async def test_rotation_overlap_is_bounded(alerting: App) -> None:
    client = await third_party(alerting)
    created = await endpoint(alerting, client, "https://hooks.example.com/x")
    path = f"/v1/webhooks/{created['id']}/rotate"
    too_long = await alerting.http.post(
        path, json={"overlap_seconds": 8 * 86_400}, headers=client.headers
    )
    assert too_long.status_code == 400
    default = await alerting.http.post(path, headers=client.headers)
    assert default.status_code == 200, default.text
    assert default.json()["previous_secret_expires_at"] == pytest.approx(
        alerting.clock.now() + 86_400
    )


async def test_an_app_has_at_most_its_bound_of_endpoints(backend: Backend) -> None:
    async with alerting_app(backend, webhook_max_endpoints=2) as app:
        client = await third_party(app)
        for n in range(2):
            await endpoint(app, client, f"https://hooks.example.com/{n}")
        over = await app.http.post(
            "/v1/webhooks", json={"url": "https://hooks.example.com/3"}, headers=client.headers
        )
        assert over.status_code == 409 and over.json()["code"] == 4001


async def test_outside_the_sandbox_only_public_https(backend: Backend) -> None:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    async with alerting_app(backend, environment="production", master_key=key) as app:
        client = await third_party(app)
        for url in ("http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x"):
            refused = await app.http.post("/v1/webhooks", json={"url": url}, headers=client.headers)
            assert refused.status_code == 400, url
        created = await endpoint(app, client, "https://hooks.example.com/x")
        assert created["secret"].startswith("vgwhs_live_")
