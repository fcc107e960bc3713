"""Operator filters and cursor pages on GET /v1/operator/charging-records."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.charging.support import Station, report, station, walk
from tests.conftest import App
from tests.fixtures.fleet import Operator, operator, site

URL = "/v1/operator/charging-records"


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


async def _ids(app: App, op: Operator, query: str) -> list[str]:
    response = await app.http.get(f"{URL}?size=100&{query}", headers=op.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["total"] == len(data["items"])
    return [r["id"] for r in data["items"]]


async def test_every_filter_selects_exactly_its_records_by_page_and_by_cursor(app: App) -> None:
    op = await operator(app)
    berlin, lisbon = await site(app, op), await site(app, op, timezone="Europe/Lisbon")
    s1, s2, s3 = (
        await station(app, op, berlin),
        await station(app, op, lisbon),
        await station(app, op),
    )
    t0 = float(int(app.clock.now()) - 10 * 86_400)
    r1 = await report(app, s1, t0, 10)
    r2 = await report(app, s1, t0 + 3600, 30, connector=2, open_=True)
    r3 = await report(app, s2, t0 + 7200, 5)
    r4 = await report(app, s3, t0 + 10_800, 50, connector=2)
    every = {"r1": r1["id"], "r2": r2["id"], "r3": r3["id"], "r4": r4["id"]}

    cases: dict[str, set[str]] = {
        "": {"r1", "r2", "r3", "r4"},
        f"device_id={s1.device_id}": {"r1", "r2"},
        f"site_id={berlin}": {"r1", "r2"},
        f"site_id={lisbon}": {"r3"},
        "connector=2": {"r2", "r4"},
        f"from={t0 + 3600}": {"r2", "r3", "r4"},
        f"to={t0 + 7200}": {"r1", "r2"},
        f"from={_iso(t0 + 3600)}&to={_iso(t0 + 7200)}".replace("+", "%2B"): {"r2"},
        f"from={_iso(t0 + 3600)[:19]}&to={t0 + 7200}": {"r2"},  # no offset: UTC
        "finished=true": {"r1", "r3", "r4"},
        "finished=false": {"r2"},
        "energy_min=10": {"r1", "r2", "r4"},
        "energy_max=30": {"r1", "r2", "r3"},
        "energy_min=10&energy_max=30": {"r1", "r2"},
        f"site_id={berlin}&finished=true": {"r1"},
        f"device_id={s3.device_id}&connector=1": set(),
    }
    for query, names in cases.items():
        expected = sorted((every[n] for n in names), reverse=True)  # newest first
        assert await _ids(app, op, query) == expected, query
        walked = await walk(app, op, f"&{query}" if query else "", limit=1)
        assert [r["id"] for r in walked] == expected, query


async def test_a_cursor_walk_sees_every_record_once_while_new_ones_arrive(app: App) -> None:
    op = await operator(app)
    charger = await station(app, op)
    t0 = app.clock.now() - 86_400
    before = [(await report(app, charger, t0 + i * 60, i))["id"] for i in range(12)]

    async def arrivals() -> list[str]:
        made = []
        for i in range(12):
            made.append((await report(app, charger, t0 + 3600 + i, 1))["id"])
            await asyncio.sleep(0)
        return made

    seen, during = await asyncio.gather(walk(app, op, limit=2), arrivals())
    ids = [r["id"] for r in seen]
    assert len(ids) == len(set(ids))  # nothing twice
    assert set(before) <= set(ids)  # nothing that existed was skipped
    assert ids == sorted(ids, reverse=True)
    assert set(ids) <= set(before) | set(during)
    # Once the writes are done, a fresh walk sees them all.
    assert {r["id"] for r in await walk(app, op, limit=5)} == set(before) | set(during)


async def test_page_and_size_keep_working_with_the_filters(app: App) -> None:
    op = await operator(app)
    charger = await station(app, op)
    t0 = app.clock.now() - 86_400
    made = [(await report(app, charger, t0 + i, 1 + i))["id"] for i in range(5)]
    second = await app.http.get(f"{URL}?page=2&size=2&energy_min=2", headers=op.headers)
    data = second.json()["data"]
    assert (data["page"], data["size"], data["total"]) == (2, 2, 4)
    assert [r["id"] for r in data["items"]] == [made[2], made[1]]


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "from=200&to=100",
        "from=100&to=100",
        "from=yesterday",
        "to=nan",
        "size=0",
        "size=101",
        "page=0",
        "limit=0",
        "limit=101",
        "cursor=!!!",
        f"cursor={_cursor('v2:chg_x')}",
        "energy_min=-1",
        "energy_min=5&energy_max=1",
        "energy_max=inf",
        "finished=maybe",
        "connector=0",
        "connector=x",
        "page=1&limit=5",
        "size=10&cursor=" + _cursor("v1:chg_x"),
    ],
)
async def test_bad_queries_are_400_code_1002(app: App, query: str) -> None:
    op = await operator(app)
    response = await app.http.get(f"{URL}?{query}", headers=op.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 1002 and body["data"] is None and body["message"]


async def test_another_operators_device_or_site_is_404_and_its_records_stay_hidden(
    app: App,
) -> None:
    op, other = await operator(app), await operator(app, name="Other ops")
    theirs_site = await site(app, other)
    theirs: Station = await station(app, other, theirs_site)
    await report(app, theirs, app.clock.now() - 3600, 7)
    for query in (
        f"device_id={theirs.device_id}",
        f"site_id={theirs_site}",
        "device_id=vgc_test_nope",
        "site_id=site_nope",
    ):
        for mode in ("", "&limit=5"):
            response = await app.http.get(f"{URL}?{query}{mode}", headers=op.headers)
            assert response.status_code == 404, (query, response.text)
            assert response.json()["code"] == 3001
    assert await walk(app, op) == []
    mine: list[dict[str, Any]] = await walk(app, other)
    assert len(mine) == 1
