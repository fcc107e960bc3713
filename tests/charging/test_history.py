"""A seeded history of charging records: stored whole or not at all, only finished sessions of
the past, each on its operator's charger; listed and summed like reported ones."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.charging.support import Station, station
from tests.conftest import App
from tests.fixtures.fleet import Operator, operator, site
from voltgate.charging.store import ChargingRecord
from voltgate.errors import Conflict, NotFound, ValidationFailed
from voltgate.ids import ulid_at

DAY = 86_400.0


def _record(where: Station, op: Operator, transaction: str, started: float) -> ChargingRecord:
    return ChargingRecord(
        id="chg_" + ulid_at(started, int.from_bytes(transaction.encode(), "big")),
        device_id=where.device_id,
        operator_id=op.client_id,
        transaction_id=transaction,
        connector=1,
        started_at=started,
        stopped_at=started + 3600,
        energy_kwh=12.5,
        meter_start=100.0,
        meter_stop=112.5,
        meter_values=({"at": started + 1800, "energy_kwh": 6.0, "power_kw": 12.0, "soc": 50.0},),
        created_at=started,
        updated_at=started + 3600,
    )


async def _listed(app: App, op: Operator) -> list[dict[str, Any]]:
    response = await app.http.get("/v1/operator/charging-records?size=100", headers=op.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]["items"]
    return items


async def test_a_history_lists_in_time_order_before_live_reports_and_sums_up(app: App) -> None:
    op = await operator(app)
    where = await station(app, op, await site(app, op, timezone="Europe/London"))
    now = app.clock.now()
    past = [_record(where, op, f"h-{n}", now - (3 - n) * DAY) for n in range(3)]

    await app.rt.fleet.charging.add_history(past)
    live = await app.http.post(
        "/v1/device/charging-records",
        json={"transaction_id": "live-1", "connector": 1, "started_at": now, "energy_kwh": 0},
        headers=where.headers,
    )
    assert live.status_code == 201, live.text

    listed = await _listed(app, op)
    assert [r["transaction_id"] for r in listed] == ["live-1", "h-2", "h-1", "h-0"]
    assert listed[1]["meter_values"] == list(past[2].meter_values)
    report = await app.http.get(
        "/v1/operator/aggregated/energy",
        # Up to a minute before the live one (a bound at `now` itself is judged to the second).
        params={"granularity": "day", "from": now - 4 * DAY, "to": now - 60},
        headers=op.headers,
    )
    assert report.json()["data"]["total_energy_kwh"] == pytest.approx(3 * 12.5)
    assert report.json()["data"]["total_sessions"] == 3


async def test_a_history_is_stored_whole_or_not_at_all(app: App) -> None:
    op, other = await operator(app), await operator(app, name="Other")
    where, elsewhere = await station(app, op), await station(app, other)
    now = app.clock.now()
    first = _record(where, op, "h-1", now - DAY)
    await app.rt.fleet.charging.add_history([first])

    bad: list[tuple[list[ChargingRecord], type[Exception]]] = [
        # A transaction already stored: the new one beside it is not stored either.
        ([_record(where, op, "h-2", now - 2 * DAY), first], Conflict),
        ([replace(_record(where, op, "h-3", now - DAY), stopped_at=None)], ValidationFailed),
        ([_record(where, op, "h-4", now - 600)], ValidationFailed),  # it ends in the future
        ([_record(elsewhere, op, "h-5", now - DAY)], ValidationFailed),  # another's charger
        ([replace(first, id="chg_x", device_id="nope", transaction_id="h-6")], NotFound),
    ]
    for records, error in bad:
        with pytest.raises(error):
            await app.rt.fleet.charging.add_history(records)

    assert [r["transaction_id"] for r in await _listed(app, op)] == ["h-1"]
