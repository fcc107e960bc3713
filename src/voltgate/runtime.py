"""The composition root: builds every service from Settings once and owns their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from voltgate.cache import build_coordinator
from voltgate.charging.repository import SqlChargingStore
from voltgate.charging.service import Charging
from voltgate.clock import Clock, SystemClock
from voltgate.commands.levels import TelemetryLevels
from voltgate.commands.repository import SqlCommandStore, SqlConnectorStates
from voltgate.commands.service import Commands
from voltgate.config import Environment, Settings
from voltgate.db.consent import SqlConsentStore
from voltgate.db.delegation import SqlDelegationStore, SqlPartnerStore, SqlUserStore
from voltgate.db.engine import Database
from voltgate.db.signing_modes import SqlSigningModeStore
from voltgate.db.stores import (
    SqlAuditStore,
    SqlClientStore,
    SqlKeyStore,
    SqlRevocationStore,
    SqlStateStore,
)
from voltgate.devices.enrollment import Enrollments, SandboxOperator
from voltgate.devices.repository import SqlDeviceStore, SqlEnrollmentStore
from voltgate.devices.service import Devices
from voltgate.energy.repository import SqlEnergySiteStore
from voltgate.energy.service import EnergySites
from voltgate.identity.admin import ClientAdmin
from voltgate.identity.audit import AuditLog
from voltgate.identity.client_auth import ClientAuthenticator
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.consent import Consents
from voltgate.identity.delegation import Delegation, DelegationPolicy
from voltgate.identity.endpoints import (
    IntrospectionEndpoint,
    RateLimiter,
    RevocationEndpoint,
    TokenEndpoint,
)
from voltgate.identity.grants.authorization_code import AuthorizationCodeGrant
from voltgate.identity.grants.client_credentials import ClientCredentialsGrant
from voltgate.identity.grants.refresh_token import RefreshTokenGrant
from voltgate.identity.guard import BearerGuard
from voltgate.identity.keys import KeyManager
from voltgate.identity.oidc import IdTokens
from voltgate.identity.partners import Partners
from voltgate.identity.revocation import Revocations
from voltgate.identity.secrets import Crypto
from voltgate.identity.signing import RequestVerifier
from voltgate.identity.tokens import TokenService
from voltgate.identity.users import Users
from voltgate.sites.repository import SqlSiteStore
from voltgate.sites.service import Sites
from voltgate.telemetry.repository import SqlTelemetryStore
from voltgate.telemetry.service import Telemetry
from voltgate.vehicles.physics import Policy as VehiclePolicy
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.service import Vehicles

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
        self.clients = ClientRegistry(SqlClientStore(self.db), self.clock)
        self.audit = AuditLog(SqlAuditStore(self.db), self.clock, settings.audit_flush_interval)
        self.keys = KeyManager(
            SqlKeyStore(self.db),
            self.crypto.envelope,
            self.clock,
            settings.max_access_token_ttl,
            settings.clock_skew,
        )
        self.tokens = TokenService(settings, self.keys, self.clock)
        self.delegation_store = SqlDelegationStore(self.db)
        self.revocations = Revocations(
            SqlRevocationStore(self.db),
            self.delegation_store,
            self.coordinator,
            self.tokens,
            self.clock,
            settings.clock_skew,
            settings.max_access_token_ttl,
        )
        self.users = Users(SqlUserStore(self.db), self.coordinator, self.clock)
        self.partners = Partners(SqlPartnerStore(self.db), self.clock)
        self.delegation = Delegation(
            self.delegation_store,
            self.crypto,
            self.clock,
            self.tokens,
            self.revocations,
            self.coordinator,
            self.audit,
            DelegationPolicy(
                refresh_ttl=settings.refresh_token_ttl,
                grace=settings.refresh_grace_seconds,
                max_access_ttl=settings.max_access_token_ttl,
            ),
            IdTokens(self.keys, self.users, self.clock, settings.issuer),
        )
        self.consents = Consents(SqlConsentStore(self.db), self.revocations, self.audit, self.clock)
        self.admin = ClientAdmin(
            SqlClientStore(self.db),
            self.crypto,
            self.clock,
            settings.max_access_token_ttl,
            self.changed,
            self.audit,
            SqlSigningModeStore(self.db),
        )
        # Operator inventory and chargers (issue 4).
        self.sites = Sites(SqlSiteStore(self.db), self.clock)
        sandbox = settings.environment is Environment.SANDBOX
        self.enrollments = Enrollments(
            SqlEnrollmentStore(self.db),
            self.sites,
            self.clients,
            self.crypto,
            self.clock,
            self.audit,
            SandboxOperator(self.admin, self.clients, self.coordinator) if sandbox else None,
        )
        self.devices = Devices(
            SqlDeviceStore(self.db), self.enrollments, self.admin, self.clock, self.audit
        )
        self.telemetry = Telemetry(
            SqlTelemetryStore(self.db),
            self.devices,
            self.clock,
            interval=settings.telemetry_flush_interval,
            max_pending=settings.telemetry_max_pending,
            raw_retention=settings.telemetry_raw_retention_days * 86_400.0,
            rollup_retention=settings.telemetry_rollup_retention_days * 86_400.0,
        )
        self.charging = Charging(
            SqlChargingStore(self.db),
            self.devices,
            self.clock,
            self.telemetry.heard_from,
            self.sites,
        )
        self.commands = Commands(
            SqlCommandStore(self.db),
            SqlConnectorStates(self.db),
            self.devices,
            self.sites,
            self.coordinator,
            self.clock,
            self.audit,
            levels=(TelemetryLevels(self.telemetry),),
        )
        # A user's home energy sites (issue 5).
        self.energy = EnergySites(SqlEnergySiteStore(self.db), self.clock)
        # A user's vehicles (issue 5, Tesla dialect).
        self.vehicles = Vehicles(
            SqlVehicleStore(self.db),
            self.clock,
            VehiclePolicy(settings.vehicle_sleep_after, settings.vehicle_wake_seconds),
        )
        self.verifier = RequestVerifier(self.crypto.envelope, self.coordinator, self.clock)
        self.guard = BearerGuard(self.tokens, self.revocations, self.clients, self.keys)
        authenticator = ClientAuthenticator(self.clients, self.crypto, self.clock, self.audit)
        self.token_endpoint = TokenEndpoint(authenticator, RateLimiter(self.coordinator, settings))
        for grant in (
            ClientCredentialsGrant(self.tokens, self.audit, settings.max_access_token_ttl),
            AuthorizationCodeGrant(self.delegation),
            RefreshTokenGrant(self.delegation),
        ):
            self.token_endpoint.register(grant)
        self.revocation_endpoint = RevocationEndpoint(
            authenticator, self.tokens, self.revocations, self.audit, self.delegation
        )
        self.introspection_endpoint = IntrospectionEndpoint(
            authenticator,
            self.tokens,
            self.revocations,
            self.clients,
            self.clock,
            self.delegation,
        )
        self._generation = 0
        self._poller: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def start(self, *, serve: bool = True) -> None:
        await self.prepare_schema()
        await self.coordinator.start()
        self.coordinator.on_broadcast(self._on_broadcast)
        self._generation = await self.state.generation()
        if serve:
            # Instances starting together on one database must not each create a first key.
            async with self.coordinator.lock("signing-keys", ttl=30, wait=30):
                await self.keys.load()
            await self.revocations.load()
            await self.audit.start()
            await self.telemetry.start()
            self._poller = asyncio.create_task(self._poll_changes(), name="voltgate-changes")
            self.commands.start()

    async def stop(self) -> None:
        await self.commands.stop()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._background):
            task.cancel()
        await self.telemetry.stop()
        await self.audit.stop()
        await self.coordinator.close()
        await self.db.dispose()

    async def prepare_schema(self) -> None:
        """The embedded default upgrades itself; a shared database is upgraded by an operator."""
        if self.db.is_sqlite:
            await self.db.upgrade()
            return
        from voltgate.db.engine import head_revision

        current = await self.db.current_revision()
        if current != head_revision():
            raise SchemaOutdated(
                f"database schema is at {current or 'nothing'}, code needs {head_revision()}: "
                "run `voltgate db upgrade`"
            )

    async def changed(self, client_id: str | None) -> None:
        """An admin change: tell this process, other processes (generation) and instances (bus)."""
        self._generation = await self.state.bump()
        self.clients.invalidate(client_id)
        await self.coordinator.broadcast(f"client:{client_id or '*'}")

    async def rotate_keys(self) -> str:
        kid = await self.keys.rotate()
        self._generation = await self.state.bump()
        await self.coordinator.broadcast("keys")
        if self.keys.ring is not None:
            await self.keys.load()
        return kid

    def _on_broadcast(self, message: str) -> None:
        kind, _, arg = message.partition(":")
        if kind == "client":
            self.clients.invalidate(None if arg == "*" else arg)
        elif kind == "cmd":
            self.commands.wake(arg)
        elif kind == "keys" and self.keys.ring is not None:
            task = asyncio.get_running_loop().create_task(self._reload_keys())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _reload_keys(self) -> None:
        await self.keys.load()

    async def _poll_changes(self) -> None:
        """Notice changes made by another process without a shared bus (CLI on SQLite)."""
        while True:
            await asyncio.sleep(self.settings.change_poll_interval)
            try:
                generation = await self.state.generation()
                if generation != self._generation:
                    self._generation = generation
                    self.clients.invalidate(None)
                    await self.keys.load()
            except Exception:
                log.exception("change_poll_failed")
