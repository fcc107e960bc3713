"""The results table, for the terminal and for bench/results/."""

from __future__ import annotations

from dataclasses import dataclass

from bench.loadgen import LoadResult


@dataclass(frozen=True)
class Row:
    server: str
    workload: str
    result: LoadResult
    # The largest VmHWM of any process of the server's tree (main + workers).
    peak_rss_kib: int
    # Server CPU over the measured run, summed over the process tree, in % of one core
    # (200 % = both cores of a 2-vCPU box).
    server_cpu_pct: float
    log_bytes: int
    # VmHWM of each worker process, and the sum of VmHWM over the whole tree.
    worker_rss_kib: tuple[int, ...] = ()
    tree_rss_kib: int = 0
    # The granian main process's own share of server CPU, and its pid and the workers'.
    main_cpu_pct: float = 0.0
    main_pid: int = 0
    worker_pids: tuple[int, ...] = ()
    # CPU of the services the server uses (its PostgreSQL backends, Redis); None: it uses none.
    services_cpu_pct: float | None = None
    # CPU that neither the server, its services nor wrk used during the run: other work.
    other_cpu_pct: float = 0.0
    floor_rps: float | None = None

    @property
    def wrk_cpu_pct(self) -> float:
        r = self.result
        return 100 * r.wrk_cpu_s / r.duration_s if r.duration_s else 0.0

    @property
    def ratio_to_floor(self) -> str:
        if not self.floor_rps:
            return "-"
        return f"{self.result.rps / self.floor_rps:.2f}"


_HEAD = (
    "server",
    "workload",
    "req/s",
    "p50 ms",
    "p99 ms",
    "non-2xx/errors",
    "peak RSS MiB",
    "worker RSS MiB",
    "tree RSS MiB",
    "server CPU",
    "services CPU",
    "wrk CPU",
    "other CPU",
    "vs floor",
)


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def _cells(row: Row) -> tuple[str, ...]:
    r = row.result
    services = "-" if row.services_cpu_pct is None else f"{row.services_cpu_pct:.0f} %"
    return (
        row.server,
        row.workload,
        f"{r.rps:,.0f}",
        f"{r.p50_ms:.2f}",
        f"{r.p99_ms:.2f}",
        f"{r.status_errors}/{r.socket_errors}",
        _mib(row.peak_rss_kib),
        " / ".join(_mib(k) for k in row.worker_rss_kib) or "-",
        _mib(row.tree_rss_kib),
        f"{row.server_cpu_pct:.0f} %",
        services,
        f"{row.wrk_cpu_pct:.0f} %",
        f"{row.other_cpu_pct:.0f} %",
        row.ratio_to_floor,
    )


def table(rows: list[Row]) -> str:
    """A Markdown table, column-aligned so it reads as well in a terminal."""
    body = [_HEAD, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(_HEAD))]

    def fmt(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(_HEAD), rule, *(fmt(c) for c in body[1:])])


def log_lines(rows: list[Row]) -> list[str]:
    out = []
    for row in rows:
        per_request = row.log_bytes / row.result.requests if row.result.requests else 0.0
        workers = ", ".join(str(p) for p in row.worker_pids) or "none"
        out.append(
            f"{row.server}, {row.workload}: stderr at the default log level "
            f"{row.log_bytes:,} bytes ({per_request:.0f} bytes per measured request); "
            f"process tree: main {row.main_pid}, worker(s) {workers}; the main process used "
            f"{row.main_cpu_pct:.1f} % of a core of the {row.server_cpu_pct:.0f} %"
        )
    return out


def comparison(rows: list[Row], ours: list[str]) -> str:
    """voltgate's req/s over each peer's, per workload: > 1 means voltgate is faster."""
    peers = [s for s in dict.fromkeys(r.server for r in rows) if s not in ours]
    mine = [s for s in ours if any(r.server == s for r in rows)]
    if not peers or not mine:
        return ""
    rps = {(r.server, r.workload): r.result.rps for r in rows}
    workloads = list(dict.fromkeys(r.workload for r in rows))
    head = ["workload", "voltgate server", *[f"vs {p}" for p in peers]]
    body: list[list[str]] = []
    for workload in workloads:
        for server in mine:
            base = rps.get((server, workload))
            if base is None:
                continue
            cells = []
            for peer in peers:
                other = rps.get((peer, workload))
                cells.append(f"{base / other:.2f}x" if other else "n/a")
            body.append([workload, server, *cells])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def markdown(
    title: str,
    machine_rows: list[tuple[str, str]],
    rows: list[Row],
    notes: list[str],
    ratios: str = "",
) -> str:
    lines = [f"# {title}", ""]
    lines += [f"- {k}: {v}" for k, v in machine_rows]
    lines += ["", table(rows), ""]
    if ratios:
        lines += [
            "voltgate's throughput over each peer's (same machine, same run):",
            "",
            ratios,
            "",
        ]
    lines += [f"- {n}" for n in notes]
    lines += [
        "",
        "req/s over the measured run; p50/p99 from wrk (closed loop, so latency under this "
        "concurrency, not open-loop service time); non-2xx/errors = wrk's status errors "
        "(status >= 400) / socket errors. The server is a process tree (granian's main process "
        "and its worker processes, which run the app): peak RSS = the largest VmHWM of any "
        "process of the tree, worker RSS = each worker's VmHWM, tree RSS = the sum of VmHWM "
        "over the tree (an upper bound: forked workers share pages); server CPU = CPU summed "
        "over the tree. CPU columns are % of one core over the measured run; services CPU = "
        "the server's PostgreSQL backends plus redis-server (Redis is shared: other users of "
        "it count too); other CPU = everything else on the machine, e.g. a test suite running "
        "alongside: more than a few % means the row is contaminated. vs floor = req/s over the "
        "floor row of the same server.",
        "",
    ]
    return "\n".join(lines)
