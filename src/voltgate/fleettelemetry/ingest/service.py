"""The ingest assembled from Settings: its store and batcher on the database, the CA's TLS
context with a listener certificate issued at start, the allow-list, the limits."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry.ca import CertificateAuthority, server_context
from voltgate.fleettelemetry.ingest.batcher import Batcher, Pending
from voltgate.fleettelemetry.ingest.listener import Configs, Limits, Listener
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.store import Signal


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
    committed: Callable[[Sequence[Signal]], None] | None = None,
) -> Ingest:
    """Listening on `settings.telemetry_host:telemetry_port` (0: any free port, see `.port`);
    `committed(signals)` hears the signals of each batch once stored (resends left out)."""
    store = SqlIngestStore(db)

    def stored(batch: Sequence[Pending], fresh: list[bool]) -> None:
        if committed is not None:
            committed([s for p, new in zip(batch, fresh, strict=True) if new for s in p.signals])

    batcher = Batcher(store, depth=1 if db.is_sqlite else 2, committed=stored)
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
