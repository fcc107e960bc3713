"""The per-app limit on /api/1: RateLimit-* headers on every response, 429 past the limit,
counted in the coordination port (shared by instances on Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.conftest import App, Backend, make_settings
from tests.energy.driver import driver
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.vehicles.seed import seed_vehicles

LIMIT = 3


@asynccontextmanager
async def _instance(backend: Backend, clock: FrozenClock) -> AsyncIterator[App]:
    application = create_app(
        make_settings(backend, api_rate_limit=LIMIT, api_rate_window=60), clock=clock
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock)


@pytest.fixture
async def limited(backend: Backend) -> AsyncIterator[App]:
    async with _instance(backend, FrozenClock(1_800_000_000.0)) as app:
        yield app


def _limits(response: httpx.Response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["RateLimit-Limit"]), int(h["RateLimit-Remaining"]), int(h["RateLimit-Reset"])


async def test_headers_count_down_then_429_with_retry_after(limited: App) -> None:
    d = await driver(limited)
    token = await d.token()
    limited.clock.advance(20)  # 40 s left in the minute's window
    seen = [(await d.get(f"{d.site}/live_status", token)) for _ in range(LIMIT)]
    assert [r.status_code for r in seen] == [200] * LIMIT
    assert [_limits(r) for r in seen] == [(LIMIT, 2, 40), (LIMIT, 1, 40), (LIMIT, 0, 40)]
    refused = await d.get(f"{d.site}/site_info", token)
    assert refused.status_code == 429
    assert refused.json()["response"] is None
    assert refused.headers["Retry-After"] == "40"
    assert _limits(refused) == (LIMIT, 0, 40)
    # Changes are refused too, and change nothing.
    blocked = await d.post(f"{d.site}/backup", token, {"backup_reserve_percent": 90})
    assert blocked.status_code == 429
    limited.clock.advance(40)  # the next window
    fresh = await d.get(f"{d.site}/site_info", token)
    assert fresh.status_code == 200 and _limits(fresh) == (LIMIT, 2, 60)
    assert fresh.json()["response"]["backup_reserve_percent"] == 20


async def test_error_responses_carry_the_headers_and_count(limited: App) -> None:
    d = await driver(limited)
    token = await d.token()
    missing = await d.get("/api/1/energy_sites/1/live_status", token)
    assert missing.status_code == 404 and _limits(missing)[:2] == (LIMIT, 2)
    bad = await d.post(f"{d.site}/backup", token, {"backup_reserve_percent": 200})
    assert bad.status_code == 400 and _limits(bad)[:2] == (LIMIT, 1)


async def test_the_limit_is_per_app(limited: App) -> None:
    first, second = await driver(limited), await driver(limited)
    token = await first.token()
    for _ in range(LIMIT):
        await first.get("/api/1/products", token)
    assert (await first.get("/api/1/products", token)).status_code == 429
    other = await second.get("/api/1/products", await second.token())
    assert other.status_code == 200 and _limits(other)[1] == LIMIT - 1


async def test_instances_on_redis_share_the_count(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("the embedded default is one process; sharing needs Redis")
    clock = FrozenClock(1_800_000_000.0)
    async with _instance(backend, clock) as one, _instance(backend, clock) as two:
        d = await driver(one)
        token = await d.token()
        for _ in range(LIMIT - 1):
            assert (await d.get(f"{d.site}/live_status", token)).status_code == 200
        headers = {"Authorization": f"Bearer {token}"}
        last = await two.http.get(f"{d.site}/live_status", headers=headers)
        assert last.status_code == 200 and _limits(last)[1] == 0
        over = await two.http.get(f"{d.site}/live_status", headers=headers)
        assert over.status_code == 429


async def test_vehicle_routes_count_against_the_same_app_limit(limited: App) -> None:
    d = await driver(limited, scopes="energy_device_data vehicle_device_data")
    (vehicle, *_) = await seed_vehicles(
        limited.rt.owner.vehicles, limited.rt.identity.users, d.user_id
    )
    token = await d.token("energy_device_data vehicle_device_data")
    first = await d.get(f"{d.site}/live_status", token)
    data = await d.get(f"/api/1/vehicles/{vehicle.id}/vehicle_data", token)
    assert [first.status_code, data.status_code] == [200, 200]
    assert _limits(data)[:2] == (LIMIT, 1)
    await d.get("/api/1/vehicles", token)
    refused = await d.get(f"/api/1/vehicles/{vehicle.id}/vehicle_data", token)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert refused.json()["code"] == 5001 and _limits(refused)[:2] == (LIMIT, 0)


async def test_a_token_refused_for_its_scope_is_counted_and_carries_the_headers(
    limited: App,
) -> None:
    d = await driver(limited)
    reader = await d.token("energy_device_data")
    refused = await d.post(f"{d.site}/backup", reader, {"backup_reserve_percent": 90})
    assert refused.status_code == 403 and refused.json()["code"] == 2003
    assert _limits(refused)[:2] == (LIMIT, 2)
    assert _limits(await d.get(f"{d.site}/live_status", reader))[:2] == (LIMIT, 1)
