"""The retail area: public charging for drivers (be.ENERGISED) — contracts, payment methods,
charging cards and remote charging sessions at the operators' chargers, built once."""

from __future__ import annotations

from dataclasses import dataclass

from voltgate.clock import Clock
from voltgate.contracts.connectors import Connectors
from voltgate.contracts.repository import SqlContractStore, SqlSessionStore
from voltgate.contracts.service import Contracts
from voltgate.contracts.sessions import RemoteCharging
from voltgate.db.engine import Database
from voltgate.identity.secrets import Crypto
from voltgate.runtime.fleet import Fleet
from voltgate.runtime.identity import Identity


@dataclass(frozen=True, slots=True)
class Retail:
    contracts: Contracts
    remote: RemoteCharging


def build_retail(
    clock: Clock,
    db: Database,
    crypto: Crypto,
    identity: Identity,
    fleet: Fleet,
    connectors: Connectors,
) -> Retail:
    contracts = Contracts(SqlContractStore(db), identity.users, crypto, clock)
    remote = RemoteCharging(
        SqlSessionStore(db),
        contracts,
        connectors,
        fleet.commands,
        fleet.charging,
        fleet.telemetry,
        clock,
    )
    return Retail(contracts, remote)
