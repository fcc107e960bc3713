"""The charge-point search (be.ENERGISED's cpsPaged): within a radius, nearest first with the
great-circle distance, filtered by status, connector standard and power in the database (so
the total counts what the filters pass), on SQLite's R*Tree and on PostGIS."""

from __future__ import annotations

import math

import pytest

from tests.conftest import App
from voltgate.chargepoints.service import ChargePoints
from voltgate.chargepoints.sphere import EARTH_RADIUS_KM, haversine_km
from voltgate.chargepoints.store import ChargePoint, Evse, GeoFilter, PointConnector
from voltgate.errors import NotFound, ValidationFailed

BERLIN = (52.520008, 13.404954)


def north_of(km: float, at: tuple[float, float] = BERLIN) -> tuple[float, float]:
    """The position `km` due north (a great circle: exactly that far)."""
    return at[0] + math.degrees(km / EARTH_RADIUS_KM), at[1]


def public(
    point_id: str,
    where: tuple[float, float],
    status: str = "AVAILABLE",
    standard: str = "IEC_62196_T2",
    kw: float = 22,
) -> ChargePoint:
    connector = PointConnector(
        f"{point_id}-1-1", 1, standard, "SOCKET", "AC_3_PHASE", int(kw * 1000)
    )
    return ChargePoint(
        id=point_id,
        name=f"Station {point_id}",
        address="Unter den Linden 1",
        city="Berlin",
        postal_code="10117",
        country="DEU",
        latitude=where[0],
        longitude=where[1],
        operator="Stadtwerk",
        opening_times=None,
        twentyfourseven=True,
        evses=(Evse(f"{point_id}-1", f"DE*SWB*E{point_id}*1", status, (connector,)),),
        device_id=None,
        site_id=None,
        operator_id=None,
        updated_at=0.0,
    )


def around(km: float = 5, **filters: object) -> GeoFilter:
    return GeoFilter(BERLIN[0], BERLIN[1], km, **filters)  # type: ignore[arg-type]


async def _ids(
    points: ChargePoints, search: GeoFilter, limit: int = 100, offset: int = 0
) -> tuple[int, list[str]]:
    page = await points.nearby(search, limit, offset)
    return page.total, [hit.point.id for hit in page.hits]


async def test_points_come_nearest_first_with_their_distance_and_total(app: App) -> None:
    points = app.rt.fleet.charge_points
    await points.add_many(
        [
            public("cpc", north_of(3.0)),
            public("cpa", north_of(0.5)),
            public("cpd", north_of(4.5)),
            public("cpb", north_of(1.25)),
            public("cpfar", north_of(30.0)),
            public("cpeast", (BERLIN[0], BERLIN[1] + 0.03)),  # ~2 km east
        ]
    )
    page = await points.nearby(around(), 3, 0)
    assert page.total == 5
    assert [hit.point.id for hit in page.hits] == ["cpa", "cpb", "cpeast"]
    assert [round(hit.distance_km, 3) for hit in page.hits[:2]] == [0.5, 1.25]
    east = haversine_km(*BERLIN, BERLIN[0], BERLIN[1] + 0.03)
    assert page.hits[2].distance_km == pytest.approx(east, abs=0.0001)
    assert await _ids(points, around(), 3, 3) == (5, ["cpc", "cpd"])
    assert await _ids(points, around(), 3, 6) == (5, [])
    shown = page.hits[0].point
    assert shown.evses[0].connectors[0].id == "cpa-1-1"
    assert (shown.city, shown.country, shown.evses[0].status) == ("Berlin", "DEU", "AVAILABLE")


async def test_the_radius_takes_points_just_inside_and_leaves_those_just_outside(app: App) -> None:
    points = app.rt.fleet.charge_points
    await points.add_many([public("inside", north_of(4.995)), public("outside", north_of(5.005))])
    assert await _ids(points, around(5)) == (1, ["inside"])
    assert await _ids(points, around(5.01)) == (2, ["inside", "outside"])
    assert await _ids(points, around(4.99)) == (0, [])


async def test_each_filter_narrows_the_page_and_the_total(app: App) -> None:
    points = app.rt.fleet.charge_points
    await points.add_many(
        [
            public("ac", north_of(1), "AVAILABLE", "IEC_62196_T2", 11),
            public("busy", north_of(2), "CHARGING", "IEC_62196_T2_COMBO", 150),
            public("fast", north_of(3), "AVAILABLE", "IEC_62196_T2_COMBO", 300),
            public("jp", north_of(4), "OUTOFORDER", "CHADEMO", 50),
        ]
    )
    assert await _ids(points, around(status="AVAILABLE")) == (2, ["ac", "fast"])
    assert await _ids(points, around(connector_standard="IEC_62196_T2_COMBO")) == (
        2,
        ["busy", "fast"],
    )
    assert await _ids(points, around(min_power_kw=150)) == (2, ["busy", "fast"])
    assert await _ids(points, around(min_power_kw=150.5)) == (1, ["fast"])
    both = around(status="AVAILABLE", connector_standard="IEC_62196_T2_COMBO", min_power_kw=50)
    assert await _ids(points, both) == (1, ["fast"])
    assert await _ids(points, around(status="RESERVED")) == (0, [])
    assert await _ids(points, around(status="AVAILABLE"), 1, 1) == (2, ["fast"])


@pytest.mark.parametrize(
    ("search", "limit", "offset", "message"),
    [
        (around(0), 20, 0, "radius"),
        (around(100.5), 20, 0, "radius"),
        (around(math.nan), 20, 0, "radius"),
        (GeoFilter(90.5, 13.4, 5), 20, 0, "latitude"),
        (GeoFilter(52.5, -180.5, 5), 20, 0, "longitude"),
        (GeoFilter(math.inf, 13.4, 5), 20, 0, "latitude"),
        (around(), 0, 0, "limit"),
        (around(), 101, 0, "limit"),
        (around(), 20, -1, "offset"),
        (around(status="FREE"), 20, 0, "status"),
        (around(connector_standard="CCS"), 20, 0, "connectorStandard"),
        (around(min_power_kw=-1), 20, 0, "minPower"),
    ],
)
async def test_a_bad_search_is_refused_naming_what_is_wrong(
    app: App, search: GeoFilter, limit: int, offset: int, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        await app.rt.fleet.charge_points.nearby(search, limit, offset)


async def test_a_point_and_a_connector_are_found_by_id(app: App) -> None:
    points = app.rt.fleet.charge_points
    await points.add_many([public("cpx", north_of(1))])
    assert (await points.get("cpx")).name == "Station cpx"
    located = await points.locate("cpx-1-1")
    assert (located.point.id, located.evse.uid, located.connector.max_electric_power) == (
        "cpx",
        "cpx-1",
        22_000,
    )
    for missing in ("cpy", "cpx\x00"):
        with pytest.raises(NotFound):
            await points.get(missing)
    for missing in ("cpx-1-2", "cpx-2-1", "nothing", "x" * 500):
        with pytest.raises(NotFound):
            await points.locate(missing)


async def test_the_version_moves_when_a_point_changes(app: App) -> None:
    points = app.rt.fleet.charge_points
    before = points.version()
    await points.add_many([public("cpv", north_of(1))])
    added = points.version()
    assert added != before
    await points.set_evses("cpv", (), 1.0)
    assert points.version() != added
    assert await _ids(points, around()) == (1, ["cpv"])
    assert (await points.get("cpv")).evses == ()


async def test_a_radius_across_the_antimeridian_or_around_a_pole_finds_its_points(
    app: App,
) -> None:
    points = app.rt.fleet.charge_points
    await points.add_many(
        [
            public("west", (-16.5, 179.99)),
            public("east", (-16.5, -179.99)),
            public("pole", (89.99, 45.0)),
            public("other side", (89.99, -135.0)),
        ]
    )
    fiji = await points.nearby(GeoFilter(-16.5, 179.999, 5), 20, 0)
    assert [hit.point.id for hit in fiji.hits] == ["west", "east"]
    expected = [
        haversine_km(-16.5, 179.999, -16.5, 179.99),
        haversine_km(-16.5, 179.999, -16.5, -179.99),
    ]
    assert [hit.distance_km for hit in fiji.hits] == pytest.approx(expected, abs=1e-4)
    north = await points.nearby(GeoFilter(90.0, 0.0, 5), 20, 0)
    assert north.total == 2 and {hit.point.id for hit in north.hits} == {"pole", "other side"}


async def test_generated_points_gather_around_cities_and_are_added_once(app: App) -> None:
    points = app.rt.fleet.charge_points
    assert await points.generate_up_to(2_000, 7, app.clock.now()) == 2_000
    assert await points.generate_up_to(2_000, 7, app.clock.now()) == 0
    assert await points.imported() == 2_000
    paris = await points.nearby(GeoFilter(48.8566, 2.3522, 25), 100, 0)
    assert paris.total > 20  # the largest city: about one point in a hundred near its centre
    shown = paris.hits[0].point
    assert shown.country == "FRA" and shown.evses and shown.postal_code.isdigit()
    assert [hit.distance_km for hit in paris.hits] == sorted(hit.distance_km for hit in paris.hits)
    located = await points.locate(shown.evses[-1].connectors[-1].id)
    assert located.point == shown
