"""The alerting area: alert rules and their evaluator, webhook endpoints and the delivery
worker. The evaluator is fed charger telemetry here (the telemetry service's listener); the
vehicle ingest calls `alerts.observe` after each durable batch."""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.alerts.audience import Audience
from voltgate.alerts.evaluator import Engine
from voltgate.alerts.readmodel import RuleReadModel
from voltgate.alerts.repository import SqlAlertStore
from voltgate.alerts.service import Alerts
from voltgate.alerts.store import StoredAlert
from voltgate.changes import Changes
from voltgate.clock import Clock
from voltgate.config import Environment, Settings
from voltgate.db.engine import Database
from voltgate.identity.secrets import Crypto
from voltgate.ids import unique_hex
from voltgate.runtime.fleet import Fleet
from voltgate.runtime.identity import Identity
from voltgate.runtime.owner import Owner
from voltgate.webhooks.readmodel import EndpointReadModel
from voltgate.webhooks.repository import SqlWebhookStore
from voltgate.webhooks.service import Webhooks
from voltgate.webhooks.worker import Deliverer

_DEVICE_DATA = ("vehicle_device_data",)


@dataclass(frozen=True, slots=True)
class Alerting:
    alerts: Alerts
    rules: RuleReadModel
    webhooks: Webhooks
    endpoints: EndpointReadModel
    deliverer: Deliverer

    async def start(self) -> None:
        await self.start_evaluator()
        await self.endpoints.load()
        self.deliverer.start()

    async def start_evaluator(self) -> None:
        """The rules evaluated on what is submitted, without delivering (the telemetry
        listener's process: the servers deliver what it stores)."""
        await self.rules.load()
        self.alerts.engine.start()

    async def stop(self) -> None:
        await self.alerts.engine.stop()  # evaluates what was submitted, saves the states
        await self.deliverer.stop()


def build_alerting(
    settings: Settings,
    clock: Clock,
    db: Database,
    crypto: Crypto,
    changes: Changes,
    identity: Identity,
    fleet: Fleet,
    owner: Owner,
) -> Alerting:
    sql = SqlAlertStore(db)
    rules = RuleReadModel(sql, changes)

    async def operator_of(device_id: str) -> str | None:
        device = await fleet.devices.find(device_id)
        return None if device is None else device.operator_id

    async def consented(user_id: str, client_id: str) -> bool:
        return await identity.consents.covers(user_id, client_id, _DEVICE_DATA)

    hooks = SqlWebhookStore(db)
    endpoints = EndpointReadModel(hooks, changes)
    webhooks = Webhooks(
        endpoints,
        hooks,
        crypto,
        clock,
        sandbox=settings.environment is Environment.SANDBOX,
        max_endpoints=settings.webhook_max_endpoints,
        overlap=settings.webhook_rotation_overlap,
    )
    deliverer = Deliverer(
        hooks,
        webhooks,
        clock,
        owner=unique_hex(8),
        max_attempts=settings.webhook_max_attempts,
        backoff_base=settings.webhook_backoff_base,
        backoff_max=settings.webhook_backoff_max,
        timeout=settings.webhook_timeout,
        poll_interval=settings.webhook_poll_interval,
        lease_seconds=settings.webhook_lease_seconds,
    )
    webhooks.on_pending.append(deliverer.wake)

    def fired(_alerts: list[StoredAlert]) -> None:
        deliverer.wake()

    engine = Engine(
        rules,
        sql,
        Audience(owner.vehicles.owner_of, consented, operator_of),
        clock,
        flush_seconds=settings.alert_state_flush_seconds,
        idle_seconds=settings.alert_state_idle_seconds,
        on_fired=(fired,),
    )
    fleet.telemetry.listen(engine.readings)
    alerts = Alerts(rules, sql, engine, clock, max_rules=settings.alert_max_rules)
    return Alerting(alerts, rules, webhooks, endpoints, deliverer)
