"""`/metrics`: real traffic (tokens, protected reads, telemetry, commands, refreshes, a bad
signature, a long-poll) moves each series by exactly what it did, as a Prometheus parser reads
it; only a token with `voltgate:admin` may scrape on the API's port; the loopback port serves
without a token on 127.0.0.1 and closes at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.commands.support import START, fleet, heartbeat, queued, report
from tests.conftest import App, Backend, make_settings
from tests.fixtures.fleet import bearer, operator
from tests.identity.test_delegation import _party
from tests.telemetry.test_ingest import reading
from voltgate.app import create_app
from voltgate.identity.clients import ClientKind

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]
LATENCY = "voltgate_http_request_duration_seconds"


def parse(text: str) -> Series:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


def requests(series: Series, method: str, route: str, status: int, dialect: str) -> float:
    labels = {"method": method, "route": route, "status": str(status), "dialect": dialect}
    return value(series, f"{LATENCY}_count", **labels)


async def admin_headers(app: App) -> dict[str, str]:
    cid, secret = await app.client(kind="operator", scopes="voltgate:admin", name="scraper")
    return bearer((await app.token(cid, secret))["access_token"])


async def scrape(app: App, headers: dict[str, str]) -> Series:
    response = await app.http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.text)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.005)


async def test_traffic_moves_each_series_by_what_it_did(app: App) -> None:
    admin = await admin_headers(app)
    fl = await fleet(app)  # an operator token and a charger's token
    party = await _party(app)
    before = await scrape(app, admin)

    # Tokens: an operator's, a charger's, a user's grant redeemed, then refreshed three times.
    await operator(app)
    second = await fleet(app, fl.op)
    first = (await party.redeem(await party.code())).json()
    assert (await party.refresh(first["refresh_token"])).status_code == 200  # rotated
    assert (await party.refresh(first["refresh_token"])).status_code == 200  # grace hit
    app.clock.advance(app.rt.settings.refresh_grace_seconds + 1)
    assert (await party.refresh(first["refresh_token"])).status_code == 400  # reuse

    # Protected reads: one answered, one refused without a token.
    sites = await app.http.get("/v1/operator/sites", headers=fl.op.headers)
    assert sites.status_code == 200, sites.text
    assert (await app.http.get("/v1/operator/sites")).status_code == 401
    path = f"/v1/operator/devices/{fl.charger.device_id}"
    assert (await app.http.get(path, headers=fl.op.headers)).status_code == 200

    # Telemetry: one post of two readings, committed before its 202.
    body = {"connectors": [reading(1, power_kw=11), reading(2, state="available", power_kw=0)]}
    posted = await app.http.post("/v1/device/telemetry", json=body, headers=fl.device)
    assert posted.status_code == 202, posted.text

    # Commands: a long-poll open, woken by a start command, which the charger then accepts.
    poll = asyncio.create_task(
        app.http.get("/v1/device/commands", params={"wait": 30}, headers=fl.device)
    )
    await _until(lambda: app.rt.fleet.commands.listening == 1)
    waiting = await scrape(app, admin)
    assert value(waiting, "voltgate_long_polls_open") == 1
    command_id = await queued(app, fl)
    [delivered] = (await poll).json()["data"]["commands"]
    assert delivered["command_id"] == command_id and delivered["params"] == START
    assert (await report(app, fl, command_id, "accepted")).status_code == 200
    await queued(app, second, "stop")  # stays queued: no heartbeat comes for it

    # A charger that must sign its calls, calling unsigned.
    await app.rt.identity.admin.set_signing(
        fl.charger.device_id, "required", kind=ClientKind.DEVICE
    )
    unsigned = await app.http.post("/v1/device/heartbeat", json={}, headers=fl.device)
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "invalid_signature"

    after = await scrape(app, admin)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    issued = "voltgate_tokens_issued_total"
    assert moved(issued, grant_type="client_credentials", kind="operator") == 1
    assert moved(issued, grant_type="client_credentials", kind="device") == 1
    assert moved(issued, grant_type="authorization_code", kind="third_party") == 1
    # The rotation and the grace hit answered; the reuse did not.
    assert moved(issued, grant_type="refresh_token", kind="third_party") == 2
    assert moved("voltgate_refresh_rotations_total") == 1
    assert moved("voltgate_refresh_grace_hits_total") == 1
    assert moved("voltgate_refresh_reuse_detected_total") == 1
    assert moved("voltgate_signature_failures_total") == 1

    def answered(method: str, route: str, status: int, dialect: str) -> float:
        return requests(after, method, route, status, dialect) - requests(
            before, method, route, status, dialect
        )

    assert answered("GET", "/v1/operator/sites", 200, "tellus") == 1
    assert answered("GET", "/v1/operator/sites", 401, "tellus") == 1
    assert answered("GET", "/v1/operator/devices/{device_id}", 200, "tellus") == 1
    assert answered("POST", "/v1/device/telemetry", 202, "tellus") == 1
    assert answered("POST", "/v1/device/heartbeat", 401, "tellus") == 1
    assert answered("POST", "/oauth/token", 200, "canonical") == 4
    assert answered("POST", "/oauth/token", 400, "canonical") == 1
    assert answered("GET", "/metrics", 200, "canonical") == 2  # `before` and `waiting`
    long_poll = {
        "method": "GET",
        "route": "/v1/device/commands",
        "status": "200",
        "dialect": "tellus",
    }
    assert moved(f"{LATENCY}_count", **long_poll) == 1  # the poll that waited
    assert moved(f"{LATENCY}_bucket", **long_poll, le="+Inf") == 1

    assert moved("voltgate_telemetry_readings_accepted_total") == 2
    assert moved("voltgate_telemetry_commit_batch_readings_count") == 1
    assert moved("voltgate_telemetry_commit_batch_readings_sum") == 2
    assert moved("voltgate_telemetry_commit_seconds_count") == 1
    assert moved("voltgate_telemetry_commit_failures_total") == 0
    assert value(after, "voltgate_telemetry_pending_readings") == 0

    commands = "voltgate_commands_total"
    assert moved(commands, type="start", status="queued") == 1
    assert moved(commands, type="start", status="delivered") == 1
    assert moved(commands, type="start", status="accepted") == 1
    assert moved(commands, type="stop", status="queued") == 1
    assert value(after, "voltgate_commands_queued", type="stop") == 1
    assert value(after, "voltgate_commands_queued", type="start") == 0
    assert value(after, "voltgate_long_polls_open") == 0

    writers = {dict(labels)["writer"] for name, labels in after if name.startswith("voltgate_db_")}
    expected = {"sqlite"} if app.rt.db.is_sqlite else {"postgres_work", "postgres_statements"}
    assert writers == expected
    assert sum(moved("voltgate_db_commits_total", writer=w) for w in writers) > 0
    assert value(after, "process_resident_memory_bytes") > 0


async def test_a_heartbeat_and_a_route_are_labelled_with_their_own_dialect(app: App) -> None:
    admin = await admin_headers(app)
    fl = await fleet(app)
    await heartbeat(app, fl)
    assert (await app.http.get("/api/1/vehicles")).status_code == 401
    assert (await app.http.get("/v2/charging_sessions")).status_code == 401
    after = await scrape(app, admin)
    assert requests(after, "POST", "/v1/device/heartbeat", 200, "tellus") == 1
    assert requests(after, "GET", "/api/1/vehicles", 401, "tesla") == 1
    assert requests(after, "GET", "/v2/charging_sessions", 401, "evenergy") == 1


async def test_metrics_need_a_token_with_voltgate_admin(app: App) -> None:
    anonymous = await app.http.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    op = await operator(app)
    refused = await app.http.get("/metrics", headers=op.headers)
    assert refused.status_code == 403
    assert "voltgate:admin" in refused.json()["message"]
    assert "voltgate_" not in anonymous.text + refused.text


async def test_the_loopback_port_serves_without_a_token_and_closes_at_shutdown(
    backend: Backend,
) -> None:
    application = create_app(make_settings(backend, metrics_port=0))
    async with application.router.lifespan_context(application):
        loopback = application.state.runtime.metrics.loopback
        assert loopback is not None and loopback.port != 0
        url = f"http://127.0.0.1:{loopback.port}"
        async with httpx.AsyncClient(base_url=url) as http:
            scraped = await http.get("/metrics")
            assert scraped.status_code == 200
            assert scraped.headers["content-type"].startswith("text/plain; version=0.0.4")
            families = {f.name for f in text_string_to_metric_families(scraped.text)}
            assert {LATENCY, "voltgate_tokens_issued", "voltgate_long_polls_open"} <= families
            head = await http.head("/metrics")
            assert head.status_code == 200 and head.content == b""
            assert (await http.get("/")).status_code == 404
            assert (await http.post("/metrics")).status_code == 405
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/metrics", timeout=2)
