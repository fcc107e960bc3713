"""The composition root: builds each area's services from Settings once (`identity`, `fleet`,
`owner`) and owns their lifecycle and the propagation of changes between processes.

Routes never reach in here: each dialect is handed the services it uses at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from voltgate.cache import build_coordinator
from voltgate.changes import PREFIX as CHANGE_PREFIX
from voltgate.changes import Changes
from voltgate.clock import Clock, SystemClock
from voltgate.config import Settings
from voltgate.contracts.connectors import CatalogueConnectors
from voltgate.db.engine import Database, head_revision
from voltgate.db.stores import SqlStateStore
from voltgate.fleettelemetry import signals
from voltgate.identity.secrets import Crypto
from voltgate.ids import unique_hex
from voltgate.metrics import Metrics
from voltgate.metrics.collector import RuntimeCollector, Sources
from voltgate.portal.repository import SqlDeveloperAppStore, SqlRevealStore, SqlUsageStore
from voltgate.portal.reveals import Reveals
from voltgate.portal.service import DeveloperApps, UsageRecorder
from voltgate.runtime.alerting import Alerting, build_alerting
from voltgate.runtime.fleet import Fleet, build_fleet
from voltgate.runtime.identity import Identity, build_identity
from voltgate.runtime.owner import Owner, build_owner
from voltgate.runtime.retail import Retail, build_retail
from voltgate.runtime.streams import Streams

log = structlog.get_logger("voltgate.runtime")


class SchemaOutdated(RuntimeError):
    pass


class Runtime:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings)
        self.crypto = Crypto(settings.master_key_bytes(), settings.environment)
        self.coordinator = build_coordinator(
            settings.redis_url,
            namespace=settings.redis_namespace or settings.environment.value,
            clock=self.clock,
        )
        self.state = SqlStateStore(self.db)
        self.data_state = SqlStateStore(self.db, "data")
        self.changes = Changes(self.coordinator, self.data_state, origin=unique_hex(8))
        self.changes.local_peers = self.db.is_sqlite  # the telemetry listener, the CLI
        self.identity: Identity = build_identity(
            settings, self.clock, self.db, self.crypto, self.coordinator, self.changed, self.changes
        )
        self.fleet: Fleet = build_fleet(
            settings,
            self.clock,
            self.db,
            self.coordinator,
            self.crypto,
            self.changes,
            self.identity,
        )
        self.owner: Owner = build_owner(
            settings, self.clock, self.db, self.changes, self.identity.partners
        )
        # Disconnecting an app removes its telemetry configs and the keys the user paired
        # (identity knows nothing of them).
        self.identity.consents.on_disconnect(self.owner.telemetry_configs.app_disconnected)
        self.identity.consents.on_disconnect(self.owner.keys.app_disconnected)
        self.retail: Retail = build_retail(
            self.clock,
            self.db,
            self.crypto,
            self.identity,
            self.fleet,
            CatalogueConnectors(self.fleet.charge_points),
        )
        identity = self.identity
        self.streams = Streams(
            settings, self.clock, self.db, identity.revocations, identity.clients
        )
        self.streams.feed_vehicles(signals.decode)
        self.alerting: Alerting = build_alerting(
            settings,
            self.clock,
            self.db,
            self.crypto,
            self.changes,
            self.identity,
            self.fleet,
            self.owner,
        )
        self.developer_apps = DeveloperApps(
            SqlDeveloperAppStore(self.db), self.identity.admin, self.clock
        )
        self.reveals = Reveals(SqlRevealStore(self.db), self.crypto, self.clock)
        self.usage = UsageRecorder(
            self.identity.usage, SqlUsageStore(self.db), self.clock, settings.usage_flush_interval
        )
        self.metrics = Metrics(settings.metrics_port)
        self.metrics.watch(
            RuntimeCollector(
                Sources(
                    token_endpoint=self.identity.token_endpoint,
                    delegation=self.identity.delegation,
                    verifier=self.identity.verifier,
                    telemetry=self.fleet.telemetry,
                    commands=self.fleet.commands,
                    command_store=self.fleet.command_store,
                    db=self.db,
                )
            )
        )
        self._generation = self._data_generation = 0
        self._poller: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[object]] = set()

    async def start(self, *, serve: bool = True) -> None:
        await self.prepare_schema()
        await self.coordinator.start()
        self.coordinator.on_broadcast(self._on_broadcast)
        self._generation = await self.state.generation()
        self._data_generation = await self.data_state.generation()
        if serve:
            self.changes.serving = True
            # Instances starting together on one database must not each create a first key.
            async with self.coordinator.lock("signing-keys", ttl=30, wait=30):
                await self.identity.keys.load()
            await self.identity.revocations.load()
            await self.changes.reload_all()
            # Chargers registered before the catalogue, or whose publishing failed, are public.
            await self.fleet.chargers.sync(await self.fleet.devices.all())
            await self.fleet.telemetry.start()
            await self.owner.links.start()
            self._poller = asyncio.create_task(self._poll_changes(), name="voltgate-changes")
            self.fleet.commands.start()
            await self.alerting.start()
            self.usage.start()
            await self.metrics.start()

    async def stop(self) -> None:
        await self.streams.stop()
        try:
            await self.usage.stop()
        except Exception:
            log.exception("usage_flush_failed")
        await self.metrics.stop()
        await self.owner.links.stop()
        await self.fleet.commands.stop()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._background):
            task.cancel()
        await self.changes.stop()
        await self.fleet.telemetry.stop()
        await self.alerting.stop()
        await self.coordinator.close()
        await self.db.dispose()

    async def prepare_schema(self) -> None:
        """The embedded default upgrades itself; a shared database is upgraded by an operator."""
        if self.db.is_sqlite:
            await self.db.upgrade()
            return
        current = await self.db.current_revision()
        if current != head_revision():
            raise SchemaOutdated(
                f"database schema is at {current or 'nothing'}, code needs {head_revision()}: "
                "run `voltgate db upgrade`"
            )

    async def changed(self, client_id: str | None) -> None:
        """An admin change: tell this process, other processes (generation) and instances (bus)."""
        self._generation = await self.state.bump()
        self.identity.clients.invalidate(client_id)
        await self.coordinator.broadcast(f"client:{client_id or '*'}")

    async def rotate_keys(self) -> str:
        keys = self.identity.keys
        kid = await keys.rotate()
        self._generation = await self.state.bump()
        await self.coordinator.broadcast("keys")
        if keys.ring is not None:
            await keys.load()
        return kid

    def _on_broadcast(self, message: str) -> None:
        if message.startswith(CHANGE_PREFIX):
            self.changes.receive(message)
            return
        kind, _, arg = message.partition(":")
        if kind == "client":
            self.identity.clients.invalidate(None if arg == "*" else arg)
        elif kind == "keys" and self.identity.keys.ring is not None:
            task = asyncio.get_running_loop().create_task(self.identity.keys.load())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def follow_changes(self) -> None:
        """Hear other processes' changes as a server does, in a process that does not serve
        (the telemetry listener)."""
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll_changes(), name="voltgate-changes")

    async def _poll_changes(self) -> None:
        """Notice changes made by another process without a shared bus (CLI on SQLite)."""
        while True:
            await asyncio.sleep(self.settings.change_poll_interval)
            try:
                generation = await self.state.generation()
                if generation != self._generation:
                    self._generation = generation
                    self.identity.clients.invalidate(None)
                    await self.identity.keys.load()
                data = await self.data_state.generation()
                # Whether a change is ours is known once our bump in flight has returned.
                if data != self._data_generation and not self.changes.bumping:
                    others = self.changes.others_between(self._data_generation, data)
                    self._data_generation = data
                    if others:  # not only this process's own writes
                        await self.changes.reload_all()
                # Telemetry configs are read by another process too (the ingest), which no
                # broadcast reaches on the embedded default: every process catches up itself.
                await self.owner.telemetry_configs.catch_up()
            except Exception:
                log.exception("change_poll_failed")
