"""`python -m bench.geo [--points 1000000] [--backend sqlite|postgres|all] [--queries 2000]`:
the charge-point search (be.ENERGISED's `cpsPaged`: a 5 km radius, 20 points, the total) in
the database, over generated points (chargepoints/generate.py, seed 1).

For each backend: a fresh database (a scratch SQLite file; `CREATE DATABASE voltgate_bench_…`
on 127.0.0.1 for PostgreSQL, dropped after), migrated, then the points bulk-loaded (timed).
Then each position below is searched `--queries` times in turn through the store (the one
statement built once, its rows mapped to the 20 points: what `ChargePoints.nearby` costs
without validation), each query timed alone: p50 and p99 per position and over all. The dense
centres are the two largest cities' (the most points within 5 km); the others a mid-size
city, a small one and open country. Run on a quiet machine."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from bench.services import fresh_database
from voltgate.chargepoints.repository import NEARBY_OPEN, SqlChargePointStore, postgres_arguments
from voltgate.chargepoints.service import search_of
from voltgate.chargepoints.store import GeoFilter, Search
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.db.statements import PostgresReader

POSITIONS = {
    "Paris centre (dense)": (48.8566, 2.3522),
    "London centre (dense)": (51.5072, -0.1276),
    "Berlin Mitte": (52.5200, 13.4050),
    "Gent": (51.0543, 3.7174),
    "Luxembourg": (49.6116, 6.1319),
    "open country (Auvergne)": (45.50, 3.00),
}
RADIUS_KM = 5.0
LIMIT = 20


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(settings: Settings, points: int, queries: int) -> list[str]:
    db = Database(settings)
    lines = []
    try:
        await db.upgrade()
        store = SqlChargePointStore(db)
        from voltgate.chargepoints import generate

        started = time.perf_counter()
        made = list(generate.rows(points, 1, time.time()))
        generated = time.perf_counter() - started
        started = time.perf_counter()
        await store.add_rows(made)
        loaded = time.perf_counter() - started
        del made
        lines.append(
            f"  {points:,} points: generated in {generated:.1f} s, loaded in {loaded:.1f} s "
            f"({points / loaded:,.0f} rows/s)"
        )
        searches: dict[str, Search] = {
            name: search_of(GeoFilter(lat, lon, RADIUS_KM), LIMIT, 0)
            for name, (lat, lon) in POSITIONS.items()
        }
        for search in searches.values():  # warm: caches, prepared statements
            for _ in range(20):
                await store.nearby(search)
        timings: dict[str, list[float]] = {name: [] for name in searches}
        totals: dict[str, int] = {}
        for _ in range(queries):
            for name, search in searches.items():
                t0 = time.perf_counter()
                total, _hits = await store.nearby(search)
                timings[name].append((time.perf_counter() - t0) * 1000.0)
                totals[name] = total
        everything: list[float] = []
        lines.append(f"  {'position':<26} {'total':>7} {'p50 ms':>8} {'p99 ms':>8}")
        for name, values in timings.items():
            everything += values
            lines.append(
                f"  {name:<26} {totals[name]:>7,} {statistics.median(values):>8.2f} "
                f"{_percentile(values, 0.99):>8.2f}"
            )
        lines.append(
            f"  {'all':<26} {'':>7} {statistics.median(everything):>8.2f} "
            f"{_percentile(everything, 0.99):>8.2f}"
        )
        if not db.is_sqlite:
            lines += await _server_side(db, searches, queries)
    finally:
        await db.dispose()
    return lines


async def _server_side(db: Database, searches: dict[str, Search], queries: int) -> list[str]:
    """The same statements timed by PostgreSQL itself (EXPLAIN ANALYZE's execution time, with
    per-node timing off): the database's share without the round trip and the client."""
    reader = db.reader
    assert isinstance(reader, PostgresReader)
    pool = await reader.pool()
    explain = f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {NEARBY_OPEN.postgres}"
    lines = ["  as PostgreSQL times its execution:"]
    everything: list[float] = []
    async with pool.acquire() as conn:
        for name, search in searches.items():
            args = postgres_arguments(search)
            values = []
            for _ in range(queries):
                plan = orjson.loads(await conn.fetchval(explain, *args))
                values.append(float(plan[0]["Execution Time"]))
            everything += values
            lines.append(
                f"  {name:<26} {'':>7} {statistics.median(values):>8.2f} "
                f"{_percentile(values, 0.99):>8.2f}"
            )
    lines.append(
        f"  {'all':<26} {'':>7} {statistics.median(everything):>8.2f} "
        f"{_percentile(everything, 0.99):>8.2f}"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.geo", description=__doc__)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "all"), default="all")
    parser.add_argument("--queries", type=int, default=2_000, help="searches per position")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgres") if args.backend == "all" else (args.backend,)
    for backend in backends:
        print(f"{backend}: cpsPaged in the database, {RADIUS_KM:g} km, limit {LIMIT}", flush=True)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory(prefix="voltgate-geo-") as scratch:
                settings = Settings(data_dir=Path(scratch))
                lines = asyncio.run(_run(settings, args.points, args.queries))
        else:
            with fresh_database() as pg:
                settings = Settings(database_url=pg.url)
                lines = asyncio.run(_run(settings, args.points, args.queries))
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
