"""The operator's view of its chargers: tenancy, connectivity and list windows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import enroll, operator, register


async def test_another_operators_device_is_404_and_never_listed(app: App) -> None:
    a, b = await operator(app, name="A"), await operator(app, name="B")
    mine = await register(app, await enroll(app, a))
    theirs = await register(app, await enroll(app, b))
    for path in (f"/v1/operator/devices/{theirs.device_id}", f"/v1/devices/{theirs.device_id}"):
        response = await app.http.get(path, headers=a.headers)
        assert response.status_code == 404
        assert response.json()["code"] == 3001
        assert theirs.serial not in response.text
    tellus = (await app.http.get("/v1/operator/devices", headers=a.headers)).json()["data"]
    assert [d["id"] for d in tellus["items"]] == [mine.device_id] and tellus["total"] == 1
    canonical = (await app.http.get("/v1/devices", headers=a.headers)).json()
    assert [d["id"] for d in canonical["items"]] == [mine.device_id]
    unknown = await app.http.get("/v1/operator/devices/vgc_test_nothing", headers=a.headers)
    assert unknown.status_code == 404 and unknown.json()["code"] == 3001


async def test_a_device_is_online_until_three_heartbeats_are_missed(app: App) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op))
    path = f"/v1/operator/devices/{charger.device_id}"

    async def online() -> tuple[bool, Any]:
        data = (await app.http.get(path, headers=op.headers)).json()["data"]
        return data["online"], data["last_seen_at"]

    heard = app.clock.now()
    assert await app.rt.fleet.devices.touch(charger.device_id, heard)
    assert await online() == (True, int(heard))
    app.clock.advance(90)
    assert (await online())[0] is True
    app.clock.advance(1)
    assert await online() == (False, int(heard))
    # An older report never moves last_seen_at back.
    assert await app.rt.fleet.devices.touch(charger.device_id, heard - 60)
    assert (await online())[1] == int(heard)
    assert not await app.rt.fleet.devices.touch("vgc_test_nothing", heard)


async def test_pages_and_cursors_walk_every_device_once(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=5)
    ids = sorted([(await register(app, token)).device_id for _ in range(5)])
    tellus = await app.http.get(
        "/v1/operator/devices", params={"page": 3, "size": 2}, headers=op.headers
    )
    assert [d["id"] for d in tellus.json()["data"]["items"]] == ids[4:]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await app.http.get("/v1/devices", params=params, headers=op.headers)).json()
        seen += [d["id"] for d in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/operator/devices", {"size": 101}),
        ("/v1/operator/devices", {"page": 0}),
        ("/v1/devices", {"limit": 101}),
        ("/v1/devices", {"limit": 0}),
    ],
)
async def test_device_list_windows_out_of_range_are_400_code_1002(
    app: App, path: str, params: dict[str, Any]
) -> None:
    op = await operator(app)
    response = await app.http.get(path, params=params, headers=op.headers)
    assert response.status_code == 400 and response.json()["code"] == 1002


@pytest.mark.parametrize("kind", ["third_party", "partner"])
async def test_other_token_kinds_get_403_naming_the_operator_kind(app: App, kind: str) -> None:
    cid, secret = await app.client(kind=kind, scopes="read write")
    headers = {"Authorization": f"Bearer {(await app.token(cid, secret))['access_token']}"}
    for path in ("/v1/operator/devices", "/v1/devices", "/v1/operator/sites", "/v1/sites"):
        response = await app.http.get(path, headers=headers)
        assert response.status_code == 403
        assert "operator token" in response.json()["message"]


@pytest.mark.parametrize(
    "path", ["/v1/operator/devices/a%00b", "/v1/devices/a%00b", "/v1/operator/sites/a%00b"]
)
async def test_ids_no_row_can_have_are_404_not_500(app: App, path: str) -> None:
    op = await operator(app)
    response = await app.http.get(path, headers=op.headers)
    assert response.status_code == 404 and response.json()["code"] == 3001
