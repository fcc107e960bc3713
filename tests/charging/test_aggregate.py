"""GET /v1/operator/aggregated/energy: local periods of the site's zone (DST days included), and
totals that equal the sum of the records the list returns for the same filters."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.charging.support import Station, report, station, walk
from tests.conftest import App
from tests.fixtures.fleet import Operator, device_headers, operator, register, site

URL = "/v1/operator/aggregated/energy"
BERLIN = ZoneInfo("Europe/Berlin")


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _past_sunday(now: float, month: int) -> date:
    """The last Sunday of `month` (a Berlin DST change) at least a week before `now`."""
    today = datetime.fromtimestamp(now, BERLIN).date()
    found = _last_sunday(today.year, month)
    return found if found <= today - timedelta(days=7) else _last_sunday(today.year - 1, month)


def _local(day: date, hour: int = 0, minute: int = 0, second: int = 0, fold: int = 0) -> float:
    return datetime(
        day.year, day.month, day.day, hour, minute, second, fold=fold, tzinfo=BERLIN
    ).timestamp()


async def _energy(app: App, op: Operator, query: str) -> dict[str, Any]:
    response = await app.http.get(f"{URL}?{query}", headers=op.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _listed(app: App, op: Operator, query: str) -> tuple[float, int]:
    records = await walk(app, op, f"&{query}", limit=100)
    return sum(r["energy_kwh"] for r in records), len(records)


async def _matches_the_list(app: App, op: Operator, query: str, data: dict[str, Any]) -> None:
    energy, sessions = await _listed(app, op, query)
    assert data["total_sessions"] == sessions == sum(b["sessions"] for b in data["buckets"])
    assert data["total_energy_kwh"] == pytest.approx(energy)
    assert sum(b["energy_kwh"] for b in data["buckets"]) == pytest.approx(energy)


async def test_days_hours_and_months_of_a_berlin_site_across_both_dst_changes(app: App) -> None:
    op = await operator(app)
    depot = await site(app, op, timezone="Europe/Berlin")
    charger = await station(app, op, depot)
    autumn = _past_sunday(app.clock.now(), 10)  # 25 local hours
    spring = _past_sunday(app.clock.now(), 3)  # 23 local hours
    eve, after = autumn - timedelta(days=1), autumn + timedelta(days=1)
    sessions = [
        (_local(eve, 23, 59, 30), 1.0),  # the evening before: not the DST day
        (_local(autumn, 0, 0, 30), 2.0),  # just after local midnight
        (_local(autumn, 2, 30, fold=0), 4.0),  # 02:30 summer time
        (_local(autumn, 2, 30, fold=1), 8.0),  # 02:30 again, winter time
        (_local(autumn, 23, 59, 59), 16.0),  # just before the next local midnight
        (_local(after, 0, 0, 0), 32.0),  # exactly the next local midnight: the next day
        (_local(spring, 3, 15), 64.0),  # the hour after the skipped one
    ]
    for started, kwh in sessions:
        await report(app, charger, started, kwh)

    # Days: the DST day is one bucket of 25 hours, starting at local midnight.
    query = f"site={depot}&from={_local(eve)}&to={_local(after + timedelta(days=1))}"
    days = await _energy(app, op, f"granularity=day&{query}")
    assert days["timezone"] == "Europe/Berlin" and days["counted_by"] == "started_at"
    assert [(b["period"], b["sessions"], b["energy_kwh"]) for b in days["buckets"]] == [
        (eve.isoformat(), 1, 1.0),
        (autumn.isoformat(), 4, 30.0),
        (after.isoformat(), 1, 32.0),
    ]
    assert days["buckets"][1]["start"] == _local(autumn)
    assert days["buckets"][2]["start"] - days["buckets"][1]["start"] == 25 * 3600
    await _matches_the_list(app, op, query.replace("site=", "site_id="), days)

    # Hours of the autumn day: 25 buckets, the repeated 02:00 hour twice with its offset.
    query = f"site={depot}&from={_local(autumn)}&to={_local(after)}"
    hours = await _energy(app, op, f"granularity=hour&{query}")
    assert len(hours["buckets"]) == 25
    twice = {b["period"]: b for b in hours["buckets"] if "T02:00" in b["period"]}
    summer, winter = f"{autumn.isoformat()}T02:00+02:00", f"{autumn.isoformat()}T02:00+01:00"
    assert set(twice) == {summer, winter}
    assert (twice[summer]["energy_kwh"], twice[winter]["energy_kwh"]) == (4.0, 8.0)
    assert twice[winter]["start"] - twice[summer]["start"] == 3600
    assert hours["buckets"][0]["period"] == f"{autumn.isoformat()}T00:00+02:00"
    assert hours["buckets"][0]["energy_kwh"] == 2.0
    await _matches_the_list(app, op, query.replace("site=", "site_id="), hours)

    # Hours of the spring day: 23 buckets, no 02:00.
    query = f"site={depot}&from={_local(spring)}&to={_local(spring + timedelta(days=1))}"
    spring_hours = await _energy(app, op, f"granularity=hour&{query}")
    labels = [b["period"] for b in spring_hours["buckets"]]
    assert len(labels) == 23 and not any("T02:00" in label for label in labels)
    third = labels.index(f"{spring.isoformat()}T03:00+02:00")
    assert spring_hours["buckets"][third]["energy_kwh"] == 64.0
    await _matches_the_list(app, op, query.replace("site=", "site_id="), spring_hours)

    # Months: March and October hold their sessions; the rest are there, empty.
    first = date(spring.year, 1, 1)
    query = f"site={depot}&from={_local(first)}&to={_local(date(autumn.year + 1, 1, 1))}"
    months = await _energy(app, op, f"granularity=month&{query}")
    by_month = {b["period"]: b for b in months["buckets"]}
    assert by_month[spring.isoformat()[:7]]["energy_kwh"] == 64.0
    assert by_month[autumn.isoformat()[:7]]["sessions"] == 6  # the eve, the day, the day after
    await _matches_the_list(app, op, query.replace("site=", "site_id="), months)

    # The service method the live tests call answers the same.
    again = await app.rt.fleet.charging.aggregate(
        op.client_id, "month", _local(first), _local(date(autumn.year + 1, 1, 1)), site_id=depot
    )
    assert again.total_energy_kwh == months["total_energy_kwh"]
    assert [b.period for b in again.buckets] == list(by_month)


async def test_without_a_site_each_record_is_bucketed_in_its_own_zone(app: App) -> None:
    op = await operator(app)
    berlin = await station(app, op, await site(app, op, timezone="Europe/Berlin"))
    roaming = await station(app, op)  # no site: UTC
    day = _past_sunday(app.clock.now(), 3) - timedelta(days=14)  # winter time: UTC+1
    utc_late = datetime(day.year, day.month, day.day, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    await report(app, berlin, utc_late, 3.0)  # 00:30 the next day in Berlin
    await report(app, roaming, utc_late, 5.0)  # 23:30 in UTC
    window = f"from={utc_late - 86_400}&to={utc_late + 86_400}"
    mixed = await _energy(app, op, f"granularity=day&{window}")
    assert mixed["timezone"] == "local"
    assert mixed["timezones"] == ["Europe/Berlin", "UTC"]
    by_day = {b["period"]: b["energy_kwh"] for b in mixed["buckets"] if b["sessions"]}
    assert by_day == {day.isoformat(): 5.0, (day + timedelta(days=1)).isoformat(): 3.0}
    await _matches_the_list(app, op, window, mixed)

    alone = await _energy(app, op, f"granularity=day&device={roaming.device_id}&{window}")
    assert alone["timezone"] == "UTC" and alone["total_energy_kwh"] == 5.0
    await _matches_the_list(app, op, f"device_id={roaming.device_id}&{window}", alone)


async def test_open_sessions_count_and_an_empty_range_is_zero_filled(app: App) -> None:
    op = await operator(app)
    charger = await station(app, op)
    now = float(int(app.clock.now() // 3600 * 3600))
    await report(app, charger, now - 1800, 2.5, open_=True)
    data = await _energy(app, op, f"granularity=hour&from={now - 3 * 3600}&to={now}")
    assert [b["sessions"] for b in data["buckets"]] == [0, 0, 1]
    assert [b["start"] for b in data["buckets"]] == [now - 3 * 3600, now - 2 * 3600, now - 3600]
    assert data["total_energy_kwh"] == 2.5 and data["timezone"] == "UTC"
    assert data["buckets"][0]["period"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("granularity=week&from=0&to=10", "granularity"),
        ("granularity=day&from=100&to=50", "before"),
        ("granularity=day&from=100&to=100", "before"),
        ("granularity=hour&from=0&to=2678401", "31 days"),
        ("granularity=day&from=0&to=31622401", "366 days"),
        ("granularity=month&from=0&to=157852801", "5 years"),
        ("granularity=day&from=soon&to=100", "from"),
        ("granularity=day&to=100", "1970"),  # `from` defaults to 31 days before `to`
        ("granularity=day&from=-100&to=100", "1970"),
        ("from=0&to=100", "granularity"),
    ],
)
async def test_bad_reports_are_400_code_1002_naming_the_problem(
    app: App, query: str, says: str
) -> None:
    op = await operator(app)
    response = await app.http.get(f"{URL}?{query}", headers=op.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 1002 and says in body["message"], body


async def test_the_limit_itself_is_allowed(app: App) -> None:
    op = await operator(app)
    ok = await app.http.get(f"{URL}?granularity=hour&from=0&to={31 * 86_400}", headers=op.headers)
    assert ok.status_code == 200 and len(ok.json()["data"]["buckets"]) == 31 * 24


async def test_without_from_and_to_the_report_covers_a_day_a_month_or_a_year_up_to_now(
    app: App,
) -> None:
    op = await operator(app)
    charger = await station(app, op)
    now = app.clock.now()
    await report(app, charger, now - 600, 4.0)
    for granularity, span in (("hour", 86_400), ("day", 31 * 86_400), ("month", 366 * 86_400)):
        data = await _energy(app, op, f"granularity={granularity}")
        assert (data["from"], data["to"]) == (now - span, now), data
        assert data["total_energy_kwh"] == 4.0 and data["total_sessions"] == 1


async def test_another_operators_site_or_device_is_404_and_other_tokens_are_403(app: App) -> None:
    op, other = await operator(app), await operator(app, name="Other ops")
    their_site = await site(app, other)
    theirs: Station = await station(app, other, their_site)
    await report(app, theirs, app.clock.now() - 3600, 9)
    window = f"granularity=day&from={app.clock.now() - 86_400}&to={app.clock.now()}"
    for target in (f"site={their_site}", f"device={theirs.device_id}", "site=site_x"):
        response = await app.http.get(f"{URL}?{window}&{target}", headers=op.headers)
        assert response.status_code == 404 and response.json()["code"] == 3001, target
    mine = await _energy(app, op, window)
    assert mine["total_sessions"] == 0

    charger = await register(app, None, connectors=[{"type": "CCS2", "max_power_kw": 50}])
    as_device = await app.http.get(f"{URL}?{window}", headers=await device_headers(app, charger))
    assert as_device.status_code == 403 and as_device.json()["code"] == 2003
    writer = await operator(app, scopes="write", name="Writer only")
    no_read = await app.http.get(f"{URL}?{window}", headers=writer.headers)
    assert no_read.status_code == 403 and "read" in no_read.json()["message"]
