"""Two instances on one PostgreSQL and Redis: what a charger reports through one is what the
operator reads through the other, within a second."""

from __future__ import annotations

from tests.commands.support import fleet, heartbeat, queued, report, show
from tests.conftest import App
from tests.fixtures.instances import seen_within


async def test_a_status_reported_on_one_instance_is_read_on_the_other_within_a_second(
    app: App, second: App
) -> None:
    fl = await fleet(app)
    command_id = await queued(app, fl)
    # The other instance has read it once (so it holds it), then the charger moves it along.
    assert (await show(second, fl, command_id))["status"] == "queued"
    [delivered] = (await heartbeat(app, fl))["commands"]
    assert delivered["command_id"] == command_id
    for status in ("delivered", "accepted", "completed"):
        if status != "delivered":
            answer = await report(app, fl, command_id, status, reason=f"{status} here")
            assert answer.status_code == 200, answer.text
        shown, delay = await seen_within(
            lambda: show(second, fl, command_id), lambda c, s=status: c["status"] == s, 1.0
        )
        assert shown["status"] == status and delay < 1.0
        assert shown == await show(app, fl, command_id)
    assert shown["reason"] == "completed here"
    listed = await second.http.get("/v1/operator/commands", headers=fl.op.headers)
    assert [(c["command_id"], c["status"]) for c in listed.json()["data"]["items"]] == [
        (command_id, "completed")
    ]


async def test_a_command_queued_on_one_instance_is_read_and_delivered_through_the_other(
    app: App, second: App
) -> None:
    fl = await fleet(app)
    command_id = await queued(app, fl)
    assert (await show(second, fl, command_id))["status"] == "queued"  # at once
    [delivered] = (await heartbeat(second, fl))["commands"]
    assert delivered["command_id"] == command_id
    assert (await heartbeat(app, fl))["commands"] == []  # delivered once
    shown, delay = await seen_within(
        lambda: show(app, fl, command_id), lambda c: c["status"] == "delivered", 1.0
    )
    assert shown["status"] == "delivered" and delay < 1.0
    assert (await report(second, fl, command_id, "rejected", reason="busy")).status_code == 200
    shown, delay = await seen_within(
        lambda: show(app, fl, command_id), lambda c: c["status"] == "rejected", 1.0
    )
    assert (shown["status"], shown["reason"]) == ("rejected", "busy") and delay < 1.0
