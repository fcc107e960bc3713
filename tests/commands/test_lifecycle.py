"""A command's life: queued, delivered with a heartbeat, accepted, completed — or expired when
its charger never came for it; illegal steps are refused and change nothing."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from tests.commands.support import (
    DISCHARGE,
    START,
    command,
    fleet,
    heartbeat,
    queued,
    report,
    show,
)
from tests.conftest import App
from voltgate.db.schema import audit_events


async def test_a_command_goes_from_queued_to_completed(app: App) -> None:
    fl = await fleet(app)
    await heartbeat(app, fl)  # the charger is online
    response = await command(app, fl, "start", {**START, "transaction_id": "tx-1"})
    assert response.status_code == 202
    issued = response.json()
    assert issued["code"] == 0
    command_id = issued["data"]["command_id"]
    assert issued["data"]["status"] == "queued" and issued["data"]["device_online"] is True
    assert issued["data"]["expires_at"] == int(app.clock.now()) + 300
    assert (await show(app, fl, command_id))["status"] == "queued"

    beat = await heartbeat(app, fl)
    assert beat["server_time"] == int(app.clock.now())
    assert beat["commands"] == [
        {
            "command_id": command_id,
            "type": "start",
            "connector": 1,
            "params": {**START, "transaction_id": "tx-1"},
            "created_at": int(app.clock.now()),
            "expires_at": int(app.clock.now()) + 300,
        }
    ]
    assert (await heartbeat(app, fl))["commands"] == []  # delivered once
    assert (await show(app, fl, command_id))["status"] == "delivered"

    for status in ("accepted", "completed"):
        answer = await report(app, fl, command_id, status)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == {"command_id": command_id, "status": status}
        assert (await show(app, fl, command_id))["status"] == status


async def test_a_rejection_or_failure_keeps_the_chargers_reason(app: App) -> None:
    fl = await fleet(app)
    first, second = await queued(app, fl), await queued(app, fl, "stop")
    await heartbeat(app, fl)
    assert (await report(app, fl, first, "rejected", reason="no vehicle")).status_code == 200
    await report(app, fl, second, "accepted", reason="stopping")
    assert (await report(app, fl, second, "failed", reason="contactor fault")).status_code == 200
    assert (await show(app, fl, first))["reason"] == "no vehicle"
    third = await queued(app, fl)
    await heartbeat(app, fl)
    await report(app, fl, third, "accepted", reason="plugged in")
    await report(app, fl, third, "completed")  # no reason: the earlier one stays
    assert (await show(app, fl, third))["reason"] == "plugged in"
    shown = await show(app, fl, second)
    assert (shown["status"], shown["reason"]) == ("failed", "contactor fault")


async def test_illegal_transitions_are_409_and_change_nothing(app: App) -> None:
    fl = await fleet(app)
    command_id = await queued(app, fl)
    # Not delivered yet: the charger cannot have accepted it.
    refused = await report(app, fl, command_id, "accepted")
    assert refused.status_code == 409 and refused.json()["code"] == 4001
    assert (
        "is queued and cannot become accepted: it has not been delivered"
        in (refused.json()["message"])
    )
    assert (await show(app, fl, command_id))["status"] == "queued"
    await heartbeat(app, fl)
    refused = await report(app, fl, command_id, "completed")  # skips accepted
    assert refused.status_code == 409 and refused.json()["code"] == 4001
    await report(app, fl, command_id, "accepted")
    await report(app, fl, command_id, "completed")
    for status in ("failed", "rejected", "accepted"):
        refused = await report(app, fl, command_id, status)
        assert refused.status_code == 409 and refused.json()["code"] == 4001
        assert "its status is final" in refused.json()["message"]
    assert (await show(app, fl, command_id))["status"] == "completed"


async def test_a_repeated_report_is_answered_and_changes_nothing(app: App) -> None:
    fl = await fleet(app)
    command_id = await queued(app, fl)
    await heartbeat(app, fl)
    assert (await report(app, fl, command_id, "accepted")).status_code == 200
    again = await report(app, fl, command_id, "accepted")  # a retry after a lost response
    assert again.status_code == 200 and again.json()["data"]["status"] == "accepted"


async def test_bad_status_reports_are_400(app: App) -> None:
    fl = await fleet(app)
    command_id = await queued(app, fl)
    for body in (
        {"command_id": command_id, "status": "delivered"},
        {"command_id": command_id, "status": "expired"},
        {"command_id": command_id},
        {"status": "accepted"},
    ):
        response = await app.http.post("/v1/device/command-status", json=body, headers=fl.device)
        assert response.status_code == 400 and response.json()["code"] == 1002, body


async def test_an_offline_charger_gets_a_queued_command_that_expires_undelivered(app: App) -> None:
    fl = await fleet(app)  # registered, never heard from
    response = await command(app, fl, "discharge", DISCHARGE)
    data = response.json()["data"]
    assert response.status_code == 202
    assert data["status"] == "queued" and data["device_online"] is False
    assert data["expires_at"] == int(app.clock.now()) + 300
    app.clock.advance(299)
    assert (await show(app, fl, data["command_id"]))["status"] == "queued"
    app.clock.advance(1)
    assert (await show(app, fl, data["command_id"]))["status"] == "expired"
    # The charger comes back: the expired command is not delivered, and cannot be reported on.
    assert (await heartbeat(app, fl))["commands"] == []
    refused = await report(app, fl, data["command_id"], "accepted")
    assert refused.status_code == 409 and refused.json()["code"] == 4001


async def test_the_sweep_and_the_list_expire_overdue_commands(app: App) -> None:
    fl = await fleet(app)
    first, second = await queued(app, fl), await queued(app, fl)
    app.clock.advance(301)
    assert await app.rt.fleet.commands.sweep() == 2
    assert await app.rt.fleet.commands.sweep() == 0
    third = await queued(app, fl)
    app.clock.advance(301)
    listed = await app.http.get(
        "/v1/operator/commands", params={"status": "expired"}, headers=fl.op.headers
    )
    assert [c["command_id"] for c in listed.json()["data"]["items"]] == [third, second, first]


async def test_a_schedule_waits_a_day_for_its_charger(app: App) -> None:
    fl = await fleet(app)
    body = {"type": "daily", "time_slots": [{"start": "01:00", "end": "05:00"}], "timezone": "UTC"}
    response = await command(app, fl, "schedule", body)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["expires_at"] == int(app.clock.now()) + 86_400
    app.clock.advance(3600)
    [delivered] = (await heartbeat(app, fl))["commands"]
    assert delivered["type"] == "schedule" and delivered["params"] == body


async def test_a_queued_command_and_its_audit_row_are_stored_when_it_is_answered(
    app: App,
) -> None:
    """Acknowledged means stored: no flush, no wait; the row came in the command's commit."""
    fl = await fleet(app)
    answered = await app.http.post(
        fl.path("start"), json=START, headers={**fl.op.headers, "X-Request-ID": "req-audit-1"}
    )
    assert answered.status_code == 202
    command_id = answered.json()["data"]["command_id"]
    async with app.rt.db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(audit_events.c.event, audit_events.c.request_id, audit_events.c.detail)
            )
        ).all()
    queued_rows = [r for r in rows if r.event == "command_queued"]
    assert len(queued_rows) == 1
    assert queued_rows[0].request_id == "req-audit-1"
    assert orjson.loads(queued_rows[0].detail)["command_id"] == command_id
