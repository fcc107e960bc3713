"""Sites: an operator creates and lists its own, on the Tellus and the canonical paths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import operator, site


async def test_an_operator_creates_a_site_and_sees_it_on_both_paths(app: App) -> None:
    op = await operator(app)
    body = {
        "name": "Harbour depot",
        "address": "Kai 3, Hamburg",
        "latitude": 53.54,
        "longitude": 9.98,
        "timezone": "Europe/Berlin",
        "grid_limit_kw": 400,
    }
    created = await app.http.post("/v1/operator/sites", json=body, headers=op.headers)
    assert created.status_code == 201, created.text
    assert created.json()["code"] == 0 and created.json()["message"] == "success"
    shown = created.json()["data"]
    assert shown["id"].startswith("site")
    assert {k: shown[k] for k in body} == body

    listed = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert listed.json()["data"] == {"items": [shown], "page": 1, "size": 20, "total": 1}
    canonical = await app.http.get("/v1/sites", headers=op.headers)
    assert canonical.json() == {"items": [shown], "next_cursor": None}
    one = await app.http.get(f"/v1/sites/{shown['id']}", headers=op.headers)
    assert one.json() == shown
    assert (await app.http.get(f"/v1/operator/sites/{shown['id']}", headers=op.headers)).json()[
        "data"
    ] == shown


async def test_canonical_create_answers_plain_json(app: App) -> None:
    op = await operator(app)
    created = await app.http.post("/v1/sites", json={"name": "Yard"}, headers=op.headers)
    assert created.status_code == 201
    assert created.json()["timezone"] == "UTC" and "code" not in created.json()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "Depot", "timezone": "Mars/Olympus"},
        {"name": "Depot", "timezone": "../etc/passwd"},
        {"name": "Depot", "latitude": 53.5},
        {"name": "Depot", "latitude": 91, "longitude": 0},
        {"name": "Depot", "grid_limit_kw": 0},
        {"name": "Depot", "grid_limit_kw": "lots"},
        ["Depot"],
    ],
)
async def test_malformed_site_bodies_are_400_code_1002_and_nothing_is_created(
    app: App, body: Any
) -> None:
    op = await operator(app)
    response = await app.http.post("/v1/operator/sites", json=body, headers=op.headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002 and response.json()["data"] is None
    listed = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert listed.json()["data"]["total"] == 0


@pytest.mark.parametrize("path", ["/v1/operator/sites", "/v1/sites"])
async def test_a_misspelt_field_is_400_code_1002_and_nothing_is_stored(app: App, path: str) -> None:
    op = await operator(app)
    body = {"name": "Depot", "time_zone": "Europe/Berlin"}  # not saved as a UTC site
    response = await app.http.post(path, json=body, headers=op.headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    assert "time_zone" in response.json()["message"]
    listed = await app.http.get("/v1/operator/sites", headers=op.headers)
    assert listed.json()["data"]["total"] == 0


async def test_a_body_that_is_not_json_is_400_in_the_envelope(app: App) -> None:
    op = await operator(app)
    response = await app.http.post(
        "/v1/operator/sites",
        content=b"{name: Depot",
        headers={**op.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == 1002


async def test_read_scope_lists_but_cannot_create(app: App) -> None:
    op = await operator(app, scopes="read")
    assert (await app.http.get("/v1/operator/sites", headers=op.headers)).status_code == 200
    response = await app.http.post("/v1/operator/sites", json={"name": "X"}, headers=op.headers)
    assert response.status_code == 403
    assert response.json()["code"] == 2003 and "write" in response.json()["message"]


async def test_another_operators_site_is_404_and_never_listed(app: App) -> None:
    a, b = await operator(app, name="A"), await operator(app, name="B")
    mine = await site(app, a, name="A's depot")
    theirs = await site(app, b, name="B's depot")
    for path in (f"/v1/operator/sites/{theirs}", f"/v1/sites/{theirs}"):
        response = await app.http.get(path, headers=a.headers)
        assert response.status_code == 404
        assert response.json()["code"] == 3001
    tellus = (await app.http.get("/v1/operator/sites", headers=a.headers)).json()["data"]
    assert [s["id"] for s in tellus["items"]] == [mine] and tellus["total"] == 1
    canonical = (await app.http.get("/v1/sites", headers=a.headers)).json()
    assert [s["id"] for s in canonical["items"]] == [mine]


async def test_pages_and_cursors_walk_every_site_once(app: App) -> None:
    op = await operator(app)
    ids = sorted([await site(app, op, name=f"Site {n}") for n in range(5)])

    pages = []
    for number in (1, 2, 3):
        response = await app.http.get(
            "/v1/operator/sites", params={"page": number, "size": 2}, headers=op.headers
        )
        data = response.json()["data"]
        assert (data["page"], data["size"], data["total"]) == (number, 2, 5)
        pages += [s["id"] for s in data["items"]]
    assert pages == ids

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await app.http.get("/v1/sites", params=params, headers=op.headers)).json()
        seen += [s["id"] for s in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/operator/sites", {"size": 101}),
        ("/v1/operator/sites", {"size": 0}),
        ("/v1/operator/sites", {"page": 0}),
        ("/v1/operator/sites", {"page": "two"}),
        ("/v1/sites", {"limit": 101}),
        ("/v1/sites", {"cursor": "not-a-cursor"}),
    ],
)
async def test_list_windows_out_of_range_are_400_code_1002(
    app: App, path: str, params: dict[str, Any]
) -> None:
    op = await operator(app)
    response = await app.http.get(path, params=params, headers=op.headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    if path.startswith("/v1/operator"):
        assert response.json()["data"] is None
