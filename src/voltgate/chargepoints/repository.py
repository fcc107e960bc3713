"""SQL for charge points: a search by distance is one statement built once per backend (a count
and a page joined, as charging/queries.py does), the filters bound as masks that let every row
through when left open, so the total always counts what the filters pass.

SQLite: the R*Tree (`rtree_i32` over unit vectors, sphere.py) finds the points in the box around the
cap, the chord distance from the index's own values keeps those within the radius; only
a filtered search joins the points' rows. PostgreSQL: PostGIS's GiST index of lon/lat points
finds those in the box around the radius (sphere.box), the chord of their unit vectors keeps
those within it (sphere distances, as on SQLite), the filters copied beside them; one scan
gives the total (a window count) and the page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import sqlalchemy as sa

from voltgate.chargepoints import rows, sphere
from voltgate.chargepoints.store import ChargePoint, Evse, Search, masks_of
from voltgate.db.engine import Database
from voltgate.db.statements import PostgresReader, Statement

BULK_CHUNK = 100_000  # points per transaction of a bulk load

# SQLite: ?1..?6 the cube (x hi, x lo, y hi, y lo, z hi, z lo), ?7..?9 the centre, ?10 the
# squared chord of the radius, ?11 statuses, ?12 standards (-1: any), ?13 min power W, ?14 limit,
# ?15 offset.
_CUBE = (
    "g.x_min <= ?1 AND g.x_max >= ?2 AND g.y_min <= ?3 AND g.y_max >= ?4"
    " AND g.z_min <= ?5 AND g.z_max >= ?6"
)
_CHORD2 = (
    "((g.x_min - ?7) * (g.x_min - ?7) + (g.y_min - ?8) * (g.y_min - ?8)"
    " + (g.z_min - ?9) * (g.z_min - ?9))"
)
_FILTERS = (
    " JOIN charge_points AS f ON f.key = g.key",
    " AND (?11 = -1 OR (f.status_mask & ?11) != 0)"
    " AND (?12 = -1 OR (f.standard_mask & ?12) != 0) AND f.max_power >= ?13",
)


def _sqlite_nearby(filtered: bool) -> str:
    join, where = _FILTERS if filtered else ("", "")
    within = f"FROM charge_point_positions AS g{join} WHERE {_CUBE} AND {_CHORD2} <= ?10{where}"
    return f"""SELECT t.n, p.d, {rows.COLUMNS} FROM (SELECT count(*) AS n {within}) AS t
        LEFT JOIN (SELECT g.key AS key, {_CHORD2} AS d {within} ORDER BY d, g.key
        LIMIT ?14 OFFSET ?15) AS p ON 1 = 1
        LEFT JOIN charge_points AS c ON c.key = p.key ORDER BY p.d, p.key"""  # noqa: S608


# PostgreSQL: $1..$4 the box (west, south, east, north), $5..$7 the centre's unit vector, $8 the
# squared chord of the radius, $9 statuses, $10 standards (-1: any), $11 min power W, $12 limit,
# $13 offset. One scan: the window's count is the total, the page is sorted from the same rows.
_PG_CHORD2 = "((g.x - $5) * (g.x - $5) + (g.y - $6) * (g.y - $6) + (g.z - $7) * (g.z - $7))"
_PG_WITHIN = f"""FROM charge_point_positions AS g
    WHERE g.position && ST_MakeEnvelope($1, $2, $3, $4, 4326) AND {_PG_CHORD2} <= $8
    AND ($9 = -1 OR (g.status_mask & $9) <> 0) AND ($10 = -1 OR (g.standard_mask & $10) <> 0)
    AND g.max_power >= $11"""
_PG_NEARBY = f"""SELECT p.n, p.d, {rows.COLUMNS} FROM (SELECT g.key, {_PG_CHORD2} AS d,
    count(*) OVER () AS n {_PG_WITHIN} ORDER BY d, g.key LIMIT $12 OFFSET $13) AS p
    JOIN charge_points AS c ON c.key = p.key ORDER BY p.d, p.key"""  # noqa: S608
# A window past the last point has no row to carry the count: this counts alone.
PG_COUNT = Statement(f"SELECT count(*) {_PG_WITHIN}")

NEARBY_OPEN = Statement(_sqlite_nearby(False), _PG_NEARBY)
NEARBY_FILTERED = Statement(_sqlite_nearby(True), _PG_NEARBY)
BY_ID = Statement(f"SELECT {rows.COLUMNS} FROM charge_points AS c WHERE c.id = ?")  # noqa: S608
BY_DEVICE = Statement(
    f"SELECT {rows.COLUMNS} FROM charge_points AS c WHERE c.device_id = ?"  # noqa: S608
)
IMPORTED = Statement("SELECT count(*) FROM charge_points WHERE device_id IS NULL")
SET_EVSES = Statement(
    """UPDATE charge_points SET evses = ?, status_mask = ?, standard_mask = ?, max_power = ?,
    updated_at = ? WHERE id = ?"""
)
SET_EVSE_FILTERS = Statement(
    """UPDATE charge_point_positions SET status_mask = ?, standard_mask = ?, max_power = ?
    WHERE key = (SELECT key FROM charge_points WHERE id = ?)"""
)

_COLUMN_LIST = ", ".join(rows.INSERT_COLUMNS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in rows.INSERT_COLUMNS if c != "id")
# A device's point is replaced in place (its id and key kept): publishing is idempotent.
_UPSERT = sa.text(
    f"""INSERT INTO charge_points ({_COLUMN_LIST}) VALUES
    ({", ".join(":" + c for c in rows.INSERT_COLUMNS)})
    ON CONFLICT (device_id) DO UPDATE SET {_UPDATES} RETURNING key, id"""  # noqa: S608
)
_SQLITE_POSITION = sa.text(
    "INSERT OR REPLACE INTO charge_point_positions VALUES (:key, :x, :x, :y, :y, :z, :z)"
)
_PG_POSITION = sa.text(
    """INSERT INTO charge_point_positions VALUES (:key,
    ST_SetSRID(ST_MakePoint(:longitude, :latitude), 4326), :x, :y, :z, :status_mask,
    :standard_mask, :max_power) ON CONFLICT (key) DO UPDATE SET position = excluded.position,
    x = excluded.x, y = excluded.y, z = excluded.z, status_mask = excluded.status_mask,
    standard_mask = excluded.standard_mask, max_power = excluded.max_power"""
)
_SQLITE_BULK = (
    f"INSERT INTO charge_points (key, {_COLUMN_LIST}) VALUES "  # noqa: S608
    f"({', '.join('?' * (len(rows.INSERT_COLUMNS) + 1))})"
)
_SQLITE_BULK_POSITIONS = "INSERT INTO charge_point_positions VALUES (?, ?, ?, ?, ?, ?, ?)"
_PG_BULK_POSITIONS = """INSERT INTO charge_point_positions SELECT key,
    ST_SetSRID(ST_MakePoint(longitude, latitude), 4326),
    cos(radians(latitude)) * cos(radians(longitude)),
    cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude)),
    status_mask, standard_mask, max_power
    FROM charge_points WHERE key > $1 ON CONFLICT (key) DO NOTHING"""


class SqlChargePointStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def nearby(self, search: Search) -> tuple[int, list[tuple[ChargePoint, float]]]:
        reader = self._db.reader
        if not self._db.is_sqlite:
            args = postgres_arguments(search)
            found = await reader.all(NEARBY_OPEN, *args)
            if not found and search.offset:
                counted = await reader.one(PG_COUNT, *args[:11])
                return (0 if counted is None else int(counted[0])), []
            return _page(found, 1.0)
        x, y, z = sphere.unit(search.latitude, search.longitude)
        chord = sphere.chord_of(search.radius_km)
        (x_low, x_high), (y_low, y_high), (z_low, z_high) = sphere.extents(
            search.latitude, search.longitude, search.radius_km
        )
        statement = NEARBY_OPEN if search.is_open else NEARBY_FILTERED
        # On the event loop, like every point read: measured against the reader's own thread
        # (bench graphql_varied, SQLite), the same 257-259 req/s for a quarter more CPU.
        found = await reader.all(
            statement,
            x_high,
            x_low,
            y_high,
            y_low,
            z_high,
            z_low,
            x,
            y,
            z,
            chord * chord,
            search.statuses,
            search.standards,
            search.min_power,
            search.limit,
            search.offset,
        )
        return _page(found, sphere.SCALE)

    async def get(self, point_id: str) -> ChargePoint | None:
        row = await self._db.reader.one(BY_ID, point_id)
        return None if row is None else rows.point_of_row(row)

    async def by_device(self, device_id: str) -> ChargePoint | None:
        row = await self._db.reader.one(BY_DEVICE, device_id)
        return None if row is None else rows.point_of_row(row)

    async def imported(self) -> int:
        row = await self._db.reader.one(IMPORTED)
        return 0 if row is None else int(row[0])

    async def put(self, point: ChargePoint) -> ChargePoint:
        fields = dict(zip(rows.INSERT_COLUMNS, rows.values(point), strict=True))
        sqlite = self._db.is_sqlite

        def work(conn: sa.Connection) -> str:
            key, point_id = conn.execute(_UPSERT, fields).one()
            if sqlite:
                x, y, z = sphere.unit(point.latitude, point.longitude)
                conn.execute(_SQLITE_POSITION, {"key": key, "x": x, "y": y, "z": z})
            else:
                ux, uy, uz = sphere.unit_float(point.latitude, point.longitude)
                conn.execute(_PG_POSITION, {**fields, "key": key, "x": ux, "y": uy, "z": uz})
            return str(point_id)

        stored_id = await self._db.write(work)
        return point if stored_id == point.id else _with_id(point, stored_id)

    async def set_evses(self, point_id: str, evses: tuple[Evse, ...], at: float) -> None:
        masks = masks_of(evses)
        text = rows.evses_json(evses).decode()
        runs: list[tuple[Statement, tuple[Any, ...]]] = [(SET_EVSES, (text, *masks, at, point_id))]
        if not self._db.is_sqlite:
            runs.append((SET_EVSE_FILTERS, (*masks, point_id)))
        await self._db.run_together(*runs)

    async def add_rows(self, values: Sequence[tuple[Any, ...]]) -> None:
        for first in range(0, len(values), BULK_CHUNK):
            chunk = values[first : first + BULK_CHUNK]
            if self._db.is_sqlite:
                await self._db.write(partial(_sqlite_bulk, chunk=chunk))
            else:
                await self._pg_bulk(chunk)

    async def _pg_bulk(self, chunk: Sequence[tuple[Any, ...]]) -> None:
        reader = self._db.reader
        assert isinstance(reader, PostgresReader)
        pool = await reader.pool()
        async with pool.acquire() as conn, conn.transaction():
            before = await conn.fetchval("SELECT coalesce(max(key), 0) FROM charge_points")
            await conn.copy_records_to_table(
                "charge_points",
                records=chunk,
                columns=list(rows.INSERT_COLUMNS),
            )
            await conn.execute(_PG_BULK_POSITIONS, before)


_LATITUDE = rows.INSERT_COLUMNS.index("latitude")


def postgres_arguments(search: Search) -> tuple[Any, ...]:
    """NEARBY_OPEN's arguments on PostgreSQL (PG_COUNT takes the first 11)."""
    west, south, east, north = sphere.box(search.latitude, search.longitude, search.radius_km)
    chord = sphere.chord_of(search.radius_km) / sphere.SCALE
    return (
        west,
        south,
        east,
        north,
        *sphere.unit_float(search.latitude, search.longitude),
        chord * chord,
        search.statuses,
        search.standards,
        search.min_power,
        search.limit,
        search.offset,
    )


def _sqlite_bulk(conn: sa.Connection, *, chunk: Sequence[tuple[Any, ...]]) -> None:
    first = conn.exec_driver_sql("SELECT coalesce(max(key), 0) FROM charge_points").scalar_one()
    points, positions = [], []
    unit = sphere.unit
    for key, row in enumerate(chunk, first + 1):
        points.append((key, *row))
        x, y, z = unit(row[_LATITUDE], row[_LATITUDE + 1])
        positions.append((key, x, x, y, y, z, z))
    conn.exec_driver_sql(_SQLITE_BULK, points)
    conn.exec_driver_sql(_SQLITE_BULK_POSITIONS, positions)


def _page(found: list[Any], scale: float) -> tuple[int, list[tuple[ChargePoint, float]]]:
    """(total, [(point, km)]) from rows of (total, squared chord in `scale` units, *COLUMNS)."""
    if not found:
        return 0, []
    total = int(found[0][0])
    hits = []
    for row in found:
        if row[2] is None:  # the count's row when the page is empty
            continue
        hits.append((rows.point_of_row(row, 2), sphere.km_of(row[1], scale)))
    return total, hits


def _with_id(point: ChargePoint, point_id: str) -> ChargePoint:
    return replace(point, id=point_id, evses=rows.evses_of(point_id, rows.evses_json(point.evses)))
