"""The fleet area: an operator's sites and chargers, their enrollment, telemetry, charging
records and commands."""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.cache.port import Coordinator
from voltgate.changes import Changes
from voltgate.chargepoints.chargers import ChargerPoints
from voltgate.chargepoints.repository import SqlChargePointStore
from voltgate.chargepoints.service import ChargePoints
from voltgate.charging.repository import SqlChargingStore
from voltgate.charging.service import Charging
from voltgate.clock import Clock
from voltgate.commands.levels import TelemetryLevels
from voltgate.commands.readmodel import CommandReadModel
from voltgate.commands.repository import SqlCommandStore, SqlConnectorStates
from voltgate.commands.service import Commands
from voltgate.config import Environment, Settings
from voltgate.db.engine import Database
from voltgate.devices.enrollment import Enrollments, SandboxOperator
from voltgate.devices.readmodel import DeviceReadModel
from voltgate.devices.repository import SqlDeviceStore, SqlEnrollmentStore
from voltgate.devices.service import Devices
from voltgate.identity.secrets import Crypto
from voltgate.runtime.identity import Identity
from voltgate.sites.readmodel import SiteReadModel
from voltgate.sites.repository import SqlSiteStore
from voltgate.sites.service import Sites
from voltgate.telemetry.latest import LatestReadings
from voltgate.telemetry.repository import SqlTelemetryStore
from voltgate.telemetry.service import Telemetry


@dataclass(frozen=True, slots=True)
class Fleet:
    sites: Sites
    enrollments: Enrollments
    devices: Devices
    telemetry: Telemetry
    charging: Charging
    commands: Commands
    command_store: CommandReadModel  # its counts, for metrics
    charge_points: ChargePoints
    chargers: ChargerPoints  # the chargers as charge points (published, statuses followed)


def build_fleet(
    settings: Settings,
    clock: Clock,
    db: Database,
    coordinator: Coordinator,
    crypto: Crypto,
    changes: Changes,
    identity: Identity,
) -> Fleet:
    sites = Sites(SiteReadModel(SqlSiteStore(db), changes), clock)
    sandbox = settings.environment is Environment.SANDBOX
    enrollments = Enrollments(
        SqlEnrollmentStore(db),
        sites,
        identity.clients,
        crypto,
        clock,
        identity.audit,
        SandboxOperator(identity.admin, identity.clients, coordinator) if sandbox else None,
    )
    charge_points = ChargePoints(SqlChargePointStore(db), changes)

    async def operator_name(operator_id: str) -> str:
        client = await identity.clients.get(operator_id)
        return operator_id if client is None else client.name

    chargers = ChargerPoints(charge_points, sites, operator_name, clock)
    device_store = DeviceReadModel(SqlDeviceStore(db), changes)
    devices = Devices(
        device_store,
        enrollments,
        identity.admin,
        clock,
        identity.audit,
        listeners=(chargers.published,),
    )
    telemetry_store = SqlTelemetryStore(db)
    telemetry = Telemetry(
        telemetry_store,
        devices,
        clock,
        LatestReadings(telemetry_store, changes),
        max_pending=settings.telemetry_max_pending,
        raw_retention=settings.telemetry_raw_retention_days * 86_400.0,
        rollup_retention=settings.telemetry_rollup_retention_days * 86_400.0,
        listeners=(chargers.readings,),
    )
    charging = Charging(SqlChargingStore(db), devices, clock, telemetry.heard_from, sites, changes)
    command_store = CommandReadModel(SqlCommandStore(db), changes, clock)
    commands = Commands(
        command_store,
        SqlConnectorStates(db),
        devices,
        sites,
        clock,
        identity.audit,
        levels=(TelemetryLevels(telemetry),),
    )
    return Fleet(
        sites,
        enrollments,
        devices,
        telemetry,
        charging,
        commands,
        command_store,
        charge_points,
        chargers,
    )
