"""Energy sites are read from memory: a site added and a backup reserve set on one instance
are read on another within a second (PostgreSQL + Redis)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import App, Backend
from tests.energy.driver import driver
from tests.fixtures.instances import another_instance, seen_within
from voltgate.energy.seed import HOME


def _reserve(response: httpx.Response) -> int:
    percent: int = response.json()["response"]["backup_reserve_percent"]
    return percent


def _sites(response: httpx.Response) -> list[int]:
    return [p["energy_site_id"] for p in response.json()["response"]]


async def test_a_new_site_and_a_backup_reserve_reach_another_instance_within_a_second(
    backend: Backend, app: App
) -> None:
    if backend.name == "sqlite":
        pytest.skip("instances hear each other's changes through Redis: one server per SQLite file")
    d = await driver(app)
    token = await d.token()
    headers = {"Authorization": f"Bearer {token}"}
    async with another_instance(backend, app) as second:

        async def products() -> httpx.Response:
            return await second.http.get("/api/1/products", headers=headers)

        async def info() -> httpx.Response:
            return await second.http.get(f"{d.site}/site_info", headers=headers)

        assert _sites(await products()) == [d.site_id]
        assert _reserve(await info()) == 20

        added = await app.rt.owner.energy.create(d.user_id, HOME)
        listed, delay = await seen_within(products, lambda r: len(_sites(r)) == 2, within=1.0)
        assert _sites(listed) == sorted([d.site_id, added.id]), listed.text
        assert delay < 1.0
        print(f"new site listed on the other instance after {delay * 1000:.1f} ms")

        done = await d.post(f"{d.site}/backup", token, {"backup_reserve_percent": 55})
        assert done.json() == {"response": {"code": 201, "message": "Updated"}}
        assert _reserve(await d.get(f"{d.site}/site_info", token)) == 55  # at once, here
        seen, delay = await seen_within(info, lambda r: _reserve(r) == 55, within=1.0)
        assert _reserve(seen) == 55, seen.text
        assert delay < 1.0
        print(f"backup reserve read on the other instance after {delay * 1000:.1f} ms")
