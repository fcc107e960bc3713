"""`python -m bench.fleet_telemetry`: Fleet Telemetry ingest, acknowledged after the durable
write, measured from outside.

The listener is the real `voltgate telemetry serve` (one process; `--instances 2` runs two on
one database, as a scale-out would); the load comes from `bench.streamgen` processes on the
same box: vehicles over mutual-TLS WebSockets, each with a window of messages in flight, 25
Datums a message. Reported: signals/s acknowledged, p50/p99 from send to acknowledgement, and
the CPU the listener(s) and the load generators used (a generator near 1.0 core per process
would be the bottleneck, not the listener).

`--nats URL` measures the scale path: the listeners acknowledge once NATS JetStream stored a
message (a stream of the run's own, deleted afterwards) and `--writers N` `voltgate telemetry
writer` processes move the messages into the database. Also reported then: how many messages
the writers still had to write when the load stopped, how long they took to catch up, and the
writers' CPU.

The box's busy cores are reported too, with NATS's and PostgreSQL's apart and `other_cores` for
whatever else ran beside the bench (another session's test suite shows there). One generator a
listener by default, each on its own listener. `--profile FILE` records the listener(s) and
writer(s) with py-spy (read it with `python -m bench.pyspy`)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench import proctree, pyspy
from bench.machine import host_busy_seconds
from bench.streamgen import DATUMS, vins

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data: Path, database_url: str | None, master: bytes, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTGATE_")}
    env["VOLTGATE_DATA_DIR"] = str(data)
    env["VOLTGATE_MASTER_KEY"] = base64.urlsafe_b64encode(master).decode().rstrip("=")
    env["VOLTGATE_LOG_LEVEL"] = "warning"
    env["BENCH_MASTER_KEY_HEX"] = master.hex()
    if database_url:
        env["VOLTGATE_DATABASE_URL"] = database_url
    env.update({f"VOLTGATE_{k.upper()}": v for k, v in extra.items()})
    return env


def _voltgate(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "voltgate", *args], env=env, check=True, cwd=ROOT)


async def _seed(env: dict[str, str], count: int) -> None:
    """A configuration for each bench vehicle (the listener's allow-list)."""
    from voltgate.config import Settings
    from voltgate.db.engine import Database
    from voltgate.fleettelemetry.configs.repository import SqlConfigStore
    from voltgate.fleettelemetry.configs.store import FieldConfig, TelemetryConfig

    os.environ.update({k: v for k, v in env.items() if k.startswith("VOLTGATE_")})
    db = Database(Settings())
    try:
        config = TelemetryConfig("localhost", 443, {"Soc": FieldConfig(1)})
        store = SqlConfigStore(db)
        await store.save("bench-app", "bench-user", [(v, config) for v in vins(count)], time.time())
    finally:
        await db.dispose()


_SERVICES = ("nats-server", "postgres")


def _services_cpu() -> dict[str, float]:
    """CPU seconds so far of the processes named as the services (PostgreSQL's backends of
    every user of the server; those that ended count in the postmaster's children)."""
    found = dict.fromkeys(_SERVICES, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in found:
            found[name] += proctree.cpu_seconds(int(entry.name))
    return found


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that ended (the generators)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the listener on {port} did not come up")


def _load(args: argparse.Namespace, ports: list[int], data: Path, n: int, per: int) -> list[str]:
    """The n-th load generator's arguments: its share of the vehicles, on a listener in turn."""
    return [
        "--url", f"wss://localhost:{ports[n % len(ports)]}/",
        "--ca", str(data / "telemetry-ca"),
        "--vehicles", str(per),
        "--offset", str(n * per),
        "--window", str(args.window),
        "--duration", str(args.duration),
    ]  # fmt: skip


def _bus_settings(args: argparse.Namespace) -> dict[str, str]:
    if not args.nats:
        return {}
    tag = secrets.token_hex(4)
    return {
        "nats_url": args.nats,
        "nats_stream": f"BENCH_{tag}",
        "nats_subject_prefix": f"bench.{tag}",
    }


def _settings(env: dict[str, str]) -> Any:
    from voltgate.config import Settings

    values = {k[len("VOLTGATE_") :].lower(): v for k, v in env.items() if k.startswith("VOLTGATE_")}
    return Settings(**values)


async def _lag(env: dict[str, str]) -> int:
    from voltgate.fleettelemetry.bus import Bus

    bus = await Bus.connect(_settings(env))
    try:
        return await bus.lag()
    finally:
        await bus.close()


async def _drain(env: dict[str, str], timeout: float) -> tuple[int, float | None]:
    """(the writers' backlog now, the seconds until it was written; None: not within timeout)."""
    started = time.monotonic()
    backlog = await _lag(env)
    lag = backlog
    while lag and time.monotonic() - started < timeout:
        await asyncio.sleep(0.1)
        lag = await _lag(env)
    return backlog, (time.monotonic() - started) if lag == 0 else None


async def _delete_stream(env: dict[str, str]) -> None:
    from voltgate.fleettelemetry.bus import Bus

    bus = await Bus.connect(_settings(env))
    try:
        await bus.delete_stream()
    finally:
        await bus.close()


def _start_writers(args: argparse.Namespace, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    if not args.nats:
        return []
    command = [sys.executable, "-m", "voltgate", "telemetry", "writer"]
    return [subprocess.Popen(command, env=env, cwd=ROOT) for _ in range(args.writers)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    master = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="bench-ft-") as tmp:
        data = Path(tmp) / "data"
        bus = _bus_settings(args)
        env = _env(data, args.database_url, master, telemetry_rate_messages="100000000", **bus)
        _voltgate(env, "db", "upgrade")
        _voltgate(env, "telemetry", "ca", "init")
        asyncio.run(_seed(env, args.vehicles))
        listeners, ports = [], []
        for n in range(args.instances):
            port = _free_port()
            listener_env = {**env, "VOLTGATE_TELEMETRY_INSTANCE": f"bench-{n}"}
            command = [sys.executable, "-m", "voltgate", "telemetry", "serve", "--port", str(port)]
            listeners.append(subprocess.Popen(command, env=listener_env, cwd=ROOT))
            ports.append(port)
        writers = _start_writers(args, env)
        drain: tuple[int, float | None] = (0, 0.0)
        try:
            for port in ports:
                _wait_port(port)
            before = {p.pid: proctree.cpu_seconds(p.pid) for p in listeners + writers}
            host_before, own_before, wall_before = host_busy_seconds(), _own_cpu(), time.monotonic()
            services_before = _services_cpu()
            per = args.vehicles // args.generators
            spied = [p.pid for p in listeners + writers]
            with pyspy.recording(spied, args.profile, args.duration):
                generators = [
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "bench.streamgen",
                            *_load(args, ports, data, n, per),
                        ],
                        env=env,
                        cwd=ROOT,
                        stdout=subprocess.PIPE,
                    )
                    for n in range(args.generators)
                ]
                results = [orjson.loads(g.communicate()[0].splitlines()[-1]) for g in generators]
            host_cpu = host_busy_seconds() - host_before
            services = {k: v - services_before[k] for k, v in _services_cpu().items()}
            # This process and its children (the generators, py-spy), start-up included.
            own_cpu = _own_cpu() - own_before
            wall = time.monotonic() - wall_before
            listener_cpu = sum(proctree.cpu_seconds(p.pid) - before[p.pid] for p in listeners)
            load_cpu = listener_cpu + own_cpu
            load_cpu += sum(proctree.cpu_seconds(p.pid) - before[p.pid] for p in writers)
            load_cpu += sum(services.values())
            if writers:
                drain = asyncio.run(_drain(env, args.drain_timeout))
            writer_cpu = sum(proctree.cpu_seconds(p.pid) - before[p.pid] for p in writers)
        finally:
            for process in listeners + writers:
                process.terminate()
                process.wait(timeout=30)
            if args.nats:
                asyncio.run(_delete_stream(env))
    acked = sum(r["acked"] for r in results)
    seconds = max(r["seconds"] for r in results)
    scale: dict[str, Any] = {}
    if args.nats:
        backlog, catch_up = drain
        busy = seconds + (catch_up or args.drain_timeout)
        scale = {
            "writers": args.writers,
            "writer_backlog_at_end": backlog,
            "writer_catch_up_s": catch_up,
            # Written by the time the backlog was gone: load plus catch-up.
            "signals_per_s_written": acked * DATUMS / busy if catch_up is not None else None,
            "writer_cores": writer_cpu / busy,
        }
    return {
        "backend": ("postgres" if args.database_url else "sqlite") + ("+nats" if args.nats else ""),
        "instances": args.instances,
        "vehicles": args.vehicles,
        "window": args.window,
        "messages_per_s": acked / seconds,
        "signals_per_s": acked * DATUMS / seconds,
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "unacked": sum(r["unacked"] for r in results),
        "listener_cores": listener_cpu / seconds,
        "generator_cores": [round(r["cpu_seconds"] / r["seconds"], 2) for r in results],
        # The whole machine's busy cores; NATS's and PostgreSQL's (all its users': tests
        # running beside the bench count there); and what was none of those, the listeners,
        # the writers nor the generators (other work on the box, e.g. a test suite).
        "host_cores": round(host_cpu / wall, 2),
        "nats_cores": round(services["nats-server"] / wall, 2),
        "postgres_cores": round(services["postgres"] / wall, 2),
        "other_cores": round((host_cpu - load_cpu) / wall, 2),
        **scale,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--vehicles", type=int, default=64)
    parser.add_argument(
        "--generators",
        type=int,
        default=None,
        help="load generator processes, each on one listener in turn (default: one a listener)",
    )
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--nats", default=None, help="NATS URL: the scale path (with --writers)")
    parser.add_argument("--writers", type=int, default=1, help="writer processes (--nats)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy raw output of the listener(s) and writer(s) here (one file each)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="how long to wait for the writers"
    )
    args = parser.parse_args()
    if args.generators is None:  # else with one generator, every vehicle is on the first listener
        args.generators = args.instances
    result = run(args)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
