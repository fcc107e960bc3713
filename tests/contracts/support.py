"""The contracts domain over the real fleet: a user, a registered two-connector charger (a
connector id is `<device id>:<number>`), and what the charger does over its own API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.commands.support import Fleet, fleet
from tests.conftest import App
from voltgate.contracts.connectors import DeviceConnectors
from voltgate.contracts.repository import SqlContractStore, SqlSessionStore
from voltgate.contracts.schemas import SepaDetails
from voltgate.contracts.service import Contracts
from voltgate.contracts.sessions import RemoteCharging
from voltgate.identity.users import User

GOOD_IBAN = "DE89 3704 0044 0532 0130 00"
SEPA = SepaDetails(
    rate_id="standard", iban=GOOD_IBAN, account_holder="Erika Mustermann", bic="COBADEFFXXX"
)
_emails = itertools.count(1)


@dataclass
class World:
    contracts: Contracts
    remote: RemoteCharging
    fleet: Fleet

    def connector(self, number: int = 1) -> str:
        return DeviceConnectors.connector_id(self.fleet.charger.device_id, number)


async def world(app: App) -> World:
    rt = app.rt
    contracts = Contracts(SqlContractStore(rt.db), rt.identity.users, rt.crypto, app.clock)
    remote = RemoteCharging(
        SqlSessionStore(rt.db),
        contracts,
        DeviceConnectors(rt.fleet.devices),
        rt.fleet.commands,
        rt.fleet.charging,
        rt.fleet.telemetry,
        app.clock,
    )
    return World(contracts, remote, await fleet(app))


async def user(app: App) -> User:
    return await app.rt.identity.users.create(f"driver{next(_emails)}@example.com", "pa55word!")


async def ready(app: App, w: World) -> tuple[User, str]:
    """A user with a SEPA contract, and their card's tag id."""
    driver = await user(app)
    await w.contracts.create_sepa(driver.id, SEPA)
    [card] = await w.contracts.cards(driver.id)
    return driver, card.tag_id


async def polled(app: App, w: World) -> list[dict[str, Any]]:
    """The commands the charger gets when it asks (without waiting)."""
    response = await app.http.get("/v1/device/commands", params={"wait": 0}, headers=w.fleet.device)
    assert response.status_code == 200, response.text
    commands: list[dict[str, Any]] = response.json()["data"]["commands"]
    return commands


async def command_status(app: App, w: World, command_id: str, status: str, **extra: Any) -> None:
    body = {"command_id": command_id, "status": status, **extra}
    response = await app.http.post("/v1/device/command-status", json=body, headers=w.fleet.device)
    assert response.status_code == 200, response.text


async def record(
    app: App, w: World, transaction_id: str, answer: int = 201, **fields: Any
) -> dict[str, Any]:
    """The charger reports its record of the transaction (open unless `stopped_at`): 201 when
    new, 200 when it updates the open one."""
    body = {
        "transaction_id": transaction_id,
        "connector": 1,
        "started_at": app.clock.now(),
        "energy_kwh": 0,
        **fields,
    }
    response = await app.http.post("/v1/device/charging-records", json=body, headers=w.fleet.device)
    assert response.status_code == answer, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def telemetry(app: App, w: World, energy_kwh: float, connector: int = 1) -> None:
    reading = {
        "connector": connector,
        "state": "charging",
        "power_kw": 11.0,
        "energy_kwh": energy_kwh,
    }
    response = await app.http.post(
        "/v1/device/telemetry", json={"connectors": [reading]}, headers=w.fleet.device
    )
    assert response.status_code == 202, response.text
