"""remoteStart / remoteStop over the real fleet: preconditions, the commands the charger gets,
and the session's status as the charger reports, on both backends."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import App
from tests.contracts.support import (
    SEPA,
    command_status,
    polled,
    ready,
    record,
    user,
    world,
)
from voltgate.contracts.store import SessionStatus
from voltgate.errors import (
    ContractRequired,
    NotFound,
    PaymentMethodRequired,
    UserInactive,
)

WAITING, STARTED, STOPPED = SessionStatus.WAITING, SessionStatus.STARTED, SessionStatus.STOPPED


async def test_each_precondition_is_refused_in_order(app: App) -> None:
    w = await world(app)
    driver = await user(app)
    # No contract and an unknown card: the contract is what is missing first.
    with pytest.raises(ContractRequired):
        await w.remote.remote_start(driver.id, "00", "nowhere:1")
    contract = await w.contracts.create_sepa(driver.id, SEPA)
    [card] = await w.contracts.cards(driver.id)
    await w.contracts.revoke_payment_method(driver.id, contract.payment_method_id)
    with pytest.raises(PaymentMethodRequired):
        await w.remote.remote_start(driver.id, card.tag_id, w.connector())
    await w.contracts.create_postpaid(driver.id, "standard")  # a payment method again
    with pytest.raises(NotFound, match="no usable charging card '0011'"):
        await w.remote.remote_start(driver.id, "0011", w.connector())
    with pytest.raises(NotFound, match="no connector"):
        await w.remote.remote_start(driver.id, card.tag_id, f"{w.fleet.charger.device_id}:9")
    await app.rt.identity.users.disable(driver.id)
    with pytest.raises(UserInactive):
        await w.remote.remote_start(driver.id, card.tag_id, w.connector())
    assert await polled(app, w) == []  # nothing reached the charger
    assert (await w.remote.chargelogs(driver.id, 10, 0))[0] == 0


async def test_remote_start_queues_a_start_the_charger_gets_with_the_transaction(
    app: App,
) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag.lower(), w.connector(), "req-1")
    assert session.status is WAITING and session.transaction_id == session.id
    assert session.connector_id == w.connector() and session.connector == 1
    assert session.charge_point_id == w.fleet.charger.device_id
    [delivered] = await polled(app, w)
    assert delivered["command_id"] == session.start_command_id
    assert delivered["type"] == "start" and delivered["connector"] == 1
    assert delivered["params"] == {
        "charge_power": 22.0,  # the connector's maximum
        "duration": 4 * 3600,
        "target_soc": 100.0,
        "transaction_id": session.id,
    }


async def test_the_same_card_and_connector_while_pending_is_the_same_session(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    first = await w.remote.remote_start(driver.id, tag, w.connector())
    again = await w.remote.remote_start(driver.id, tag, w.connector())
    assert again == first
    other = await w.remote.remote_start(driver.id, tag, w.connector(2))
    assert other.id != first.id
    assert [c["command_id"] for c in await polled(app, w)] == [
        first.start_command_id,
        other.start_command_id,
    ]
    await record(app, w, first.transaction_id)  # charging: still the same session
    assert (await w.remote.remote_start(driver.id, tag, w.connector())).id == first.id


async def test_the_session_follows_the_chargers_record(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    [start] = await polled(app, w)
    await command_status(app, w, start["command_id"], "accepted")
    assert (await w.remote.session(driver.id, session.id)).status is WAITING

    began = float(int(app.clock.now()))  # whole seconds: as the charger's JSON carries them
    await record(app, w, session.transaction_id, started_at=began)
    assert (await w.remote.session(driver.id, session.id)).status is STARTED

    app.clock.advance(1800)
    finish = {"started_at": began, "stopped_at": began + 1800, "energy_kwh": 10.5}
    await record(app, w, session.transaction_id, 200, **finish)
    stopped = await w.remote.session(driver.id, session.id)
    assert (stopped.status, stopped.stopped_at) == (STOPPED, began + 1800)
    # Stopped: the card and connector are free, a new start is a new session.
    fresh = await w.remote.remote_start(driver.id, tag, w.connector())
    assert fresh.id != session.id and fresh.status is WAITING


async def test_a_completed_start_command_is_started_before_any_record(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    await polled(app, w)
    await command_status(app, w, str(session.start_command_id), "accepted")
    await command_status(app, w, str(session.start_command_id), "completed")
    assert (await w.remote.session(driver.id, session.id)).status is STARTED


async def test_a_rejected_start_says_why_and_frees_the_connector(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    await polled(app, w)
    await command_status(app, w, str(session.start_command_id), "rejected", reason="no vehicle")
    rejected = await w.remote.session(driver.id, session.id)
    assert (rejected.status, rejected.reason) == (SessionStatus.REJECTED, "no vehicle")
    retry = await w.remote.remote_start(driver.id, tag, w.connector())
    assert retry.id != session.id and retry.status is WAITING


async def test_a_start_nobody_fetched_expires_and_the_session_fails(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    app.clock.advance(301)  # past the start command's delivery window
    failed = await w.remote.session(driver.id, session.id)
    assert (failed.status, failed.reason) == (SessionStatus.FAILED, "the start command expired")


async def test_remote_stop_queues_a_stop_with_the_transaction(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    await polled(app, w)
    await record(app, w, session.transaction_id)
    answer = await w.remote.remote_stop(driver.id, session.transaction_id, "req-2")
    assert (answer.status, answer.code) == ("accepted", 202)
    again = await w.remote.remote_stop(driver.id, session.transaction_id)
    assert again.session.stop_command_id == answer.session.stop_command_id
    [stop] = await polled(app, w)
    assert stop["command_id"] == answer.session.stop_command_id
    assert (stop["type"], stop["connector"]) == ("stop", 1)
    assert stop["params"] == {"transaction_id": session.transaction_id}

    await command_status(app, w, stop["command_id"], "accepted")
    await command_status(app, w, stop["command_id"], "completed")
    assert (await w.remote.session(driver.id, session.id)).status is STOPPED
    done = await w.remote.remote_stop(driver.id, session.transaction_id)
    assert (done.status, done.code) == ("stopped", 200)
    assert await polled(app, w) == []


async def test_stopping_a_start_that_was_rejected_queues_nothing(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    session = await w.remote.remote_start(driver.id, tag, w.connector())
    await polled(app, w)
    await command_status(app, w, str(session.start_command_id), "rejected")
    answer = await w.remote.remote_stop(driver.id, session.id)
    assert (answer.status, answer.code) == ("rejected", 409)
    assert answer.message == "the session never started (rejected): nothing to stop"
    assert await polled(app, w) == []


async def test_another_user_can_neither_see_nor_stop_nor_use_a_session(app: App) -> None:
    w = await world(app)
    alice, tag = await ready(app, w)
    bob, _bobs_tag = await ready(app, w)
    session = await w.remote.remote_start(alice.id, tag, w.connector())
    with pytest.raises(NotFound):
        await w.remote.remote_stop(bob.id, session.transaction_id)
    with pytest.raises(NotFound):
        await w.remote.session(bob.id, session.id)
    with pytest.raises(NotFound):  # Alice's card is not Bob's to charge with
        await w.remote.remote_start(bob.id, tag, w.connector())
    assert await w.remote.chargelogs(bob.id, 10, 0) == (0, [])
    assert [c["type"] for c in await polled(app, w)] == ["start"]


async def test_available_cards_are_the_users_usable_ones(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    nobody = await user(app)
    assert [c.tag_id for c in await w.remote.available_cards(driver.id, w.connector())] == [tag]
    assert await w.remote.available_cards(nobody.id, w.connector()) == []
    with pytest.raises(NotFound):
        await w.remote.available_cards(driver.id, "no-such-connector")
    app.clock.advance(3 * 366 * 86_400)  # past the card's expiry
    assert await w.remote.available_cards(driver.id, w.connector()) == []
    with pytest.raises(NotFound):
        await w.remote.remote_start(driver.id, tag, w.connector())


async def test_starts_sent_together_make_one_session_and_one_command(app: App) -> None:
    w = await world(app)
    driver, tag = await ready(app, w)
    starts = [w.remote.remote_start(driver.id, tag, w.connector()) for _ in range(5)]
    sessions = await asyncio.gather(*starts)
    assert len({s.id for s in sessions}) == 1
    assert len(await polled(app, w)) == 1
    assert (await w.remote.chargelogs(driver.id, 10, 0))[0] == 1
