"""chargelogsPaged: a user's sessions, newest first, with what the charger reported behind
each (live energy while charging), on both backends."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.contracts.support import polled, ready, record, telemetry, world
from voltgate.contracts.store import SessionStatus
from voltgate.errors import ValidationFailed


async def test_charge_logs_page_the_users_sessions_with_their_energy(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    began = float(int(app.clock.now()))
    first = await w.remote.remote_start(driver.id, tag, w.connector())
    await record(app, w, first.transaction_id, started_at=began)
    finish = {"started_at": began, "stopped_at": began + 600, "energy_kwh": 10.5}
    await record(app, w, first.transaction_id, 200, **finish)
    app.clock.advance(900)

    second = await w.remote.remote_start(driver.id, tag, w.connector())
    await record(app, w, second.transaction_id, started_at=float(int(app.clock.now())))
    await telemetry(app, w, 3.25)  # the charger's meter moves before its record does
    third = await w.remote.remote_start(driver.id, tag, w.connector(2))
    await polled(app, w)

    total, page = await w.remote.chargelogs(driver.id, 2, 0)
    assert total == 3
    assert [(log.session.id, log.session.status) for log in page] == [
        (third.id, SessionStatus.WAITING),
        (second.id, SessionStatus.STARTED),
    ]
    waiting, live = page
    assert (waiting.energy_kwh, waiting.started_at, waiting.record_id) == (0.0, None, None)
    assert live.energy_kwh == 3.25 and live.stopped_at is None

    total, rest = await w.remote.chargelogs(driver.id, 2, 2)
    [done] = rest
    assert total == 3 and done.session.id == first.id
    assert done.session.status is SessionStatus.STOPPED
    assert (done.started_at, done.stopped_at, done.energy_kwh) == (began, began + 600, 10.5)
    assert done.session.charge_point_id == w.fleet.charger.device_id
    assert done.record_id is not None
    assert await w.remote.chargelogs(driver.id, 2, 4) == (3, [])


async def test_energy_flows_while_charging_and_the_record_has_the_last_word(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    began = float(int(app.clock.now()))
    await record(app, w, session.transaction_id, started_at=began)

    async def energy() -> float:
        [log] = (await w.remote.chargelogs(driver.id, 10, 0))[1]
        return log.energy_kwh

    assert await energy() == 0.0
    await telemetry(app, w, 1.5)
    assert await energy() == 1.5
    app.clock.advance(60)
    await telemetry(app, w, 2.75)
    assert await energy() == 2.75
    await telemetry(app, w, 9.0, connector=2)  # another connector's session: not this one's
    assert await energy() == 2.75
    finish = {"started_at": began, "stopped_at": began + 120, "energy_kwh": 2.8}
    await record(app, w, session.transaction_id, 200, **finish)
    await telemetry(app, w, 0.0)  # the meter resets for the next vehicle
    assert await energy() == 2.8


@pytest.mark.parametrize(
    ("limit", "offset", "message"),
    [(0, 0, "limit must be between 1 and 100"), (101, 0, "limit must be between 1 and 100"),
     (10, -1, "offset must be 0 or more")],
)  # fmt: skip
async def test_a_window_out_of_range_is_refused(
    app: App, limit: int, offset: int, message: str
) -> None:
    w = await world(app)
    driver, _tag = await ready(app, w)
    with pytest.raises(ValidationFailed) as refused:
        await w.remote.chargelogs(driver.id, limit, offset)
    assert refused.value.description == message
