"""`python -m bench`: start each server on 127.0.0.1, load it with wrk, print and save one table."""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench import proctree, pyspy, services
from bench.loadgen import (
    LoadgenUnavailable,
    LoadResult,
    LoadSettings,
    ensure_wrk,
    run_wrk,
    wrk_version,
)
from bench.machine import describe, host_busy_seconds, wait_quiet
from bench.peers import peer_servers
from bench.report import Row, comparison, log_lines, markdown, table
from bench.servers import (
    GRAPHQL_DEFAULT_ROW,
    ROOT,
    SERVERS,
    VARIANTS,
    RunningServer,
    ServerFactory,
    http_request,
)
from bench.services import ServiceUnavailable
from bench.workloads import FLOOR, READINGS_PER_MESSAGE, WORKLOADS, Workload

RESULTS = ROOT / "bench" / "results"
ALL_SERVERS: dict[str, ServerFactory] = {**SERVERS, **VARIANTS, **peer_servers()}
GROUPS = {
    "all": [*SERVERS, *peer_servers()],
    "voltgate": list(SERVERS),
    "peers": list(peer_servers()),
}
# Audit rows are flushed every 0.25 s; the promise checked here is "durable within 1 s".
DURABILITY_WAIT = 1.0


@dataclass(frozen=True)
class Options:
    settings: LoadSettings
    servers: list[str]
    workloads: list[Workload]
    output: Path
    keep: bool
    profile: Path | None
    quiet_threshold: float
    quiet_timeout: float


def _parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before it")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (-c)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (-t)")
    parser.add_argument(
        "--server",
        default="all",
        help="comma-separated servers or groups (all, voltgate, peers): sqlite = embedded "
        "default; postgres = PostgreSQL + Redis on 127.0.0.1; postgres2 = the same with "
        "--workers 2; sqlite-graphql-default, postgres-graphql-default = the same as sqlite, "
        "postgres with VOLTGATE_GRAPHQL_CACHE=false (the GraphQL workloads' peer row); "
        f"peers: {', '.join(peer_servers()) or 'none installed'} (default: all)",
    )
    parser.add_argument(
        "--workload",
        choices=[*WORKLOADS, "all"],
        default="all",
        help="what to load; the floor row is always run too, for the ratio",
    )
    parser.add_argument("--output", type=Path, help="results file (default bench/results/…)")
    parser.add_argument("--keep", action="store_true", help="keep data dirs and server logs")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also record py-spy profiles of the server's worker process(es) (raw, with thread "
        "ids, per workload and worker) into DIR; summarise them with `python -m bench.pyspy "
        "FILE…`; sampling shares the cores, so the numbers of such a run are not the "
        "reference",
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=25.0,
        metavar="PCT",
        help="before each run, wait until other work uses less than PCT %% of one core",
    )
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="wait at most S seconds for that (0: do not wait)",
    )
    args = parser.parse_args(argv)
    if args.connections < args.threads or args.threads < 1 or args.duration <= 0:
        parser.error("need --threads >= 1, --connections >= --threads and --duration > 0")
    servers: list[str] = []
    for name in args.server.split(","):
        picked = GROUPS.get(name.strip(), [name.strip()])
        unknown = [p for p in picked if p not in ALL_SERVERS]
        if unknown:
            parser.error(f"unknown server {unknown[0]!r}; choose from {', '.join(ALL_SERVERS)}")
        servers += [p for p in picked if p not in servers]
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    if FLOOR.name not in names:
        names.append(FLOOR.name)
    today = datetime.date.today().isoformat()
    suffix = "token" if "token" in names else args.workload
    return Options(
        settings=LoadSettings(
            duration=args.duration,
            warmup=args.warmup,
            connections=args.connections,
            threads=args.threads,
        ),
        servers=servers,
        workloads=[WORKLOADS[n] for n in names],
        output=args.output or RESULTS / f"{today}-{suffix}.md",
        keep=args.keep,
        profile=args.profile,
        quiet_threshold=args.quiet_threshold,
        quiet_timeout=args.quiet_timeout,
    )


@dataclass(frozen=True)
class Measured:
    row: Row
    notes: list[str]
    # False when a check after the run failed (audit rows not durable in time).
    checks_passed: bool = True


def _pct(seconds: float, duration: float) -> float:
    return 100 * seconds / duration if duration else 0.0


def _measure(server: RunningServer, workload: Workload, wrk: str, opts: Options) -> Measured | None:
    s = opts.settings
    if server.max_connections is not None and server.max_connections < s.connections:
        s = replace(s, connections=server.max_connections)
    request = workload.build(server, s)
    if request is None:
        return None
    notes: list[str] = list(server.notes)
    if s.connections < opts.settings.connections:
        notes.append(f"{server.name}: wrk connections capped at {s.connections} (a slow server)")
    if opts.quiet_timeout > 0:
        busy = wait_quiet(opts.quiet_threshold, opts.quiet_timeout)
        if busy > opts.quiet_threshold:
            notes.append(
                f"{server.name}, {workload.name}: the machine was still busy with other work "
                f"when the run started ({busy:.0f} % of a core after {opts.quiet_timeout:g} s "
                "of waiting)"
            )
    warm = run_wrk(wrk, server.base_url, request, s, s.warmup) if s.warmup > 0 else None
    if warm is not None and server.endpoints.floor is not None:
        # Let requests still queued from the warm-up drain before measuring: one request to
        # the floor route waits behind them on a server with blocking workers.
        http_request("GET", server.base_url + server.endpoints.floor, timeout=120)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", server.name).strip("-")
    profile = opts.profile / f"{slug}-{workload.name}.txt" if opts.profile else None
    services_before = proctree.cpu_by_pid(server.service_pids()) if server.service_pids else None
    cpu_before, main_before = server.cpu_seconds(), server.main_cpu_seconds()
    log_before, host_before = server.log_bytes(), host_busy_seconds()
    with pyspy.recording(server.worker_pids(), profile, s.duration) as profiles:
        result = run_wrk(wrk, server.base_url, request, s, s.duration)
        # Read at once, not after py-spy has finished writing its files.
        host = host_busy_seconds() - host_before
        cpu = server.cpu_seconds() - cpu_before
        main_cpu = server.main_cpu_seconds() - main_before
        services_cpu = None
        if services_before is not None and server.service_pids is not None:
            services_cpu = proctree.cpu_delta(
                services_before, proctree.cpu_by_pid(server.service_pids())
            )
    other = max(0.0, host - cpu - (services_cpu or 0.0) - result.wrk_cpu_s)
    d = result.duration_s
    row = Row(
        server=server.name,
        workload=workload.name,
        result=result,
        peak_rss_kib=server.peak_rss_kib(),
        server_cpu_pct=_pct(cpu, d),
        log_bytes=server.log_bytes() - log_before,
        worker_rss_kib=tuple(server.worker_peak_rss_kib()),
        tree_rss_kib=server.tree_peak_rss_kib(),
        main_cpu_pct=_pct(main_cpu, d),
        main_pid=server.pid,
        worker_pids=tuple(server.worker_pids()),
        services_cpu_pct=None if services_cpu is None else _pct(services_cpu, d),
        other_cpu_pct=_pct(other, d),
    )
    durable = True
    if workload.issues_tokens and server.count_audit is not None:
        time.sleep(DURABILITY_WAIT)
        rows = server.audit_rows("token_issued") or 0
        responses = result.ok_responses + (warm.ok_responses if warm else 0)
        non_2xx = result.status_errors + (warm.status_errors if warm else 0)
        durable = rows >= responses and non_2xx == 0
        notes.append(
            f"{server.name}: audit rows durable within {DURABILITY_WAIT:g} s: "
            f"{'yes' if durable else 'no'} (rows={rows}, responses={responses}: "
            f"{result.ok_responses} measured + {responses - result.ok_responses} warm-up, "
            f"non-2xx={non_2xx})"
        )
    if workload.stores_readings and server.count_telemetry is not None:
        time.sleep(DURABILITY_WAIT)  # accepted readings are written in batches every 0.25 s
        durable = _readings_durable(server, server.count_telemetry(), result, warm, s, notes)
    if request.chain is not None and server.count_rotations is not None:
        time.sleep(DURABILITY_WAIT)  # requests in flight when wrk stopped finish meanwhile
        durable = _rotations_durable(server, server.count_rotations(), result, warm, s, notes)
    if workload.check is not None:
        held, note = workload.check(server, request, result)
        notes.append(note)
        durable = durable and held
    for path in profiles:
        notes.append(f"py-spy profile of {server.name}, {workload.name} run: {path}")
    return Measured(row, notes, checks_passed=durable)


def _readings_durable(
    server: RunningServer,
    rows: int,
    result: LoadResult,
    warm: LoadResult | None,
    s: LoadSettings,
    notes: list[str],
) -> bool:
    """Telemetry: every 202 accepted READINGS_PER_MESSAGE readings; a second after the load
    they must all be rows. At most one message per connection and wrk run more (accepted
    while wrk stopped, its answer never counted)."""
    runs = [r for r in (warm, result) if r is not None]
    responses = sum(r.ok_responses for r in runs)
    refused = sum(r.status_errors + r.socket_errors for r in runs)
    expected = responses * READINGS_PER_MESSAGE
    slack = len(runs) * s.connections * READINGS_PER_MESSAGE
    holds = expected <= rows <= expected + slack and refused == 0
    measured = result.ok_responses
    notes.append(
        f"{server.name}: telemetry durable within {DURABILITY_WAIT:g} s: "
        f"{'yes' if holds else 'no'} (rows={rows}, accepted messages={responses}: {measured} "
        f"measured + {responses - measured} warm-up, x{READINGS_PER_MESSAGE} readings = "
        f"{expected}; {rows - expected} more accepted while wrk stopped, at most {slack} may; "
        f"non-2xx or socket errors={refused}); "
        f"{result.rps * READINGS_PER_MESSAGE:,.0f} readings/s measured"
    )
    return holds


def _rotations_durable(
    server: RunningServer,
    rows: int,
    result: LoadResult,
    warm: LoadResult | None,
    s: LoadSettings,
    notes: list[str],
) -> bool:
    """Chained refreshes: every 200 consumed one refresh token in the database, durably.

    Each token is presented once, so no 200 is a grace-window repeat: consumed rows must be at
    least the 200s, and at most one more per connection and wrk run (a request in flight when
    wrk stopped rotates without wrk counting its response).
    """
    runs = [r for r in (warm, result) if r is not None]
    responses = sum(r.ok_responses for r in runs)
    unexpected = sum(r.requests - r.ok_responses for r in runs)
    socket_errors = sum(r.socket_errors for r in runs)
    in_flight = len(runs) * s.connections
    holds = responses <= rows <= responses + in_flight and unexpected + socket_errors == 0
    notes.append(
        f"{server.name}: refresh rotations durable: {'yes' if holds else 'no'} (consumed "
        f"refresh tokens={rows}, 200 responses={responses}: {result.ok_responses} measured + "
        f"{responses - result.ok_responses} warm-up; {rows - responses} more rotated while wrk "
        f"stopped, at most {in_flight} may; non-200 or no successor={unexpected}, socket "
        f"errors={socket_errors})"
    )
    return holds


def _run(opts: Options, wrk: str, workdir: Path) -> tuple[list[Row], list[str], bool]:
    rows: list[Row] = []
    notes: list[str] = []
    passed = True
    for key in opts.servers:
        for workload in opts.workloads:
            # A fresh server per workload, so peak RSS belongs to that workload alone.
            try:
                with ALL_SERVERS[key](workdir / key / workload.name) as server:
                    print(f"… {server.name}: {workload.name} ({workload.summary})", flush=True)
                    measured = _measure(server, workload, wrk, opts)
            except ServiceUnavailable as exc:
                note = f"server `{key}` skipped: {exc}"
                print("  " + note, flush=True)
                notes.append(note)
                passed = False
                break
            if measured is None:
                notes.append(f"{server.name} has no {workload.name} route: skipped")
                continue
            rows.append(measured.row)
            notes += measured.notes
            passed = passed and measured.checks_passed
            for line in measured.notes:
                print("  " + line, flush=True)
    floors = {r.server: r.result.rps for r in rows if r.workload == FLOOR.name}
    return [replace(r, floor_rps=floors.get(r.server)) for r in rows], notes, passed


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    opts = _parse(argv)
    # SIGTERM (and SIGINT even where a shell ignored it) unwind like Ctrl-C, so every server
    # started so far is stopped by its context manager.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        wrk = ensure_wrk()
    except LoadgenUnavailable as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="voltgate-bench-"))
    try:
        rows, notes, passed = _run(opts, wrk, workdir)
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started has been stopped", file=sys.stderr)
        return 130
    finally:
        if opts.keep:
            print(f"data dirs and server logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    notes = list(dict.fromkeys(notes)) + log_lines(rows)
    about = describe(ROOT, wrk_version(wrk), opts.settings)
    about.append(("server", f"granian {_version('granian')} (`voltgate serve`)"))
    if any(key in ("postgres", "postgres2") for key in opts.servers):
        about += services.versions()
    print()
    for key, value in about:
        print(f"{key}: {value}")
    print()
    print(table(rows))
    print()
    ours = list(dict.fromkeys(r.server for r in rows if r.server.startswith("voltgate")))
    ratios = comparison(rows, ours)
    if ratios:
        print(ratios)
        print()
    for note in notes:
        print(note)
    title = f"voltgate bench, {datetime.date.today().isoformat()}"
    opts.output.parent.mkdir(parents=True, exist_ok=True)
    opts.output.write_text(markdown(title, about, rows, notes, ratios))
    print(f"\nwritten to {opts.output}")
    # A peer's own errors are shown in its row; the exit status judges voltgate's rows.
    failed = any(
        r.result.failures for r in rows if r.server.startswith(("voltgate", GRAPHQL_DEFAULT_ROW))
    )
    return 0 if passed and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
