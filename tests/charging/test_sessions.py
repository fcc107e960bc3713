"""ev.energy's /v2/charging_sessions: a user's home-charger sessions, through the user's own
token or an app's client-credentials token acting for a consenting user (EvEnergy-User)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.charging.support import Station, report, station
from tests.conftest import App, Backend, make_settings
from tests.fixtures.fleet import Operator, bearer, operator
from tests.web.support import PASSWORD, REDIRECT, Flow
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.errors import NotFound
from voltgate.identity.users import User

URL = "/v2/charging_sessions"
SCOPE = "charging_session:read"


@dataclass
class World:
    op: Operator
    driver: User
    neighbour: User
    home: Station  # the driver's
    next_door: Station  # the neighbour's
    depot: Station  # nobody's
    sessions: list[dict[str, Any]]  # the driver's records, oldest first
    app_id: str
    app_secret: str


async def _world(app: App) -> World:
    op = await operator(app)
    driver = await app.rt.identity.users.create("driver@example.com", PASSWORD)
    neighbour = await app.rt.identity.users.create("neighbour@example.com", PASSWORD)
    home, next_door, depot = [await station(app, op) for _ in range(3)]
    await app.rt.fleet.devices.set_owner(home.device_id, driver.id)
    await app.rt.fleet.devices.set_owner(next_door.device_id, neighbour.id)
    t0 = app.clock.now() - 86_400
    mine = [await report(app, home, t0 + i * 3600, 10 + i) for i in range(3)]
    await report(app, next_door, t0, 99)
    await report(app, depot, t0, 77)
    app_id, secret = await app.client(
        kind="third_party",
        scopes=f"{SCOPE} vehicle:read",
        redirect_uris=[REDIRECT],
        name="Charge Planner",
    )
    return World(op, driver, neighbour, home, next_door, depot, mine, app_id, secret)


async def _user_token(app: App, world: World, scope: str = SCOPE) -> dict[str, str]:
    """The driver signs in and allows the app `scope`; the app's access token for the driver."""
    flow = Flow(app.http, world.app_id, scope=scope)
    code = await flow.code(world.driver.email)
    response = await app.http.post(
        "/o/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(world.app_id, world.app_secret),
    )
    assert response.status_code == 200, response.text
    return bearer(response.json()["access_token"])


async def _app_token(app: App, world: World, scope: str = SCOPE) -> dict[str, str]:
    return bearer((await app.token(world.app_id, world.app_secret, scope=scope))["access_token"])


def _sid(record: dict[str, Any]) -> str:
    return "chrg" + str(record["id"]).removeprefix("chg_")


async def test_a_users_token_lists_and_reads_only_their_own_sessions(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    listed = await app.http.get(URL, headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [s["id"] for s in body["data"]] == [_sid(r) for r in reversed(world.sessions)]
    first = body["data"][-1]
    assert first["object"] == "charging_session" and first["user_id"] == world.driver.id
    assert first["user_id"].startswith("user") and first["evse_id"].startswith("evse")
    assert (first["status"], first["energy_kwh"], first["duration_seconds"]) == (
        "completed",
        10,
        3600,
    )
    assert first["started_at"].endswith("Z")
    assert body["pagination"] == {"page_size": 20, "page_before": None, "page_after": None}
    assert listed.headers["X-RateLimit-Limit"] == "600"
    assert int(listed.headers["X-RateLimit-Remaining"]) < 600

    one = await app.http.get(f"{URL}/{first['id']}", headers=headers)
    assert one.status_code == 200
    assert one.json()["data"]["id"] == first["id"] and "meter_values" in one.json()["data"]

    others = [await _neighbours_session(app, world), "chrg" + "0" * 26, "chg_x", "nope"]
    for session in others:
        missing = await app.http.get(f"{URL}/{session}", headers=headers)
        assert missing.status_code == 404 and missing.json()["code"] == 3001, session


async def _neighbours_session(app: App, world: World) -> str:
    found = await app.http.get(
        f"/v1/operator/charging-records?device_id={world.next_door.device_id}",
        headers=world.op.headers,
    )
    return _sid(found.json()["data"]["items"][0])


async def test_page_after_and_page_before_walk_both_ways(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    newest_first = [_sid(r) for r in reversed(world.sessions)]
    first = (await app.http.get(f"{URL}?page_size=2", headers=headers)).json()
    assert [s["id"] for s in first["data"]] == newest_first[:2]
    assert first["pagination"]["page_before"] is None
    after = first["pagination"]["page_after"]
    second = (await app.http.get(f"{URL}?page_size=2&page_after={after}", headers=headers)).json()
    assert [s["id"] for s in second["data"]] == newest_first[2:]
    assert second["pagination"]["page_after"] is None
    before = second["pagination"]["page_before"]
    back = (await app.http.get(f"{URL}?page_size=2&page_before={before}", headers=headers)).json()
    assert [s["id"] for s in back["data"]] == newest_first[:2]
    assert back["pagination"]["page_before"] is None
    nearest = await app.http.get(f"{URL}?page_size=1&page_before={before}", headers=headers)
    assert [s["id"] for s in nearest.json()["data"]] == newest_first[1:2]
    assert nearest.json()["pagination"]["page_before"] == newest_first[1]


@pytest.mark.parametrize(
    "query",
    [
        "page_size=0",
        "page_size=101",
        "page_size=x",
        "page_after=chg_01",
        "page_before=chrgXYZ",
        f"page_after=chrg{'0' * 26}&page_before=chrg{'0' * 26}",
    ],
)
async def test_bad_pages_are_400(app: App, query: str) -> None:
    world = await _world(app)
    response = await app.http.get(f"{URL}?{query}", headers=await _user_token(app, world))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002


@pytest.mark.parametrize("value", ["4611686018427387904", "-4611686018427387904", "1e309"])
async def test_an_out_of_range_page_size_is_400_naming_it(app: App, value: str) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    response = await app.http.get(URL, params={"page_size": value}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    assert response.json()["message"].startswith("query.page_size: ")


async def test_a_missing_session_is_404_with_the_rate_limit_headers(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    first = await app.http.get(URL, headers=headers)
    missing = await app.http.get(f"{URL}/chrg{'0' * 26}", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == 3001
    remaining = int(first.headers["X-RateLimit-Remaining"])
    assert int(missing.headers["X-RateLimit-Remaining"]) == remaining - 1
    assert missing.headers["X-RateLimit-Limit"] == "600" and missing.headers["X-RateLimit-Reset"]


async def test_an_app_acts_for_a_consenting_user_named_in_the_header(app: App) -> None:
    world = await _world(app)
    await _user_token(app, world)  # the driver allowed the app charging_session:read
    token = await _app_token(app, world)
    as_driver = await app.http.get(URL, headers=token | {"EvEnergy-User": world.driver.id})
    assert as_driver.status_code == 200, as_driver.text
    assert [s["id"] for s in as_driver.json()["data"]] == [
        _sid(r) for r in reversed(world.sessions)
    ]
    one = await app.http.get(
        f"{URL}/{_sid(world.sessions[0])}", headers=token | {"EvEnergy-User": world.driver.id}
    )
    assert one.status_code == 200
    theirs = await app.http.get(
        f"{URL}/{await _neighbours_session(app, world)}",
        headers=token | {"EvEnergy-User": world.driver.id},
    )
    assert theirs.status_code == 404

    missing = await app.http.get(URL, headers=token)
    assert missing.status_code == 400 and "EvEnergy-User" in missing.json()["message"]
    for user in (world.neighbour.id, "user" + "0" * 26, "x\x01"):
        refused = await app.http.get(URL, headers=token | {"EvEnergy-User": user})
        assert refused.status_code == 403, user
        assert refused.json()["code"] == 2003 and SCOPE in refused.json()["message"]


async def test_a_consent_without_the_scope_does_not_cover_the_app(app: App) -> None:
    world = await _world(app)
    await _user_token(app, world, scope="vehicle:read")  # consented, but not to sessions
    refused = await app.http.get(
        URL, headers=await _app_token(app, world) | {"EvEnergy-User": world.driver.id}
    )
    assert refused.status_code == 403 and refused.json()["code"] == 2003


async def test_disconnecting_the_app_ends_its_access_for_that_user(app: App) -> None:
    world = await _world(app)
    await _user_token(app, world)
    token = await _app_token(app, world) | {"EvEnergy-User": world.driver.id}
    assert (await app.http.get(URL, headers=token)).status_code == 200
    await app.rt.identity.consents.disconnect(world.driver.id, world.app_id)
    assert (await app.http.get(URL, headers=token)).status_code == 403


async def test_a_disabled_user_cannot_be_acted_for(app: App) -> None:
    world = await _world(app)
    await _user_token(app, world)
    token = await _app_token(app, world) | {"EvEnergy-User": world.driver.id}
    assert (await app.http.get(URL, headers=token)).status_code == 200
    await app.rt.identity.users.disable(world.driver.id)
    assert (await app.http.get(URL, headers=token)).status_code == 403


async def test_tokens_without_the_scope_are_403_2003_naming_it(app: App) -> None:
    world = await _world(app)
    user = await _user_token(app, world, scope="vehicle:read")
    client = await _app_token(app, world, scope="vehicle:read")
    for headers in (user, client | {"EvEnergy-User": world.driver.id}):
        response = await app.http.get(URL, headers=headers)
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["code"] == 2003 and SCOPE in body["message"]
        assert f'scope="{SCOPE}"' in response.headers["WWW-Authenticate"]


async def test_operator_and_device_tokens_are_403(app: App) -> None:
    world = await _world(app)
    for headers in (world.op.headers, world.home.headers):
        response = await app.http.get(URL, headers=headers)
        assert response.status_code == 403 and response.json()["code"] == 2003
    assert (await app.http.get(URL)).status_code == 401


async def test_a_users_token_cannot_name_another_user(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    other = await app.http.get(URL, headers=headers | {"EvEnergy-User": world.neighbour.id})
    assert other.status_code == 403
    same = await app.http.get(URL, headers=headers | {"EvEnergy-User": world.driver.id})
    assert same.status_code == 200


async def test_ownership_moves_and_clears(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    await app.rt.fleet.devices.set_owner(world.home.device_id, None)
    assert (await app.http.get(URL, headers=headers)).json()["data"] == []
    await app.rt.fleet.devices.set_owner(world.depot.device_id, world.driver.id)
    assert [s["energy_kwh"] for s in (await app.http.get(URL, headers=headers)).json()["data"]] == [
        77
    ]
    with pytest.raises(NotFound, match="no user"):
        await app.rt.fleet.devices.set_owner(world.home.device_id, "user" + "0" * 26)
    with pytest.raises(NotFound, match="no device"):
        await app.rt.fleet.devices.set_owner("vgc_test_nothing", world.driver.id)


async def test_past_the_limit_for_an_app_and_user_it_is_429_with_the_headers(
    backend: Backend,
) -> None:
    settings = make_settings(backend, api_rate_limit=2)
    application = create_app(settings, clock=FrozenClock())
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            app = App(http, application.state.runtime, FrozenClock())
            world = await _world(app)
            headers = await _user_token(app, world)
            answers = [await http.get(URL, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].headers["X-RateLimit-Limit"] == "2" and answers[2].headers["Retry-After"]
    assert answers[2].json()["code"] == 5001


# -- kept renderings: the checks run on every request, the answer is made once per change ----


def _counted(monkeypatch: pytest.MonkeyPatch, app: App, name: str) -> list[tuple[Any, ...]]:
    """The calls the routes make to the charging service's `name` from now on."""
    charging = app.rt.fleet.charging
    calls: list[tuple[Any, ...]] = []
    real = getattr(charging, name)

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(charging, name, counting)
    return calls


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["data"]]


async def test_an_answer_is_made_once_and_every_read_is_still_counted(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    listed, detailed = _counted(monkeypatch, app, "owned"), _counted(monkeypatch, app, "owned_one")
    one = f"{URL}/{_sid(world.sessions[0])}"
    answers = [await app.http.get(path, headers=headers) for path in (URL, one, URL, one)]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[2].content == answers[0].content and answers[3].content == answers[1].content
    assert (len(listed), len(detailed)) == (1, 1)
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers]
    assert remaining == [remaining[0] - i for i in range(4)]

    app.clock.advance(1.0)  # at most a second old
    assert _ids(await app.http.get(URL, headers=headers)) == _ids(answers[0])
    assert len(listed) == 2


async def test_a_report_and_an_owner_change_show_in_the_very_next_read(app: App) -> None:
    world = await _world(app)
    headers = await _user_token(app, world)
    one = f"{URL}/{_sid(world.sessions[-1])}"
    mine = [_sid(r) for r in reversed(world.sessions)]
    assert _ids(await app.http.get(URL, headers=headers)) == mine
    assert (await app.http.get(one, headers=headers)).json()["data"]["status"] == "completed"

    started = app.clock.now() - 600
    body = {"transaction_id": "tx-kept", "connector": 1, "started_at": started, "energy_kwh": 1}
    reported = await app.http.post(
        "/v1/device/charging-records", json=body, headers=world.home.headers
    )
    assert reported.status_code == 201, reported.text
    opened = _sid(reported.json()["data"])
    listed = (await app.http.get(URL, headers=headers)).json()["data"]
    assert [s["id"] for s in listed] == [opened, *mine]
    assert listed[0]["status"] == "in_progress"

    body |= {"stopped_at": started + 300, "energy_kwh": 2}
    stopped = await app.http.post(
        "/v1/device/charging-records", json=body, headers=world.home.headers
    )
    assert stopped.status_code == 200, stopped.text
    listed = (await app.http.get(URL, headers=headers)).json()["data"]
    assert (listed[0]["status"], listed[0]["energy_kwh"]) == ("completed", 2)

    await app.rt.fleet.devices.set_owner(world.depot.device_id, world.driver.id)
    assert len(_ids(await app.http.get(URL, headers=headers))) == len(mine) + 2
    await app.rt.fleet.devices.set_owner(world.home.device_id, None)
    assert len(_ids(await app.http.get(URL, headers=headers))) == 1  # the depot's
    gone = await app.http.get(one, headers=headers)
    assert gone.status_code == 404


async def test_an_app_the_user_has_not_allowed_is_refused_though_an_answer_is_kept(
    app: App,
) -> None:
    world = await _world(app)
    await _user_token(app, world)  # the driver allowed Charge Planner
    planner = await _app_token(app, world) | {"EvEnergy-User": world.driver.id}
    assert (await app.http.get(URL, headers=planner)).status_code == 200

    other_id, other_secret = await app.client(
        kind="third_party", scopes=SCOPE, redirect_uris=[REDIRECT], name="Other app"
    )
    other = bearer((await app.token(other_id, other_secret, scope=SCOPE))["access_token"])
    refused = await app.http.get(URL, headers=other | {"EvEnergy-User": world.driver.id})
    assert refused.status_code == 403 and refused.json()["code"] == 2003

    await app.rt.identity.consents.disconnect(world.driver.id, world.app_id)
    withdrawn = await app.http.get(URL, headers=planner)
    assert withdrawn.status_code == 403 and withdrawn.json()["code"] == 2003
