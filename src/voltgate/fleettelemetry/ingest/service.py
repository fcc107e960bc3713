"""The ingest assembled from Settings: its store and batcher (on the database, or on NATS
JetStream when `nats_url` is set), the CA's TLS context with a listener certificate issued at
start, the allow-list, the limits."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry.bus import Bus, JetStreamStore
from voltgate.fleettelemetry.ca import CertificateAuthority, server_context
from voltgate.fleettelemetry.ingest.batcher import Batcher, Pending
from voltgate.fleettelemetry.ingest.listener import Configs, Limits, Listener
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.store import Committed

log = structlog.get_logger("voltgate.fleettelemetry")
# Batches waiting for their PubAcks at once on the scale path (a publish costs the database
# nothing, so more than one batch in flight only adds throughput).
_BUS_DEPTH = 4


@dataclass
class Ingest:
    listener: Listener
    batcher: Batcher
    port: int = 0
    bus: Bus | None = None

    async def stop(self) -> None:
        try:
            await self.listener.stop()
        finally:
            if self.bus is not None:
                await self.bus.close()


def instance_name(settings: Settings) -> str:
    return settings.telemetry_instance or f"{socket.gethostname()}:{settings.telemetry_port}"


async def start_ingest(
    settings: Settings,
    authority: CertificateAuthority,
    configs: Configs,
    db: Database,
    committed: Committed | None = None,
) -> Ingest:
    """Listening on `settings.telemetry_host:telemetry_port` (0: any free port, see `.port`);
    `committed(stored)` hears the messages of each batch once stored (resends left out). On
    the scale path (`nats_url`) a message is acknowledged once the stream stored it, and
    `committed` is not called: the writers commit, and feed the alert rules."""
    store = SqlIngestStore(db)
    bus: Bus | None = None
    if settings.nats_url:
        bus = await Bus.connect(settings)
        publisher = JetStreamStore(bus, store, settings.nats_publish_timeout)
        try:
            await bus.ensure_stream()
            await publisher.start()
        except BaseException:
            await bus.close()
            raise
        batcher = Batcher(publisher, _BUS_DEPTH)
        log.info("telemetry_bus", stream=bus.stream, subjects=f"{bus.prefix}.>")
    else:

        def stored(batch: Sequence[Pending], fresh: list[bool]) -> None:
            if committed is not None:
                news = zip(batch, fresh, strict=True)
                committed([p.message for p, new in news if new])

        batcher = Batcher(store, depth=1 if db.is_sqlite else 2, committed=stored)
    try:
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
    except BaseException:
        if bus is not None:
            await bus.close()
        raise
    return Ingest(listener, batcher, port, bus)
