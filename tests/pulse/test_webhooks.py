"""Pulse's webhooks: voltgate's signature checked over the raw body (a wrong secret, an old
timestamp or a changed body refused), each delivery id taken once; the registration retried
with a backoff on the network and 5xx, and given up once, said in the log and on the dashboard,
on a final refusal (a portal app's missing client-credentials grant, against a live voltgate)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live import LiveServer, free_port
from voltgate.pulse import http, pages
from voltgate.pulse.config import Config
from voltgate.pulse.service import Pulse
from voltgate.pulse.store import PulseStore
from voltgate.pulse.webhooks import NO_CLIENT_CREDENTIALS, receive, refusal, signed
from voltgate.sdk.vault import TokenEndpointError

SECRET = "vgwhs_test"


def _sign(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1=0000,v1={digest}"


def _delivery(delivery: str = "whd_1") -> bytes:
    alert = {"id": "alr_1", "rule_id": "alrr_1", "kind": "threshold", "subject": "VIN1",
             "fired_at": 1796654456.0, "value": 18.5, "details": {}}  # fmt: skip
    return json.dumps({"id": delivery, "type": "alert.fired", "alert": alert}).encode()


def _post(body: bytes, signature: str) -> http.Request:
    return http.Request("/webhook", {}, "POST", {"voltgate-signature": signature}, body)


def test_signatures() -> None:
    body, now = b'{"a":1}', time.time()
    assert signed(_sign(body), body, SECRET, now)
    assert not signed(_sign(body, "other"), body, SECRET, now)
    assert not signed(_sign(body), body + b" ", SECRET, now)
    assert not signed(_sign(body, at=int(now) - 600), body, SECRET, now)
    assert not signed("v1=abc", body, SECRET, now)


def test_a_delivery_is_an_alert_once(tmp_path: Path) -> None:
    store = PulseStore(tmp_path / "pulse.db")
    body = _delivery()
    assert receive(store, _post(body, _sign(body))).status == 401  # no endpoint registered yet
    store.save_webhook("wh_1", SECRET)
    assert receive(store, _post(body, _sign(body, "other"))).status == 401
    assert store.alerts() == []
    assert receive(store, _post(body, _sign(body))).status == 204
    assert receive(store, _post(body, _sign(body))).status == 204  # a retry: 2xx, nothing new
    [alert] = store.alerts()
    assert (alert.vin, alert.kind, alert.at) == ("VIN1", "low_battery", 1796654456.0)
    assert "18.5 %" in alert.message
    assert (tmp_path / "pulse.db").stat().st_mode & 0o077 == 0
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pulse.db*") if p.is_file())
    assert SECRET.encode() not in stored  # the signing secret is kept sealed


def test_only_a_final_refusal_turns_webhooks_off() -> None:
    request = httpx.Request("POST", "http://vg.test/v1/webhooks")

    def answered(status: int) -> httpx.HTTPStatusError:
        response = httpx.Response(status, json={"message": "not a public https URL"},
                                  request=request)  # fmt: skip
        return httpx.HTTPStatusError("refused", request=request, response=response)

    assert refusal(TokenEndpointError(400, "unauthorized_client", "")) == NO_CLIENT_CREDENTIALS
    assert "HTTP 401: invalid_client" in (
        refusal(TokenEndpointError(401, "invalid_client", "")) or ""
    )
    assert "not a public https URL" in (refusal(answered(422)) or "")
    for again in (
        TokenEndpointError(503, None, "unavailable"),
        answered(500),
        answered(429),
        httpx.ConnectError("refused", request=request),
        ValueError("not JSON"),
    ):
        assert refusal(again) is None, again


def _pulse(tmp_path: Path, server: str, client_id: str, secret: str) -> Pulse:
    config = Config(server, client_id, secret, tmp_path / "pulse", port=free_port())
    pulse = Pulse(config)
    pulse.retry_first = 0.01  # the backoff's first step, doubled each time (the test's pace)
    return pulse


async def _close(pulse: Pulse) -> None:
    await pulse.api.aclose()
    await pulse.app.aclose()
    await pulse.vault.close()
    pulse.store.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_portal_app_turns_webhooks_off_once_and_says_why(
    live: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A portal app has no client-credentials grant: voltgate answers 400 unauthorized_client
    for the app's own token. Pulse asks once, stops, and says so in its log and dashboard."""
    caplog.set_level(logging.INFO)
    made = live.cli_json(
        "clients", "create", "--name", "pulse (portal)", "--kind", "third_party",
        "--scopes", "openid offline_access vehicle_device_data",
        "--redirect-uri", "http://127.0.0.1:8765/callback",
        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
    )  # fmt: skip
    pulse = _pulse(tmp_path, live.base_url, str(made["client_id"]), str(made["client_secret"]))
    sent: list[str] = []

    async def seen(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    pulse.app.http.event_hooks["request"].append(seen)
    try:
        await pulse.subscribe()  # returns: no retry loop
        assert pulse.webhooks == f"off: {NO_CLIENT_CREDENTIALS}"
        assert pulse.status()["webhooks"] == pulse.webhooks
        page = pages.dashboard(pulse.store, pulse.engine, False, time.time(), pulse.webhooks)
    finally:
        await _close(pulse)
    assert caplog.text.count("webhooks are off: voltgate does not give this app a token") == 1
    assert "keep running from the live stream" in caplog.text
    assert b"Webhooks are off:" in page and b"developer portal" in page
    assert sent == ["POST /oauth/token"]  # asked once, never again
    assert str(made["client_secret"]) not in caplog.text


async def test_network_errors_and_5xx_are_retried_then_a_4xx_stops(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answers: list[httpx.Response | None] = [
        None,  # the connection refused
        httpx.Response(503, json={"error": "temporarily_unavailable"}),
        httpx.Response(400, json={"error": "unauthorized_client",
                                  "error_description": "this client may not use the grant"}),
    ]  # fmt: skip
    asked: list[str] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        answer = answers.pop(0)
        if answer is None:
            raise httpx.ConnectError("connection refused", request=request)
        return answer

    pulse = _pulse(tmp_path, "http://vg.test", "vgc_app", "vgcs_secret")
    await pulse.app.http.aclose()
    pulse.app.http = httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint))
    try:
        await pulse.subscribe()
    finally:
        await pulse.app.http.aclose()
        await _close(pulse)
    assert asked == ["/oauth/token"] * 3 and answers == []
    assert caplog.text.count("webhook registration: ") == 2  # retried twice, with a backoff
    assert "again in 0.0 s" in caplog.text and "again in 0.02 s" not in caplog.text
    assert caplog.text.count("webhooks are off") == 1
    assert pulse.webhooks.startswith("off: voltgate does not give this app a token")
