"""An operator commands and reads only its own chargers' commands; a charger sees and reports
only its own. Anything else is 404 code 3001, so existence does not leak."""

from __future__ import annotations

from tests.commands.support import (
    DISCHARGE,
    START,
    command,
    fleet,
    heartbeat,
    queued,
    report,
    stored,
)
from tests.conftest import App
from tests.fixtures.fleet import operator


async def test_commanding_another_operators_charger_is_404(app: App) -> None:
    mine = await fleet(app)
    theirs = await fleet(app, await operator(app, name="B"))
    for action, body in [("start", START), ("stop", {}), ("discharge", DISCHARGE)]:
        response = await app.http.post(theirs.path(action), json=body, headers=mine.op.headers)
        assert response.status_code == 404 and response.json()["code"] == 3001
        assert theirs.charger.serial not in response.text
    unknown = await app.http.post(
        "/v1/operator/devices/vgc_test_nothing/connectors/1/start",
        json=START,
        headers=mine.op.headers,
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == 3001
    assert await stored(app, theirs.op) == 0


async def test_another_operators_command_is_404_and_never_listed(app: App) -> None:
    mine = await fleet(app)
    theirs = await fleet(app, await operator(app, name="B"))
    their_command = await queued(app, theirs)
    my_command = await queued(app, mine)
    response = await app.http.get(f"/v1/operator/commands/{their_command}", headers=mine.op.headers)
    assert response.status_code == 404 and response.json()["code"] == 3001
    listed = await app.http.get(
        "/v1/operator/commands",
        params={"device_id": theirs.charger.device_id},
        headers=mine.op.headers,
    )
    assert listed.json()["data"]["total"] == 0
    everything = (await app.http.get("/v1/operator/commands", headers=mine.op.headers)).json()
    assert [c["command_id"] for c in everything["data"]["items"]] == [my_command]


async def test_a_charger_reports_only_on_its_own_commands(app: App) -> None:
    fl = await fleet(app)
    neighbour = await fleet(app, fl.op)
    their_command = await queued(app, neighbour)
    await heartbeat(app, neighbour)
    refused = await report(app, fl, their_command, "accepted")
    assert refused.status_code == 404 and refused.json()["code"] == 3001
    unknown = await report(app, fl, "cmd_nothing", "accepted")
    assert unknown.status_code == 404 and unknown.json()["code"] == 3001
    assert (await heartbeat(app, fl))["commands"] == []


async def test_commanding_needs_write_and_reading_needs_read(app: App) -> None:
    fl = await fleet(app)
    reader = await operator(app, scopes="read")
    response = await app.http.post(fl.path("start"), json=START, headers=reader.headers)
    assert response.status_code == 403 and response.json()["code"] == 2003
    writer = await operator(app, scopes="write")
    response = await app.http.get("/v1/operator/commands", headers=writer.headers)
    assert response.status_code == 403 and response.json()["code"] == 2003


async def test_device_tokens_cannot_command_and_operator_tokens_cannot_report(app: App) -> None:
    fl = await fleet(app)
    response = await app.http.post(fl.path("start"), json=START, headers=fl.device)
    assert response.status_code == 403 and response.json()["code"] == 2003
    command_id = await queued(app, fl)
    response = await app.http.post(
        "/v1/device/command-status",
        json={"command_id": command_id, "status": "accepted"},
        headers=fl.op.headers,
    )
    assert response.status_code == 403 and response.json()["code"] == 2003
    response = await app.http.post("/v1/device/heartbeat", json={}, headers=fl.op.headers)
    assert response.status_code == 403
    assert (await command(app, fl)).status_code == 202
