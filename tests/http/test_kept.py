"""Kept answers: a read's encoded 200 is reused only while what it was made from holds.

The store on its own (versions, time, budget), then through the app: a kept answer is really
reused, a write in this process shows in the very next read, and each caller keeps its own.
The app's clock is frozen, so only the versions renew an answer unless a test moves it."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.fixtures.fleet import device_headers, enroll, operator, register, site
from tests.telemetry.test_ingest import PORTS, reading
from voltgate.http.kept import Kept

# -- the store ------------------------------------------------------------------------------


def test_an_answer_is_reused_only_for_its_version_and_within_its_seconds() -> None:
    kept = Kept()
    kept.put("k", 7, 100.0, b"body", [(b"x", b"1")])
    assert kept.get("k", 7, 100.5, 1.0) == (b"body", [(b"x", b"1")])
    assert kept.get("k", 8, 100.5, 1.0) is None  # the data moved on
    assert kept.get("k", 7, 101.0, 1.0) is None  # too old
    assert kept.get("k", 7, 99.0, 1.0) is None  # the clock went back: not trusted
    assert kept.get("other", 7, 100.5, 1.0) is None


def test_the_budget_drops_the_oldest_answers_first_and_keeps_no_huge_one() -> None:
    kept = Kept(budget=100)
    for n in range(5):
        kept.put(n, 0, 0.0, b"x" * 20, [])
    kept.put(5, 0, 0.0, b"x" * 20, [])
    assert kept.size <= 100
    assert kept.get(0, 0, 0.0, 1.0) is None and kept.get(5, 0, 0.0, 1.0) is not None
    kept.put("huge", 0, 0.0, b"x" * 60, [])  # over a quarter of the budget
    assert kept.get("huge", 0, 0.0, 1.0) is None


# -- through the app ------------------------------------------------------------------------


def _counting(target: Any, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(target, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(*args, **kwargs)

    setattr(target, name, counted)
    return calls


async def test_a_kept_list_is_reused_and_a_write_here_shows_in_the_next_read(app: App) -> None:
    op = await operator(app)
    await site(app, op, name="First")
    calls = _counting(app.rt.fleet.sites, "page")
    first = await app.http.get("/v1/operator/sites", headers=op.headers)
    again = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and len(calls) == 1  # the second was kept
    assert again.headers["content-type"] == "application/json"
    await site(app, op, name="Second")
    after = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert [s["name"] for s in after.json()["data"]["items"]] == ["First", "Second"]
    assert len(calls) == 2
    paged = await app.http.get("/v1/operator/sites?size=1", headers=op.headers)
    assert len(paged.json()["data"]["items"]) == 1  # another query, another answer


async def test_each_operator_keeps_its_own_answer(app: App) -> None:
    one, two = await operator(app, name="One"), await operator(app, name="Two")
    await site(app, one, name="Ones")
    mine = await app.http.get("/v1/operator/sites", headers=one.headers)
    theirs = await app.http.get("/v1/operator/sites", headers=two.headers)
    assert [s["name"] for s in mine.json()["data"]["items"]] == ["Ones"]
    assert theirs.json()["data"]["items"] == []


async def test_a_disabled_client_gets_401_not_its_kept_answer(app: App) -> None:
    op = await operator(app)
    await site(app, op)
    assert (await app.http.get("/v1/operator/sites", headers=op.headers)).status_code == 200
    await app.rt.identity.admin.disable(op.client_id)
    refused = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert refused.status_code == 401, refused.text


async def test_time_renews_an_answer_made_from_the_clock(app: App) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    headers = await device_headers(app, charger)
    beat = await app.http.post("/v1/device/heartbeat", json={}, headers=headers)
    assert beat.status_code == 200, beat.text
    path = f"/v1/operator/devices/{charger.device_id}"
    assert (await app.http.get(path, headers=op.headers)).json()["data"]["online"] is True
    app.clock.advance(600)  # nothing written since: only the time says it went offline
    assert (await app.http.get(path, headers=op.headers)).json()["data"]["online"] is False


async def test_telemetry_and_commands_show_this_processs_writes_at_once(app: App) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    headers = await device_headers(app, charger)
    base = f"/v1/operator/devices/{charger.device_id}"
    latest = await app.http.get(f"{base}/telemetry/latest", headers=op.headers)
    assert latest.json()["data"]["connectors"] == []
    app.clock.advance(1)
    body = {"connectors": [reading(1, power_kw=21.0)]}
    posted = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert posted.status_code == 202, posted.text
    latest = await app.http.get(f"{base}/telemetry/latest", headers=op.headers)
    assert [c["power_kw"] for c in latest.json()["data"]["connectors"]] == [21.0]
    window = f"{base}/telemetry?to={int(app.clock.now()) + 60}"
    raw = await app.http.get(window, headers=op.headers)
    assert [r["power_kw"] for r in raw.json()["data"]["items"]] == [21.0]  # 202: committed

    listed = await app.http.get("/v1/operator/commands", headers=op.headers)
    assert listed.json()["data"]["items"] == []
    started = await app.http.post(
        f"{base}/connectors/1/start",
        json={"charge_power": 11, "duration": 60, "target_soc": 80},
        headers={**op.headers, "Idempotency-Key": "k1"},
    )
    assert started.status_code in (200, 201, 202), started.text
    listed = await app.http.get("/v1/operator/commands", headers=op.headers)
    assert [c["type"] for c in listed.json()["data"]["items"]] == ["start"]
    polled = await app.http.get("/v1/device/commands?wait=0", headers=headers)
    assert [c["type"] for c in polled.json()["data"]["commands"]] == ["start"]
    listed = await app.http.get("/v1/operator/commands", headers=op.headers)
    assert [c["status"] for c in listed.json()["data"]["items"]] == ["delivered"]
