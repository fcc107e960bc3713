"""`voltgate sim chargers`: a fleet of simulated chargers against a voltgate server.

The chargers talk to the server through the SDK only, as real ones would. With `--site` (and
no `--enrollment-token`) this command first issues, in the local deployment (the same
`VOLTGATE_*` settings as `voltgate enroll create`), an enrollment token for that site's
operator; with neither, the server must be a sandbox that accepts open registration.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from voltgate.cli.common import err_console, fail, run, settings
from voltgate.devices.schemas import EnrollmentCreate
from voltgate.fleettelemetry.ca import CertificateAuthority, CertificateError
from voltgate.observability import configure_logging
from voltgate.runtime import Runtime
from voltgate.simulator.charger import Behaviour
from voltgate.simulator.fleet import Fleet, FleetConfig
from voltgate.simulator.stats import Stats
from voltgate.simulator.streaming import StreamingFleet

app = typer.Typer(help="Simulators: chargers that report in and take commands.")
READY_TIMEOUT = 60.0


def _site_enrollment(site_id: str, count: int) -> str:
    async def work(rt: Runtime) -> str:
        site = await rt.fleet.sites.find(site_id)
        spec = EnrollmentCreate(site_id=site.id, uses=min(count, 100_000), expires_in=3600)
        _, token = await rt.fleet.enrollments.create(site.operator_id, spec, via="sim")
        return token

    return run(work)


async def _wait_ready(server: str) -> None:
    import httpx

    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            try:
                if (await http.get(server + "/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() > deadline:
                raise RuntimeError(f"{server} did not become ready in {READY_TIMEOUT:g} s")
            await asyncio.sleep(0.2)


async def _watch_parent(parent: int, server: str) -> None:
    """Stop when the process that started us (the sandbox) is gone or its server stops
    answering: a server draining its requests on shutdown must not wait for our long-polls."""
    import httpx

    misses = 0
    async with httpx.AsyncClient(timeout=1.0) as http:
        while os.getppid() == parent and misses < 2:
            await asyncio.sleep(1.0)
            try:
                await http.get(server + "/healthz")
                misses = 0
            except httpx.TransportError:
                misses += 1


async def _simulate(
    config: FleetConfig, duration: float | None, quiet: bool, parent: int | None
) -> Stats:
    def progress(stats: Stats) -> None:
        if not quiet:
            err_console.print(f"sim: {stats.summary()}", markup=False, soft_wrap=True)

    await _wait_ready(config.server)
    async with Fleet(config) as fleet:
        await fleet.register()
        err_console.print(
            f"sim: {len(fleet.chargers)} chargers reporting to {config.server}",
            markup=False,
        )
        running = asyncio.create_task(fleet.run(duration, progress))
        watchers: list[asyncio.Task[Any]] = [running]
        if parent is not None:
            watchers.append(asyncio.create_task(_watch_parent(parent, config.server)))
        await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        return fleet.stats


@app.command()
def chargers(
    count: Annotated[int, typer.Option("--count", min=1, max=100_000, help="Chargers.")] = 10,
    server: Annotated[str, typer.Option("--server", help="Base URL.")] = "http://127.0.0.1:8000",
    site: Annotated[
        str | None,
        typer.Option("--site", help="Register into this site (issues a local enrollment token)."),
    ] = None,
    enrollment_token: Annotated[
        str | None, typer.Option("--enrollment-token", help="Register with this token.")
    ] = None,
    fault_rate: Annotated[
        float, typer.Option("--fault-rate", min=0.0, help="Faults per charger per hour.")
    ] = 0.5,
    arrival_rate: Annotated[
        float,
        typer.Option("--arrival-rate", min=0.0, help="Vehicles per idle connector per hour."),
    ] = 1.0,
    duration: Annotated[
        float | None, typer.Option("--duration", min=1.0, help="Seconds; default: until Ctrl-C.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Keep the chargers' credentials here and re-use them."),
    ] = None,
    sign: Annotated[bool, typer.Option("--sign", help="Sign every request (X-Signature).")] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress lines.")] = False,
    parent_pid: Annotated[
        int | None, typer.Option("--parent-pid", hidden=True, help="Exit with this process.")
    ] = None,
) -> None:
    """Run COUNT simulated chargers: sessions, telemetry every 5 s, heartbeats, faults, and
    the operator's commands carried out. Exits 1 if any call failed."""
    if site is not None and enrollment_token is not None:
        fail("--site and --enrollment-token exclude each other: the token decides the site")
    if site is not None:
        enrollment_token = _site_enrollment(site, count)
    config = FleetConfig(
        server=server.rstrip("/"),
        count=count,
        enrollment_token=enrollment_token,
        behaviour=Behaviour(fault_rate=fault_rate, arrival_rate=arrival_rate),
        state=state,
        seed=seed,
        sign=sign,
    )
    try:
        stats = asyncio.run(_simulate(config, duration, quiet, parent_pid))
    except KeyboardInterrupt:
        return
    except RuntimeError as exc:
        fail(str(exc))
    err_console.print(f"sim: done: {stats.summary()}", markup=False, soft_wrap=True)
    for line in stats.recent_errors:
        err_console.print(f"sim: error: {line}", markup=False, soft_wrap=True)
    if stats.error_count:
        sys.exit(1)


@app.command()
def vehicles(
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The telemetry listener (default: wss://VOLTGATE_TELEMETRY_HOSTNAME:"
            "VOLTGATE_TELEMETRY_PORT/).",
        ),
    ] = None,
    tick: Annotated[float, typer.Option("--tick", min=0.1, help="Seconds between looks.")] = 1.0,
    duration: Annotated[
        float | None, typer.Option("--duration", min=1.0, help="Seconds; default: until Ctrl-C.")
    ] = None,
    parent_pid: Annotated[
        int | None, typer.Option("--parent-pid", hidden=True, help="Exit with this process.")
    ] = None,
) -> None:
    """Run every stored vehicle as a car streaming Fleet Telemetry: while awake each keeps a
    mutual-TLS WebSocket to the listener (a certificate from the vehicles' CA) and sends what
    its configuration asks for; asleep, it says goodbye."""
    config = settings()
    # As the listener logs (the sandbox sends both to its log file; the terminal shows warnings).
    configure_logging(
        config.log_level, file=config.log_file, console_level=config.console_log_level
    )
    target = url or f"wss://{config.telemetry_hostname}:{config.telemetry_port}/"
    try:
        authority = CertificateAuthority.open(
            config.resolved_telemetry_ca_dir, config.master_key_bytes()
        )
    except (CertificateError, RuntimeError) as exc:
        fail(str(exc))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        if duration is not None:
            loop.call_later(duration, stop.set)
        watch = None if parent_pid is None else loop.create_task(_orphaned(parent_pid, stop))
        fleet = StreamingFleet(config, target, authority)
        err_console.print(f"sim: vehicles streaming to {target}", markup=False)
        await fleet.run(stop, tick)
        if watch is not None:
            watch.cancel()

    asyncio.run(main())


async def _orphaned(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    stop.set()
