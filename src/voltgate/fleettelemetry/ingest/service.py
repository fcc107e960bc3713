"""The ingest assembled from Settings: its store and batcher on the database, the CA's TLS
context with a listener certificate issued at start, the allow-list, the limits."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import structlog

from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry.ca import CertificateAuthority, server_context
from voltgate.fleettelemetry.ingest.batcher import Batcher
from voltgate.fleettelemetry.ingest.configs import ListenerConfigs
from voltgate.fleettelemetry.ingest.listener import Configs, Limits, Listener
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore

log = structlog.get_logger("voltgate.fleettelemetry")


@dataclass
class Ingest:
    listener: Listener
    batcher: Batcher
    port: int = 0

    async def stop(self) -> None:
        await self.listener.stop()


def instance_name(settings: Settings) -> str:
    return settings.telemetry_instance or f"{socket.gethostname()}:{settings.telemetry_port}"


async def start_ingest(
    settings: Settings,
    authority: CertificateAuthority,
    configs: Configs,
    db: Database,
) -> Ingest:
    """Listening on `settings.telemetry_host:telemetry_port` (0: any free port, see `.port`)."""
    store = SqlIngestStore(db)
    batcher = Batcher(store, depth=1 if db.is_sqlite else 2)
    cert, key = authority.issue_server(settings.telemetry_hostname)
    listener = Listener(
        store,
        batcher,
        server_context(authority.cert_pem, cert, key),
        configs,
        Limits(
            settings.telemetry_rate_messages,
            settings.telemetry_rate_interval,
            settings.telemetry_in_flight,
        ),
        instance_name(settings),
    )
    port = await listener.start(settings.telemetry_host, settings.telemetry_port)
    return Ingest(listener, batcher, port)


async def serve_ingest(settings: Settings, stop: asyncio.Event) -> None:
    """`voltgate telemetry serve`: the listener over the runtime's configurations and database
    until `stop` is set; then every socket is closed and what waits is written."""
    from voltgate.runtime import Runtime  # the whole runtime only for the command

    runtime = Runtime(settings)
    await runtime.start(serve=False)
    try:
        authority = CertificateAuthority.open(
            settings.resolved_telemetry_ca_dir, settings.master_key_bytes()
        )
        configs = ListenerConfigs(runtime.owner.telemetry_configs)
        ingest = await start_ingest(settings, authority, configs, runtime.db)
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
