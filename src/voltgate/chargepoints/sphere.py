"""Great-circle geometry on a sphere of the Earth's mean radius (as PostGIS's geography does with
`use_spheroid => false`).

The embedded default indexes each point as its unit vector (x, y, z) in 32-bit integers (SQLite's
`rtree_i32`; 2^30 per unit, ~6 mm on the ground): a radius is the box around its cap for the
index, then the straight-line (chord) distance, which orders exactly as the great-circle distance
does, in plain integer arithmetic (no trigonometry in SQL, no look-up outside the index).
PostgreSQL does the same with a lon/lat box on PostGIS's GiST index (`box`) and the unit
vectors as doubles beside it."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius, as PostGIS's sphere
SCALE = 1 << 30  # integer units per unit of the unit vector


def unit(latitude: float, longitude: float) -> tuple[int, int, int]:
    """The point's unit vector in integer units."""
    lat, lon = math.radians(latitude), math.radians(longitude)
    cos_lat = math.cos(lat)
    return (
        round(cos_lat * math.cos(lon) * SCALE),
        round(cos_lat * math.sin(lon) * SCALE),
        round(math.sin(lat) * SCALE),
    )


def chord_of(km: float) -> float:
    """The chord, in integer units, of a great-circle distance."""
    return 2.0 * math.sin(km / (2.0 * EARTH_RADIUS_KM)) * SCALE


def km_of(chord_squared: float, scale: float = SCALE) -> float:
    """The great-circle distance of a chord given squared, in `scale` units (1: unit sphere)."""
    half = math.sqrt(chord_squared) / (2.0 * scale)
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, half))


def unit_float(latitude: float, longitude: float) -> tuple[float, float, float]:
    lat, lon = math.radians(latitude), math.radians(longitude)
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


def extents(latitude: float, longitude: float, km: float) -> tuple[tuple[int, int], ...]:
    """Per axis (x, y, z), the integer range the unit vectors of the points within `km` span:
    the tightest box around the cap (an axis at angle a from the centre reaches cos(a -+ r)),
    about half the cube of the chord's side."""
    reach = km / EARTH_RADIUS_KM
    ranges = []
    for component in unit_float(latitude, longitude):
        angle = math.acos(max(-1.0, min(1.0, component)))
        high = 1.0 if angle - reach <= 0 else math.cos(angle - reach)
        low = -1.0 if angle + reach >= math.pi else math.cos(angle + reach)
        ranges.append((math.floor(low * SCALE) - 2, math.ceil(high * SCALE) + 2))
    return tuple(ranges)


def box(latitude: float, longitude: float, km: float) -> tuple[float, float, float, float]:
    """(west, south, east, north) degrees holding every point within `km`: the latitudes the
    cap spans and the widest longitude it reaches; every longitude when it holds a pole or
    crosses the antimeridian."""
    reach = km / EARTH_RADIUS_KM
    margin = 1e-9  # degrees: rounding never leaves an edge point out
    south = latitude - math.degrees(reach) - margin
    north = latitude + math.degrees(reach) + margin
    if south <= -90.0 or north >= 90.0:
        return -180.0, max(south, -90.0), 180.0, min(north, 90.0)
    wide = math.degrees(math.asin(min(1.0, math.sin(reach) / math.cos(math.radians(latitude)))))
    west, east = longitude - wide - margin, longitude + wide + margin
    if west < -180.0 or east > 180.0:
        return -180.0, south, 180.0, north
    return west, south, east, north


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
