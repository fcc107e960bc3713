"""The charging records' reads as statements built once, and the choice of one per filter.

A filter's tenant (operator or owning user), device, site and time range pick the statement
(`Variant`), as they decide which index answers; so does whether it narrows at all by
connector, finished or energy (without, a count is answered from the index alone). Those three
only narrow rows an index already found, so a narrowing statement carries all of them as
ranges, and a filter left open fills its range with bounds that let every row through. All
2^5 variants are built here at import. Rows come back in `COLUMNS` order and map by position
(`record_of`); a page and its total come back in one statement (`Variant.page`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Any

import orjson

from voltgate.charging.store import SLOT, ChargingRecord, RecordFilter
from voltgate.db.statements import Row, Statement

COLUMNS = (
    "r.id, r.device_id, r.operator_id, r.transaction_id, r.connector, r.started_at, "
    "r.stopped_at, r.energy_kwh, r.meter_start, r.meter_stop, r.meter_values, r.created_at, "
    "r.updated_at"
)
_FROM = f"SELECT {COLUMNS} FROM charging_records AS r"  # noqa: S608 - constants
_OWNED = "r.device_id IN (SELECT id FROM devices WHERE owner_user_id = ?)"
_AT_SITE = "r.device_id IN (SELECT id FROM devices WHERE site_id = ?)"
_NARROW = (
    "r.connector BETWEEN ? AND ? AND (r.stopped_at IS NOT NULL) BETWEEN ? AND ?"
    " AND r.energy_kwh >= ? AND r.energy_kwh <= ?"
)
_ANY_CONNECTOR = (0, 1 << 30)
# floor(started_at / SLOT) for times >= 0: SQLite's cast truncates (its floor() is an optional
# build feature); PostgreSQL's rounds, so it takes floor() first.
_SLOT_SQLITE = f"CAST(r.started_at AS INTEGER) / {SLOT}"
_SLOT_POSTGRES = f"CAST(floor(r.started_at) AS BIGINT) / {SLOT}"
_SLOTS = """SELECT coalesce(s.timezone, 'UTC'), {slot}, sum(r.energy_kwh), count(*)
    FROM charging_records AS r JOIN devices AS d ON d.id = r.device_id
    LEFT JOIN sites AS s ON s.id = d.site_id WHERE {where} GROUP BY 1, 2"""


@dataclass(frozen=True, slots=True)
class Variant:
    """The statements of one combination of tenant, device, site and time range."""

    page: Statement  # the where's arguments twice, then limit, offset: (total, *record)
    first: Statement  # + limit: newest first
    older: Statement  # + id, limit: ids below, newest first
    newer: Statement  # + id, limit: ids above, oldest first
    one: Statement  # + id
    slots: Statement  # energy per zone and 15-minute slot


def _variant(owner: bool, device: bool, site: bool, timed: bool, narrowed: bool) -> Variant:
    where = [_OWNED if owner else "r.operator_id = ?"]
    if device:
        where.append("r.device_id = ?")
    if site:
        where.append(_AT_SITE)
    if timed:
        where.append("r.started_at >= ? AND r.started_at < ?")
    if narrowed:
        where.append(_NARROW)
    w = " AND ".join(where)
    slots = _SLOTS.format(where=w, slot=_SLOT_SQLITE)
    return Variant(
        # One round trip: the count, joined to the page (one row of NULLs if it is empty).
        page=Statement(
            f"""SELECT t.n, p.* FROM (SELECT count(*) AS n FROM charging_records AS r
                WHERE {w}) AS t LEFT JOIN ({_FROM} WHERE {w} ORDER BY r.id DESC
                LIMIT ? OFFSET ?) AS p ON 1 = 1 ORDER BY p.id DESC"""  # noqa: S608
        ),
        first=Statement(f"{_FROM} WHERE {w} ORDER BY r.id DESC LIMIT ?"),
        older=Statement(f"{_FROM} WHERE {w} AND r.id < ? ORDER BY r.id DESC LIMIT ?"),
        newer=Statement(f"{_FROM} WHERE {w} AND r.id > ? ORDER BY r.id LIMIT ?"),
        one=Statement(f"{_FROM} WHERE {w} AND r.id = ?"),
        slots=Statement(slots, Statement(_SLOTS.format(where=w, slot=_SLOT_POSTGRES)).postgres),
    )


# (owner, device, site, timed, narrowed) → its statements
VARIANTS = {flags: _variant(*flags) for flags in product((False, True), repeat=5)}

BY_TRANSACTION = Statement(f"{_FROM} WHERE r.device_id = ? AND r.transaction_id = ?")
ZONES = Statement(
    """SELECT DISTINCT coalesce(s.timezone, 'UTC') FROM devices AS d
       LEFT JOIN sites AS s ON s.id = d.site_id WHERE d.operator_id = ?"""
)


def chosen(which: RecordFilter) -> tuple[Variant, list[Any]]:
    """The statements for `which` and the arguments its WHERE takes, in order."""
    if (which.operator_id is None) == (which.owner_user_id is None):
        raise ValueError("a record filter names exactly one tenant: an operator or an owner")
    args: list[Any] = [which.operator_id if which.owner_user_id is None else which.owner_user_id]
    if which.device_id is not None:
        args.append(which.device_id)
    if which.site_id is not None:
        args.append(which.site_id)
    low, high = which.started_from, which.started_before
    timed = low is not None or high is not None
    if timed:
        args += (-math.inf if low is None else low, math.inf if high is None else high)
    connector, finished = which.connector, which.finished
    small, big = which.energy_min, which.energy_max
    narrowed = not (connector is None and finished is None and small is None and big is None)
    if narrowed:
        args += _ANY_CONNECTOR if connector is None else (connector, connector)
        args += (False, True) if finished is None else (finished, finished)
        args += (-math.inf if small is None else small, math.inf if big is None else big)
    flags = (
        which.owner_user_id is not None,
        which.device_id is not None,
        which.site_id is not None,
        timed,
        narrowed,
    )
    return VARIANTS[flags], args


def record_of(row: Row) -> ChargingRecord:
    """A record from a row in `COLUMNS` order."""
    return ChargingRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        tuple(orjson.loads(row[10])),
        row[11],
        row[12],
    )
