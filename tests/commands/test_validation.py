"""Commands a charger could not carry out are refused up front: 400 code 1002, a message that
names the problem, and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.support import DISCHARGE, START, command, fleet, heartbeat, stored
from tests.conftest import App

DAILY = {"type": "daily", "timezone": "Europe/Berlin"}


def _slots(*pairs: tuple[str, str], **extra: Any) -> list[dict[str, Any]]:
    return [{"start": start, "end": end, **extra} for start, end in pairs]


@pytest.mark.parametrize(
    ("action", "body", "connector", "message"),
    [
        ("start", START, 3, "has no connector 3"),
        ("stop", None, 9, "has no connector 9"),
        ("start", {**START, "charge_power": 50}, 1, "charge_power 50 kW is above connector 1's"),
        ("start", {**START, "charge_power": 0}, 1, "charge_power"),
        ("start", {**START, "target_soc": 101}, 1, "target_soc"),
        ("start", {"charge_power": 11, "duration": 60}, 1, "target_soc"),
        ("start", {**START, "speed": "fast"}, 1, "speed"),
        ("discharge", {**DISCHARGE, "discharge_power": 160}, 2, "above connector 2's maximum"),
        ("discharge", {**DISCHARGE, "min_soc": 120}, 1, "min_soc"),
        ("discharge", {**DISCHARGE, "min_soc": -1}, 1, "min_soc"),
        (
            "schedule",
            {**DAILY, "time_slots": _slots(("08:00", "10:00"), ("09:30", "11:00"))},
            1,
            "time_slots 0 and 1 overlap (08:00-10:00 and 09:30-11:00)",
        ),
        (
            "schedule",
            {**DAILY, "time_slots": _slots(("10:00", "10:00"))},
            1,
            "a slot must end after it starts",
        ),
        ("schedule", {**DAILY, "time_slots": _slots(("22:00", "06:00"))}, 1, "end after"),
        ("schedule", {**DAILY, "time_slots": _slots(("25:00", "26:00"))}, 1, "start"),
        (
            "schedule",
            {**DAILY, "timezone": "Mars/Olympus", "time_slots": _slots(("01:00", "02:00"))},
            1,
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "schedule",
            {**DAILY, "time_slots": _slots(("01:00", "02:00"), power=30)},
            1,
            "time_slots[0].power 30 kW is above",
        ),
        (
            "schedule",
            {**DAILY, "type": "weekly", "time_slots": _slots(("01:00", "02:00"))},
            1,
            "needs day",
        ),
        ("schedule", {**DAILY, "time_slots": []}, 1, "time_slots"),
    ],
)
async def test_invalid_commands_are_400_code_1002_and_not_stored(
    app: App, action: str, body: Any, connector: int, message: str
) -> None:
    fl = await fleet(app)
    response = await command(app, fl, action, body, connector=connector)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002 and response.json()["data"] is None
    assert message in response.json()["message"]
    assert await stored(app, fl.op) == 0


async def test_weekly_slots_on_different_days_may_share_hours(app: App) -> None:
    fl = await fleet(app)
    slots = [
        {"start": "08:00", "end": "10:00", "day": "mon"},
        {"start": "08:00", "end": "10:00", "day": 2},
        {"start": "09:00", "end": "11:00", "day": "Wednesday", "power": 22},
    ]
    body = {"type": "weekly", "time_slots": slots, "timezone": "UTC", "target_soc": 90}
    response = await command(app, fl, "schedule", body)
    assert response.status_code == 202, response.text
    clash = {**body, "time_slots": [*slots, {"start": "09:59", "end": "12:00", "day": "tue"}]}
    refused = await command(app, fl, "schedule", clash)
    assert refused.status_code == 400 and "overlap" in refused.json()["message"]


async def test_discharging_at_or_below_min_soc_is_refused_when_the_soc_is_known(app: App) -> None:
    fl = await fleet(app)
    # Unknown SoC: the charger decides.
    assert (await command(app, fl, "discharge", DISCHARGE)).status_code == 202
    await heartbeat(app, fl, {"connectors": [{"connector": 1, "state": "charging", "soc": 30}]})
    refused = await command(app, fl, "discharge", DISCHARGE)
    assert refused.status_code == 400 and refused.json()["code"] == 1002
    assert "at 30 % state of charge, not above min_soc 30" in refused.json()["message"]
    assert (await command(app, fl, "discharge", {**DISCHARGE, "min_soc": 20})).status_code == 202
    # A reading older than ten minutes is not known any more.
    app.clock.advance(601)
    assert (await command(app, fl, "discharge", DISCHARGE)).status_code == 202
    assert await stored(app, fl.op) == 3


async def test_flexibility_for_an_unknown_site_is_400(app: App) -> None:
    fl = await fleet(app)
    for body, message in [
        ({"target_type": "site", "target_id": "site_nothing"}, "unknown target"),
        ({"target_type": "site"}, "needs target_id"),
        ({"target_type": "operator", "target_id": "vgc_test_someone"}, "unknown target"),
    ]:
        response = await app.http.post(
            "/v1/operator/control/flexibility",
            json={**body, "command": "pause_charging", "params": {"duration": 600}},
            headers=fl.op.headers,
        )
        assert response.status_code == 400 and response.json()["code"] == 1002
        assert message in response.json()["message"]
    for params, message in [
        ({"duration": 600}, "needs params.power_limit_percent"),
        ({"duration": 600, "power_limit_percent": 150}, "power_limit_percent"),
        ({"power_limit_percent": 50}, "duration"),
    ]:
        response = await app.http.post(
            "/v1/operator/control/flexibility",
            json={"target_type": "all", "command": "set_power_limit", "params": params},
            headers=fl.op.headers,
        )
        assert response.status_code == 400 and message in response.json()["message"]
    assert await stored(app, fl.op) == 0


async def test_a_body_that_is_not_a_json_object_is_400_in_the_envelope(app: App) -> None:
    fl = await fleet(app)
    headers = {**fl.op.headers, "content-type": "application/json"}
    for content, message in [(b"{not json", "not valid JSON"), (b'"stop"', "body: ")]:
        response = await app.http.post(fl.path("stop"), content=content, headers=headers)
        assert response.status_code == 400
        assert response.json()["code"] == 1002 and response.json()["data"] is None
        assert message in response.json()["message"]
    assert await stored(app, fl.op) == 0


async def test_a_soc_from_telemetry_counts_and_the_newest_report_wins(app: App) -> None:
    fl = await fleet(app)
    reading = {"connector": 1, "state": "charging", "power_kw": 7, "energy_kwh": 3, "soc": 28}
    posted = await app.http.post(
        "/v1/device/telemetry", json={"connectors": [reading]}, headers=fl.device
    )
    assert posted.status_code == 202, posted.text
    refused = await command(app, fl, "discharge", DISCHARGE)
    assert refused.status_code == 400 and "at 28 %" in refused.json()["message"]
    # A later heartbeat says the vehicle has charged since.
    app.clock.advance(5)
    await heartbeat(app, fl, {"connectors": [{"connector": 1, "state": "charging", "soc": 45}]})
    assert (await command(app, fl, "discharge", DISCHARGE)).status_code == 202


async def test_a_heartbeat_with_a_misspelt_field_is_400_and_records_nothing(app: App) -> None:
    fl = await fleet(app)
    for body, field in [
        ({"connectors": [{"connector": 1, "state": "charging", "SoC": 30}]}, "connectors.0.SoC"),
        ({"connector": [{"connector": 1, "state": "charging", "soc": 30}]}, "connector"),
    ]:
        response = await app.http.post("/v1/device/heartbeat", json=body, headers=fl.device)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == 1002
        assert response.json()["message"].startswith(f"{field}: Extra inputs")
    # No state of charge was recorded: the charger decides on the discharge.
    assert (await command(app, fl, "discharge", DISCHARGE)).status_code == 202
