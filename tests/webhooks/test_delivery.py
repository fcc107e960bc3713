"""Webhook delivery to a real HTTP receiver on 127.0.0.1: a receiver that fails three times then
recovers gets each alert exactly once, signed, in order; a lost 2xx is retried with the same
delivery id; deliveries die after their bound and are replayed; a rotated secret signs beside
the new one for the overlap, and not after it."""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import App, Backend
from tests.fixtures.alerting import (
    AppClient,
    alerting_app,
    consenting_vehicle,
    crossings,
    endpoint,
    rule,
    signed_with,
    third_party,
    until,
)
from tests.fixtures.receiver import Received, always, failing_first, receiver

LOW_SOC = {"kind": "threshold", "field": "Soc", "op": "below", "value": 20, "hysteresis": 2}


async def _fire(app: App, vin: str, count: int) -> list[str]:
    """`count` alerts, one per observed batch (down through 20 and back up each time): ids."""
    ids: list[str] = []
    for _ in range(count):
        start = app.clock.now()
        fired = await app.rt.alerting.alerts.observe(crossings(vin, "Soc", start, [30, 10]))
        assert len(fired) == 1
        ids.append(fired[0].id)
        app.clock.advance(10)
    return ids


async def _watched(app: App) -> tuple[AppClient, str]:
    client = await third_party(app)
    vin = await consenting_vehicle(app, client.client_id)
    await rule(app, client, **LOW_SOC)
    return client, vin


async def _deliveries(app: App, client: AppClient, hook: str, state: str = "") -> list[Any]:
    query = f"?state={state}" if state else ""
    response = await app.http.get(f"/v1/webhooks/{hook}/deliveries{query}", headers=client.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def _alert_ids(received: list[Received]) -> list[str]:
    return [str(r.alert["id"]) for r in received]


async def test_a_receiver_failing_three_times_gets_each_alert_once_signed_in_order(
    alerting: App,
) -> None:
    app = alerting
    client, vin = await _watched(app)
    with receiver(failing_first(3)) as hooks:
        created = await endpoint(app, client, hooks.url)
        secret = created["secret"]
        assert secret.startswith("vgwhs_test_")
        fired = await _fire(app, vin, 5)
        worker = app.rt.alerting.deliverer
        await until(lambda: worker.delivered == 5, what="five alerts delivered")
        requests, processed = hooks.snapshot()
    assert _alert_ids(processed) == fired  # each once, in the order they fired
    assert len(requests) == 3 + 5  # three failures, then each alert at its first attempt
    assert hooks.most_in_flight == 1
    # The failures were the first delivery, again and again: nothing overtook it.
    first_id = processed[0].delivery_id
    assert [r.delivery_id for r in requests[:4]] == [first_id] * 4
    assert [r.headers["voltgate-attempt"] for r in requests[:4]] == ["1", "2", "3", "4"]
    assert len({r.body for r in requests[:4]}) == 1  # the same bytes on every attempt
    for received in processed:
        assert signed_with(received.headers["voltgate-signature"], secret, received.body)
        assert received.headers["voltgate-event"] == "alert.fired"
        assert received.headers["content-type"] == "application/json"
        body = orjson.loads(received.body)
        assert body["id"] == received.delivery_id and body["type"] == "alert.fired"
        assert body["alert"]["subject"] == vin and body["alert"]["kind"] == "threshold"
    assert not signed_with(processed[0].headers["voltgate-signature"], "vgwhs_test_x", b"")
    listed = await _deliveries(app, client, created["id"])
    assert [(d["state"], d["attempts"]) for d in listed] == [("delivered", 4)] + [
        ("delivered", 1)
    ] * 4
    assert [d["alert_id"] for d in listed] == fired
    assert [d["id"] for d in listed] == [r.delivery_id for r in processed]
    assert listed[0]["last_status"] == 200 and listed[0]["last_error"] is None


async def test_a_lost_answer_is_retried_with_the_same_delivery_id(alerting: App) -> None:
    app = alerting
    client, vin = await _watched(app)
    plan = {0: "drop", 1: "ok", 2: "drop"}
    with receiver(lambda n: plan.get(n, "ok")) as hooks:  # type: ignore[arg-type, return-value]
        await endpoint(app, client, hooks.url)
        fired = await _fire(app, vin, 3)
        await until(lambda: len(hooks.snapshot()[0]) == 5, what="five requests")
        requests, processed = hooks.snapshot()
    # The receiver processed each delivery once; the ones whose answer was lost came twice.
    assert _alert_ids(processed) == fired
    ids = [r.delivery_id for r in requests]
    assert ids == [ids[0], ids[0], ids[2], ids[2], ids[4]] and len(set(ids)) == 3


async def test_dead_letters_after_the_bound_then_replayed(backend: Backend) -> None:
    async with alerting_app(backend, webhook_max_attempts=3) as app:
        client, vin = await _watched(app)
        answer = {"now": "fail"}
        with receiver(lambda _n: answer["now"]) as hooks:  # type: ignore[arg-type, return-value]
            created = await endpoint(app, client, hooks.url)
            hook = created["id"]
            fired = await _fire(app, vin, 3)
            worker = app.rt.alerting.deliverer
            await until(lambda: worker.dead == 3, what="three dead letters")
            dead = await _deliveries(app, client, hook, "dead")
            assert [(d["alert_id"], d["attempts"]) for d in dead] == [(f, 3) for f in fired]
            assert dead[0]["last_error"] == "answered 500" and dead[0]["last_status"] == 500
            assert len(hooks.snapshot()[0]) == 9 and hooks.snapshot()[1] == []

            answer["now"] = "ok"
            # The last one alone first, then every other dead one.
            replayed = await app.http.post(
                f"/v1/webhooks/{hook}/deliveries/{dead[2]['id']}/replay", headers=client.headers
            )
            assert replayed.status_code == 200, replayed.text
            assert replayed.json()["state"] == "pending" and replayed.json()["attempts"] == 0
            await until(lambda: worker.delivered == 1, what="the replay delivered")
            again = await app.http.post(
                f"/v1/webhooks/{hook}/deliveries/{dead[2]['id']}/replay", headers=client.headers
            )
            assert again.status_code == 200  # a delivered one may be sent again too
            await until(lambda: worker.delivered == 2, what="the second replay")
            rest = await app.http.post(
                f"/v1/webhooks/{hook}/deliveries/replay-dead", headers=client.headers
            )
            assert rest.json() == {"replayed": 2}
            await until(lambda: worker.delivered == 4, what="every replay delivered")
            requests, processed = hooks.snapshot()
        assert _alert_ids(processed) == [fired[2], fired[0], fired[1]]
        assert requests[-3].delivery_id == requests[-4].delivery_id == dead[2]["id"]
        assert await _deliveries(app, client, hook, "dead") == []
        states = [d["state"] for d in await _deliveries(app, client, hook)]
        assert states == ["delivered"] * 3
        unknown = await app.http.post(
            f"/v1/webhooks/{hook}/deliveries/whd_999999/replay", headers=client.headers
        )
        assert unknown.status_code == 404


async def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(
    alerting: App,
) -> None:
    app = alerting
    client, vin = await _watched(app)
    with receiver(always("ok")) as hooks:
        created = await endpoint(app, client, hooks.url)
        hook, old = created["id"], created["secret"]
        await _fire(app, vin, 1)
        await until(lambda: len(hooks.snapshot()[1]) == 1, what="the first delivery")
        rotated = await app.http.post(
            f"/v1/webhooks/{hook}/rotate", json={"overlap_seconds": 3600}, headers=client.headers
        )
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new != old and rotated.json()["previous_secret_expires_at"] > app.clock.now()
        await _fire(app, vin, 1)
        await until(lambda: len(hooks.snapshot()[1]) == 2, what="a delivery in the overlap")
        app.clock.advance(3601)
        await _fire(app, vin, 1)
        await until(lambda: len(hooks.snapshot()[1]) == 3, what="a delivery after it")
        _, processed = hooks.snapshot()
    before, during, after = ((r.headers["voltgate-signature"], r.body) for r in processed)
    assert before[0].count("v1=") == 1 and signed_with(before[0], old, before[1])
    assert during[0].count("v1=") == 2
    assert signed_with(during[0], old, during[1]) and signed_with(during[0], new, during[1])
    assert after[0].count("v1=") == 1
    assert signed_with(after[0], new, after[1]) and not signed_with(after[0], old, after[1])
    token = await app.token(client.client_id, client.secret)  # the first one has expired
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    shown = await app.http.get(f"/v1/webhooks/{hook}", headers=headers)
    assert shown.json()["previous_secret_expires_at"] is None and "secret" not in shown.json()


async def test_two_instances_deliver_an_endpoint_one_at_a_time_in_order(
    backend: Backend,
) -> None:
    async with alerting_app(backend) as first:
        client, vin = await _watched(first)
        with receiver(failing_first(3)) as hooks:
            await endpoint(first, client, hooks.url)
            async with alerting_app(backend) as second:
                fired = await _fire(first, vin, 3)
                # The second instance's alerts, for the same endpoint, after the first's.
                second.clock.advance(first.clock.now() - second.clock.now() + 10)
                fired += await _fire(second, vin, 3)
                await until(lambda: len(hooks.snapshot()[1]) == 6, what="six alerts processed")
                requests, processed = hooks.snapshot()
    assert _alert_ids(processed) == fired
    assert len(requests) == 3 + 6
    assert hooks.most_in_flight == 1  # one instance at a time, one delivery at a time
    assert first.rt.alerting.deliverer.attempts + second.rt.alerting.deliverer.attempts == 9
