"""`voltgate telemetry serve` (the vehicles' listener), `voltgate telemetry writer` (the scale
path's writers, from NATS JetStream into the database) and `voltgate telemetry ca
init|issue|server` (the vehicles' CA)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import structlog
import typer
from cryptography.hazmat.primitives import hashes

from voltgate.cli.common import console, emit_json, fail, settings
from voltgate.cli.ports import ensure_free
from voltgate.config import Settings
from voltgate.fleettelemetry.alerting import rules_feed
from voltgate.fleettelemetry.ca import (
    CA_CERT_FILE,
    CertificateAuthority,
    CertificateError,
    check_vin,
    create_file,
)
from voltgate.fleettelemetry.ingest.configs import ListenerConfigs
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.service import start_ingest
from voltgate.fleettelemetry.writer import run_writer
from voltgate.observability import configure_logging
from voltgate.runtime import Runtime

log = structlog.get_logger("voltgate.fleettelemetry")
app = typer.Typer(help="Fleet Telemetry: vehicles streaming over mutual TLS.", no_args_is_help=True)
ca_app = typer.Typer(help="The vehicles' certificate authority.", no_args_is_help=True)
app.add_typer(ca_app, name="ca")

CaDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="The CA's directory (default: VOLTGATE_TELEMETRY_CA_DIR, else telemetry-ca in the "
        "data directory).",
    ),
]
Out = Annotated[
    Path, typer.Option("--out", help="Where to write the certificate (.pem) and its key (.key).")
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _master_key() -> bytes:
    try:
        return settings().master_key_bytes()
    except RuntimeError as exc:
        fail(str(exc))


def _directory(directory: Path | None) -> Path:
    return directory or settings().resolved_telemetry_ca_dir


def _open(directory: Path | None) -> CertificateAuthority:
    try:
        return CertificateAuthority.open(_directory(directory), _master_key())
    except CertificateError as exc:
        fail(str(exc))


def _save(out: Path, stem: str, cert: bytes, key: bytes) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out / f"{stem}.pem", out / f"{stem}.key"
    for path in (cert_path, key_path):
        if path.exists():
            fail(f"{path} exists already: remove it or choose another --out")
    create_file(key_path, key, 0o600)
    create_file(cert_path, cert, 0o644)
    return cert_path, key_path


def _report(as_json: bool, subject: str, cert: Path, key: Path, ca: CertificateAuthority) -> None:
    ca_path = ca.directory / CA_CERT_FILE
    if as_json:
        emit_json({"subject": subject, "cert": str(cert), "key": str(key), "ca": str(ca_path)})
        return
    console.print(f"{subject}: certificate {cert}, key {key} (mode 0600)")
    console.print(f"the CA's certificate, which verifies it: {ca_path}")


@ca_app.command("init")
def init(directory: CaDir = None, as_json: Json = False) -> None:
    """Make the CA (EC P-256, 10 years); its key is encrypted under the master key."""
    path = _directory(directory)
    try:
        ca = CertificateAuthority.init(path, _master_key())
    except CertificateError as exc:
        fail(str(exc))
    fingerprint = ca.cert.fingerprint(hashes.SHA256()).hex(":")
    if as_json:
        emit_json({"dir": str(path), "ca": str(path / CA_CERT_FILE), "sha256": fingerprint})
        return
    console.print(f"CA created in {path}")
    console.print(f"certificate {path / CA_CERT_FILE}, SHA-256 {fingerprint}")


@ca_app.command("issue")
def issue(
    vin: Annotated[str, typer.Argument(help="The vehicle's VIN: the certificate's CN.")],
    out: Out = Path("."),
    directory: CaDir = None,
    as_json: Json = False,
) -> None:
    """Issue a vehicle's client certificate (CN = VIN, clientAuth, 1 year) as VIN.pem and
    VIN.key."""
    try:
        vin = check_vin(vin)
    except CertificateError as exc:
        fail(str(exc))
    ca = _open(directory)
    cert_path, key_path = _save(out, vin, *ca.issue_vehicle(vin))
    _report(as_json, vin, cert_path, key_path, ca)


@ca_app.command("server")
def server(
    hostname: Annotated[str, typer.Argument(help="The listener's host name or IP address.")],
    out: Out = Path("."),
    directory: CaDir = None,
    as_json: Json = False,
) -> None:
    """Issue the listener's certificate (serverAuth, 1 year; valid for HOSTNAME, localhost and
    127.0.0.1) as HOSTNAME.pem and HOSTNAME.key."""
    ca = _open(directory)
    try:
        cert, key = ca.issue_server(hostname)
    except CertificateError as exc:
        fail(str(exc))
    cert_path, key_path = _save(out, hostname, cert, key)
    _report(as_json, hostname, cert_path, key_path, ca)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option("--host", help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (0: any free one).")] = None,
) -> None:
    """Listen for vehicles streaming Fleet Telemetry (WebSockets over mutual TLS with
    certificates from the vehicles' CA); each message is acknowledged once stored (in the
    database, or with VOLTGATE_NATS_URL in NATS JetStream, for the writers). Stops on
    SIGINT / SIGTERM after closing the sockets and writing what waits."""
    config = settings()
    updates: dict[str, object] = {}
    if host is not None:
        updates["telemetry_host"] = host
    if port is not None:
        updates["telemetry_port"] = port
    config = config.model_copy(update=updates)
    moved_by = "--port or VOLTGATE_TELEMETRY_PORT moves it"
    ensure_free(config.telemetry_host, config.telemetry_port, moved_by)
    configure_logging(
        config.log_level, file=config.log_file, console_level=config.console_log_level
    )
    # websockets logs every handshake, refusal and close at info: each is a connectivity record
    # already (a vehicle without a configuration asks again every few seconds).
    logging.getLogger("websockets").setLevel(logging.WARNING)
    _run_until_signal(config, serve_ingest)


def _run_until_signal(
    config: Settings, work: Callable[[Settings, asyncio.Event], Awaitable[None]]
) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stop.set)
        await work(config, stop)

    try:
        asyncio.run(main())
    except (CertificateError, RuntimeError) as exc:
        fail(str(exc))


async def serve_ingest(settings: Settings, stop: asyncio.Event) -> None:
    """`voltgate telemetry serve`: the listener over the runtime's configurations and database
    until `stop` is set; then every socket is closed and what waits is written."""
    runtime = Runtime(settings)
    await runtime.start(serve=False)
    runtime.follow_changes()  # configurations and alert rules written by the servers
    alerting = runtime.alerting
    await alerting.start_evaluator()
    try:
        authority = CertificateAuthority.open(
            settings.resolved_telemetry_ca_dir, settings.master_key_bytes()
        )
        configs = ListenerConfigs(runtime.owner.telemetry_configs)
        # The alert rules, on what was stored; on the scale path the writers feed them.
        evaluate = None if settings.nats_url else rules_feed(alerting.alerts.engine)
        ingest = await start_ingest(settings, authority, configs, runtime.db, evaluate)
        log.info(
            "telemetry_listening",
            address=f"wss://{settings.telemetry_hostname}:{ingest.port}",
            instance=ingest.listener.instance,
        )
        try:
            await stop.wait()
        finally:
            await ingest.stop()
    finally:
        await runtime.stop()


@app.command()
def writer() -> None:
    """On the scale path (VOLTGATE_NATS_URL): move the vehicles' messages from NATS JetStream
    into the database, acknowledging each batch to the stream after its commit, and evaluate
    the alert rules on them. Run one or more beside the listeners; a writer that stops or dies
    leaves the rest to the others or to its restart. Stops on SIGINT / SIGTERM after the batch
    in hand."""
    config = settings()
    if not config.nats_url:
        fail("the writer needs VOLTGATE_NATS_URL (without it the listener writes by itself)")
    configure_logging(
        config.log_level, file=config.log_file, console_level=config.console_log_level
    )
    _run_until_signal(config, serve_writer)


async def serve_writer(settings: Settings, stop: asyncio.Event) -> None:
    """`voltgate telemetry writer`: one writer over the runtime's database, feeding its alert
    rules, until `stop` is set."""
    runtime = Runtime(settings)
    await runtime.start(serve=False)
    runtime.follow_changes()  # alert rules written by the servers
    alerting = runtime.alerting
    await alerting.start_evaluator()
    try:
        store = SqlIngestStore(runtime.db)
        done = await run_writer(settings, store, stop, rules_feed(alerting.alerts.engine))
        log.info("telemetry_writer_stopped", messages=done.messages, batches=done.batches)
    finally:
        await runtime.stop()
