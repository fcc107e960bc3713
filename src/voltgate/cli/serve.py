"""`voltgate serve` and `voltgate sandbox`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import structlog
import typer

from voltgate.cli import streaming, walkthrough
from voltgate.cli.common import console, err_console, fail, settings, started_runtime
from voltgate.cli.ports import ensure_free
from voltgate.config import Environment, Settings
from voltgate.observability import configure_logging
from voltgate.sandbox.world import SITES, provision_sandbox

Host = Annotated[str, typer.Option("--host", help="Address to bind.")]
Port = Annotated[int, typer.Option("--port", help="Port to bind.")]
Workers = Annotated[
    int, typer.Option("--workers", help="Server processes; more than one needs VOLTGATE_REDIS_URL.")
]
MaxConnections = Annotated[
    int | None,
    typer.Option(
        "--max-connections",
        min=1,
        help="Open connections per worker, idle ones included; more wait to be accepted. "
        "Default: VOLTGATE_MAX_CONNECTIONS, else 10000.",
        show_default=False,
    ),
]
HeaderTimeout = Annotated[
    float | None,
    typer.Option(
        "--header-timeout",
        min=0.001,
        help="Seconds a connection gets to send a request's headers, also the idle keep-alive "
        "time. Default: VOLTGATE_HEADER_TIMEOUT, else 10.",
        show_default=False,
    ),
]

log = structlog.get_logger("voltgate.serve")


def _configured(
    host: str, port: int, max_connections: int | None = None, header_timeout: float | None = None
) -> Settings:
    base = settings()
    if "issuer" not in base.model_fields_set:
        # Worker processes read their settings from the environment: hand the issuer down.
        os.environ["VOLTGATE_ISSUER"] = f"http://{host}:{port}"
        base = settings()
    # The limits are read here, in granian's main process, not by the workers.
    limits = {"max_connections": max_connections, "header_timeout": header_timeout}
    return base.model_copy(update={k: v for k, v in limits.items() if v is not None})


# granian's own loggers propagate to the root handler that configure_logging installs (JSON).
_GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {},
    "formatters": {},
    "loggers": {
        "_granian": {"handlers": [], "level": "INFO", "propagate": True},
        "granian.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def _configure_logging(config: Settings) -> None:
    configure_logging(
        config.log_level, file=config.log_file, console_level=config.console_log_level
    )


# Open files a worker holds besides its connections: the listener, event loops, database and
# cache connections, logs (33 measured at rest on SQLite), with room to spare.
_FILES_BESIDES_CONNECTIONS = 256


def _open_file_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (the workers inherit it); the soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    target = max(soft, wanted) if hard == infinity else hard
    if soft != infinity and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.warning("open_file_limit_not_raised", soft=soft, hard=hard, error=str(exc))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return wanted if soft == infinity else soft


def _connections_allowed(config: Settings) -> int:
    """max_connections, lowered to what the open-file limit leaves: connections that took every
    file would leave none for the worker's database, cache and log files."""
    needed = config.max_connections + _FILES_BESIDES_CONNECTIONS
    limit = _open_file_limit(needed)
    allowed = min(config.max_connections, limit - min(_FILES_BESIDES_CONNECTIONS, limit // 4))
    log.info("open_file_limit", limit=limit, needed=needed, max_connections=allowed)
    if allowed < config.max_connections:
        log.warning(
            "open_file_limit_below_max_connections",
            limit=limit,
            needed=needed,
            max_connections=allowed,
            hint="raise the hard limit (ulimit -Hn; systemd LimitNOFILE=) or lower max_connections",
        )
    return allowed


def _ensure_ports_free(config: Settings, host: str, port: int) -> None:
    """Before anything is built or printed: the server's ports are free."""
    ensure_free(host, port, "stop what holds it or pick another --port")
    if config.metrics_port is not None:
        ensure_free("127.0.0.1", config.metrics_port, "VOLTGATE_METRICS_PORT moves it")


def _run_server(config: Settings, host: str, port: int, workers: int = 1) -> None:
    """granian: measured here at twice uvicorn's throughput for the same ASGI app."""
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    if workers > 1 and not config.redis_url:
        fail("--workers > 1 needs VOLTGATE_REDIS_URL: revocations and limits must be shared")
    if workers > 1 and config.metrics_port is not None:
        # Each worker keeps its own series, and one port cannot serve them all.
        fail("VOLTGATE_METRICS_PORT needs one worker; scrape /metrics with an admin token instead")
    _configure_logging(config)
    Server(
        target="voltgate.app:from_environment",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        # HTTP/1 only: in `auto` mode a socket that sends nothing waits for the HTTP/2 preface
        # with no timeout; in HTTP/1 mode header_timeout runs from accept.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=round(config.header_timeout * 1000)),
        backpressure=_connections_allowed(config),
        backlog=config.listen_backlog,
        log_access=False,
        log_dictconfig=_GRANIAN_LOGGING,
    ).serve()


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Workers = 1,
    max_connections: MaxConnections = None,
    header_timeout: HeaderTimeout = None,
) -> None:
    """Run the API server (data under VOLTGATE_DATA_DIR, SQLite unless VOLTGATE_DATABASE_URL)."""
    config = _configured(host, port, max_connections, header_timeout)
    _ensure_ports_free(config, host, port)
    _run_server(config, host, port, workers)


async def _sandbox_credentials(
    config: Settings, fleet: int, charge_points: int = 0
) -> dict[str, Any]:
    async with started_runtime(config) as rt:
        creds = await provision_sandbox(
            rt,
            config.issuer,
            fleet=fleet,
            fleet_state=config.data_dir / FLEET_STATE,
            charge_points=charge_points,
        )
    return creds


SANDBOX_FLEET = 5
FLEET_STATE = "sandbox-fleet.json"
# Vehicles arriving per idle connector per hour: lively enough to see sessions within minutes.
SANDBOX_ARRIVALS = 6.0


def _start_fleet(config: Settings, count: int, arrivals: float) -> subprocess.Popen[bytes]:
    """`voltgate sim chargers` in a child process: it waits until the server is ready, runs the
    chargers the world registered (their credentials are in the state file in the data dir)
    and exits with this process."""
    command = [sys.executable, "-m", "voltgate", "sim", "chargers", "--count", str(count)]
    command += ["--server", config.issuer, "--quiet", "--parent-pid", str(os.getpid())]
    command += ["--state", str(config.data_dir / FLEET_STATE)]
    command += ["--arrival-rate", str(arrivals)]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own argv


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


SANDBOX_LOG = "sandbox.log"


def _log_to_file(config: Settings, console_level: LogLevel) -> Settings:
    """The sandbox's terminal is for what it prints: the server's log (JSON lines, a line per
    request) goes to a file in the data dir, afresh each start, and only `console_level` and
    above also to the terminal. Through the environment, since the server's workers read it."""
    path = (config.data_dir / SANDBOX_LOG).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    os.environ["VOLTGATE_LOG_FILE"] = str(path)
    os.environ["VOLTGATE_CONSOLE_LOG_LEVEL"] = console_level.value
    return settings()


_READY = """
import contextlib, sys, time, urllib.request
base, deadline = sys.argv[1], time.monotonic() + 120
while time.monotonic() < deadline:
    with contextlib.suppress(OSError), urllib.request.urlopen(base + "/readyz", timeout=1) as a:
        if a.status == 200:
            sys.exit(print(f"Ready: {base} is answering.", flush=True))
    time.sleep(0.1)
"""


def _announce_ready(base: str) -> subprocess.Popen[bytes]:
    """Say when the server answers (polling /readyz for up to 120 s). A child process, not a
    thread: the server forks its workers from this process, and a thread holding a lock (an
    import's) at that moment would leave the worker waiting on it forever."""
    return subprocess.Popen([sys.executable, "-c", _READY, base], stdin=subprocess.DEVNULL)  # noqa: S603


def sandbox(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    credentials_out: Annotated[
        Path | None, typer.Option("--credentials-out", help="Also write the credentials as JSON.")
    ] = None,
    fleet: Annotated[
        int,
        typer.Option(
            "--fleet",
            min=0,
            help="Simulated public chargers to run beside it, plus a home charger (0: none).",
        ),
    ] = SANDBOX_FLEET,
    charge_points: Annotated[
        int,
        typer.Option(
            "--charge-points",
            min=0,
            max=10_000_000,
            help="Public charge points over Europe's cities to have besides the chargers "
            "(added once: a restart with the same number adds none).",
        ),
    ] = 0,
    arrival_rate: Annotated[
        float,
        typer.Option(
            "--arrival-rate",
            min=0.0,
            help="Vehicles arriving at each idle simulated connector per hour (0: only the "
            "charging you start yourself).",
        ),
    ] = SANDBOX_ARRIVALS,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            case_sensitive=False,
            help=f"The server's log shown in this terminal: this level and above (info: every "
            f"request). The whole log (VOLTGATE_LOG_LEVEL, default info) is in <data dir>/"
            f"{SANDBOX_LOG}.",
        ),
    ] = LogLevel.WARNING,
    max_connections: MaxConnections = None,
    header_timeout: HeaderTimeout = None,
) -> None:
    """Start a sandbox on the embedded default: a believable world (an operator with sites and
    chargers, users with vehicles and a home energy site, a third-party app) kept live by
    simulated chargers; print how to use it."""
    config = _configured(host, port, max_connections, header_timeout)
    if config.environment is not Environment.SANDBOX:
        fail("`voltgate sandbox` runs only with VOLTGATE_ENVIRONMENT=sandbox")
    # Before the log is truncated and new credentials are printed: a sandbox may hold them.
    _ensure_ports_free(config, host, port)
    streaming.ensure_listener_port_free(config)
    config = _log_to_file(config, log_level)
    _configure_logging(config)
    creds = asyncio.run(_sandbox_credentials(config, fleet, charge_points))
    streaming.ensure_ca(config)
    listener = streaming.start_listener(config)  # it starts while the rest is printed
    if credentials_out is not None:
        fd = os.open(credentials_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(creds, option=orjson.OPT_INDENT_2))
        # The server's workers read their settings from the environment: the landing page
        # names this file.
        os.environ["VOLTGATE_CREDENTIALS_FILE"] = str(credentials_out.resolve())
    base, data = config.issuer, config.data_dir.resolve()
    console.print(f"[bold green]voltgate sandbox[/bold green] on {base}  (data: {data})")
    walkthrough.operator(base, creds["operator"])
    users = creds["users"]
    walkthrough.delegated_flow(base, users[0], creds["third_party_app"])
    walkthrough.telemetry(base, users[0], config.telemetry_hostname, config.telemetry_port)
    for user in users:
        if user["disabled"]:
            err_console.print(f"[yellow]warning:[/yellow] {user['email']} is disabled")
    others = ", ".join(f"{u['email']} / {u['password']}" for u in users[1:])
    if others:
        walkthrough.show(f"  Other users (same flow, their own vehicles and home site): {others}")
    first = SITES[0]
    assert first.latitude is not None and first.longitude is not None
    walkthrough.beenergised(base, creds["beenergised"], (first.latitude, first.longitude))
    walkthrough.metrics(base, config.metrics_port, data)
    walkthrough.show(f"API docs: {base}/docs  (links to everything: {base}/)")
    count = len(creds["chargers"])
    if count:
        walkthrough.show(
            f"Simulated chargers: {count} (`voltgate sim chargers`): {count - 1} public ones in "
            f"the operator's sites and {users[0]['email']}'s home charger."
        )
    shown = "every line" if log_level is LogLevel.DEBUG else f"{log_level.value} and above"
    walkthrough.show(f"Server log: {config.log_file} (here: {shown}; --log-level changes it)")
    walkthrough.show(f"Ctrl-C stops the sandbox; to start afresh, stop it and delete {data}")
    walkthrough.show(
        f"Fleet Telemetry: vehicles stream to {streaming.listener_url(config)} (`voltgate "
        "telemetry serve`, mutual TLS) as `voltgate sim vehicles`, once configured"
    )
    # "Ready" only once every listener is up: a listener that stopped stops the sandbox.
    if not streaming.wait_listening(config, listener):
        _stop(listener)
        fail(f"the Fleet Telemetry listener did not start (exit {listener.returncode}, above)")
    chargers = _start_fleet(config, count, arrival_rate) if count else None
    cars = streaming.start_vehicles(config)
    ready = _announce_ready(base)
    try:
        _run_server(config, host, port)
    finally:
        _stop(ready)
        _stop(cars)
        _stop(listener)
        if chargers is not None:
            _stop(chargers)
