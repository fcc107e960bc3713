"""The owner area: a user's vehicles, the telemetry configs apps set on them, the apps' virtual
keys paired with them, and home energy sites, read from memory (read models over their SQL
stores)."""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.changes import Changes
from voltgate.clock import Clock
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.energy.readmodel import EnergySiteReadModel
from voltgate.energy.repository import SqlEnergySiteStore
from voltgate.energy.service import EnergySites
from voltgate.fleettelemetry.configs.readmodel import ConfigReadModel
from voltgate.fleettelemetry.configs.repository import SqlConfigStore
from voltgate.fleettelemetry.configs.service import TelemetryConfigs
from voltgate.fleettelemetry.ingest.links import ConnectivityLinks
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.identity.partners import Partners
from voltgate.vehicles.physics import Policy
from voltgate.vehicles.readmodel import VehicleReadModel
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.service import Vehicles
from voltgate.vehicles.signed import VehicleKeys
from voltgate.virtualkeys.readmodel import PairingReadModel
from voltgate.virtualkeys.repository import SqlPairingStore
from voltgate.virtualkeys.service import VirtualKeys


@dataclass(frozen=True, slots=True)
class Owner:
    vehicles: Vehicles
    energy: EnergySites
    links: ConnectivityLinks  # vehicles' streaming connections, followed in memory
    telemetry_configs: TelemetryConfigs
    keys: VirtualKeys  # the apps' keys paired with the vehicles


def build_owner(
    settings: Settings, clock: Clock, db: Database, changes: Changes, partners: Partners
) -> Owner:
    links = ConnectivityLinks(SqlIngestStore(db))
    vehicles = Vehicles(
        VehicleReadModel(SqlVehicleStore(db), changes),
        clock,
        Policy(settings.vehicle_sleep_after, settings.vehicle_wake_seconds),
        links,
        keys=VehicleKeys(settings.master_key_bytes()),
    )
    keys = VirtualKeys(
        PairingReadModel(SqlPairingStore(db), changes),
        vehicles,
        partners,
        clock,
        protocol_required=lambda vehicle: vehicle.command_signing == "required",
    )
    vehicles.pair_with(keys)
    return Owner(
        vehicles=vehicles,
        energy=EnergySites(EnergySiteReadModel(SqlEnergySiteStore(db), changes), clock),
        links=links,
        telemetry_configs=TelemetryConfigs(
            ConfigReadModel(SqlConfigStore(db), changes), vehicles, clock, pairing=keys
        ),
        keys=keys,
    )
