"""`/v1/alerts/rules`: an app creates, lists and deletes its rules with its own token; a body
that is not exactly one kind's parameters is 400 in the canonical error shape."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.alerting import operator, rule, third_party
from tests.fixtures.grants import user_token

THRESHOLD = {"kind": "threshold", "field": "Soc", "op": "below", "value": 20, "hysteresis": 2}


async def test_an_app_creates_lists_and_deletes_its_rules(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    created = await rule(app, client, name=" low battery ", for_seconds=60, **THRESHOLD)
    assert created["id"].startswith("alrr_") and created["kind"] == "threshold"
    assert created["target"] == "vehicles" and created["name"] == "low battery"
    assert created["params"] == {
        "field": "Soc",
        "op": "below",
        "value": 20.0,
        "hysteresis": 2.0,
        "for_seconds": 60.0,
    }
    drain = await rule(
        app,
        client,
        kind="delta",
        field="BatteryLevel",
        direction="fall",
        by=3,
        window_seconds=86_400,
        while_not_charging=True,
        subjects=["5YJ3E1EA7KF000001"],
    )
    stopped = await rule(app, client, kind="charging_stopped_below_target")
    assert stopped["params"] == {"margin": 0.0}

    listed = await app.http.get("/v1/alerts/rules", headers=client.headers)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["items"]] == [created["id"], drain["id"], stopped["id"]]
    other = await third_party(app)  # another app sees none of them
    assert (await app.http.get("/v1/alerts/rules", headers=other.headers)).json() == {"items": []}
    foreign = await app.http.delete(f"/v1/alerts/rules/{created['id']}", headers=other.headers)
    assert foreign.status_code == 404

    gone = await app.http.delete(f"/v1/alerts/rules/{created['id']}", headers=client.headers)
    assert gone.status_code == 204
    again = await app.http.delete(f"/v1/alerts/rules/{created['id']}", headers=client.headers)
    assert again.status_code == 404
    assert again.json()["error"] == "not_found" and again.json()["code"] == 3001
    left = (await app.http.get("/v1/alerts/rules", headers=client.headers)).json()["items"]
    assert [r["id"] for r in left] == [drain["id"], stopped["id"]]


async def test_an_operator_watches_its_chargers(alerting: App) -> None:
    app = alerting
    op = await operator(app)
    faulted = await rule(app, op, kind="connector_faulted")
    assert faulted["target"] == "chargers"
    hot = await rule(app, op, kind="threshold", field="power", op="above", value=150)
    assert hot["target"] == "chargers"
    vehicles = await app.http.post(
        "/v1/alerts/rules", json={**THRESHOLD, "target": "vehicles"}, headers=op.headers
    )
    assert vehicles.status_code == 400
    assert "operator app's rules watch its chargers" in vehicles.json()["error_description"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**THRESHOLD, "field": "Location"}, "field: 'Location' is not a numeric vehicle field"),
        ({**THRESHOLD, "direction": "fall"}, "direction: not a parameter of a threshold rule"),
        ({"kind": "threshold", "field": "Soc", "op": "below"}, "value: required"),
        ({**THRESHOLD, "value": "20"}, "value:"),
        ({**THRESHOLD, "value": 1e300}, "value:"),
        ({**THRESHOLD, "hysteresis": -1}, "hysteresis:"),
        ({**THRESHOLD, "colour": "red"}, "colour:"),
        ({**THRESHOLD, "subjects": ["not a vin"]}, "subjects."),
        ({**THRESHOLD, "subjects": ["vgc_test_01"]}, "subjects: 'vgc_test_01' is not a VIN"),
        ({"kind": "delta", "field": "Soc", "direction": "fall", "by": 3}, "window_seconds: req"),
        (
            {"kind": "delta", "field": "Soc", "direction": "fall", "by": 3, "window_seconds": 1},
            "window_seconds:",
        ),
        ({"kind": "connector_faulted"}, "target: a third_party app's rules watch its vehicles"),
        ({"kind": "charging_stopped_below_target", "margin": 101}, "margin:"),
        ({"kind": "smoke"}, "kind:"),
        ({}, "kind:"),
    ],
)
async def test_a_bad_rule_is_400_in_the_canonical_shape(
    alerting: App, body: dict[str, Any], says: str
) -> None:
    client = await third_party(alerting)
    response = await alerting.http.post("/v1/alerts/rules", json=body, headers=client.headers)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert set(answer) == {"error", "error_description", "code", "message"}
    assert answer["error"] == "invalid_request" and answer["code"] == 1002
    assert answer["error_description"].startswith(says), answer
    listed = await alerting.http.get("/v1/alerts/rules", headers=client.headers)
    assert listed.json() == {"items": []}


async def test_only_the_apps_own_token_reaches_the_rules(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    assert (await app.http.get("/v1/alerts/rules")).status_code == 401
    user = await app.rt.identity.users.create("ada@example.com", "correct horse battery")
    delegated = await user_token(
        app,
        client.client_id,
        client.secret,
        user.id,
        "vehicle_device_data",
        "https://app.example/cb",
    )
    as_user = await app.http.get(
        "/v1/alerts/rules", headers={"Authorization": f"Bearer {delegated}"}
    )
    assert as_user.status_code == 403
    assert "app's own token (client credentials)" in as_user.json()["error_description"]
    partner_id, partner_secret = await app.client(kind="partner", scopes="openid")
    partner = (await app.token(partner_id, partner_secret))["access_token"]
    as_partner = await app.http.get(
        "/v1/alerts/rules", headers={"Authorization": f"Bearer {partner}"}
    )
    assert as_partner.status_code == 403
    # The app's token without vehicle_device_data may not watch vehicles.
    narrow = await app.token(client.client_id, client.secret, scope="vehicle_location")
    refused = await app.http.post(
        "/v1/alerts/rules",
        json=THRESHOLD,
        headers={"Authorization": f"Bearer {narrow['access_token']}"},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"


async def test_an_app_has_at_most_its_bound_of_rules(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    bound = app.rt.settings.alert_max_rules
    for _ in range(bound):
        await rule(app, client, **THRESHOLD)
    over = await app.http.post("/v1/alerts/rules", json=THRESHOLD, headers=client.headers)
    assert over.status_code == 409 and over.json()["code"] == 4001
