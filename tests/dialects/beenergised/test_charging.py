"""A contact's charging over GraphQL, in one world: the charger an operator registered at
Marienplatz is the charge point `cpsPaged` finds; `remoteStart` queues a start command that
charger polls; its charging record is the session `chargelogsPaged` shows, energy live from its
telemetry; `remoteStop` queues the stop. Each precondition answers its own code."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.dialects.beenergised.support import contact, gql, psk, session
from tests.fixtures.fleet import MUNICH, marienplatz

IBAN = "DE89 3704 0044 0532 0130 00"
NEARBY = """query($lat: Float!, $lon: Float!) {
  cpsPaged(filter: {position: {latitude: $lat, longitude: $lon}, radius: 5},
           pagination: {limit: 20, offset: 0}) {
    pagination { totalCount }
    data {
      id name distance operator
      evses { evseId status connectors { id standard powerType maxElectricPower } }
    }
  }
}"""
SEPA = """mutation($iban: String!) {
  createSepaContract(sepaContract: {rateId: "standard", iban: $iban, bic: "COBADEFFXXX",
    bank: "Commerzbank", debitType: "CORE", accountHolder: "Ada Lovelace", useParent: false}) {
    status message
  }
}"""
CARDS = "query($c: ID!) { availableCardsForChargingProcess(connectorId: $c) { tagId number type } }"
START = """mutation($tag: String!, $c: ID!) {
  remoteStart(authorization: {identifier: $tag, type: AUTO}, connector: $c) {
    status transaction session { status connectorId chargePointId }
  }
}"""
STOP = "mutation($t: ID!) { remoteStop(transaction: $t) { status code message } }"
LOGS = """{ chargelogsPaged(pagination: {limit: 5}) {
  pagination { totalCount } data { transaction status energy startedAt stoppedAt card } } }"""


async def _charger(app: App) -> dict[str, str]:
    _device, _site, headers = await marienplatz(app)
    idle = {"state": "available", "power_kw": 0, "energy_kwh": 0}
    body = {"connectors": [{"connector": n, **idle} for n in (1, 2)]}
    await _as_charger(app, headers, "/v1/device/telemetry", body, 202)
    await app.rt.fleet.chargers.flush()  # the EVSE statuses follow it
    return headers


async def _signed_in(app: App) -> str:
    key = await psk(app)
    await contact(app, key)
    token: str = (await session(app, key))["sessionToken"]
    return token


async def _as_charger(app: App, headers: dict[str, str], path: str, body: Any, status: int) -> Any:
    response = await app.http.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()["data"]


async def test_find_contract_start_watch_and_stop(app: App) -> None:
    device = await _charger(app)
    bearer = await _signed_in(app)
    found = await gql(app, NEARBY, bearer, {"lat": MUNICH[0], "lon": MUNICH[1]})
    page = found.data["cpsPaged"]
    assert page["pagination"]["totalCount"] == 1
    point = page["data"][0]
    assert (point["name"], point["operator"], point["distance"]) == ("Marienplatz", "Isar Laden", 0)
    ccs = point["evses"][0]
    assert ccs["status"] == "AVAILABLE"
    assert ccs["connectors"][0]["standard"] == "IEC_62196_T2_COMBO"
    assert ccs["connectors"][0]["maxElectricPower"] == 150_000
    connector = ccs["connectors"][0]["id"]

    # No contract yet: no charging.
    refused = await gql(app, START, bearer, {"tag": "04A1B2C3D4E5F6", "c": connector})
    assert refused.codes == ["CONTRACT_REQUIRED"]
    bad = await gql(app, SEPA, bearer, {"iban": "DE89 3704 0044 0532 0130 01"})
    assert bad.codes == ["BAD_USER_INPUT"] and "iban" in bad.body["errors"][0]["message"]
    made = await gql(app, SEPA, bearer, {"iban": IBAN})
    assert made.data["createSepaContract"]["status"] == "success"
    methods = await gql(app, "{ contractPaymentMethods { paymentType } }", bearer)
    assert methods.data == {"contractPaymentMethods": [{"paymentType": "sepaAccount"}]}
    [card] = (await gql(app, CARDS, bearer, {"c": connector})).data[
        "availableCardsForChargingProcess"
    ]

    started = (await gql(app, START, bearer, {"tag": card["tagId"], "c": connector})).data
    start = started["remoteStart"]
    assert start["status"] == "waiting_for_transaction"
    assert start["session"]["chargePointId"] == point["id"]
    again = (await gql(app, START, bearer, {"tag": card["tagId"], "c": connector})).data
    assert again["remoteStart"]["transaction"] == start["transaction"]  # one session, pending
    # The charger polls: one start command, for connector 1 at its 150 kW, with the transaction.
    commands = await app.http.get("/v1/device/commands", params={"wait": 0}, headers=device)
    [command] = commands.json()["data"]["commands"]
    assert command["type"] == "start" and command["connector"] == 1
    assert command["params"]["transaction_id"] == start["transaction"]
    assert command["params"]["charge_power"] == 150
    await _as_charger(
        app,
        device,
        "/v1/device/command-status",
        {"command_id": command["command_id"], "status": "accepted"},
        200,
    )
    record = {
        "transaction_id": start["transaction"],
        "connector": 1,
        "started_at": app.clock.now(),
        "energy_kwh": 0,
    }
    await _as_charger(app, device, "/v1/device/charging-records", record, 201)
    app.clock.advance(60)  # a minute of charging
    reading = {"connector": 1, "state": "charging", "power_kw": 150.0, "energy_kwh": 2.5}
    await _as_charger(app, device, "/v1/device/telemetry", {"connectors": [reading]}, 202)
    [log] = (await gql(app, LOGS, bearer)).data["chargelogsPaged"]["data"]
    assert log["status"] == "started" and log["energy"] == 2.5 and log["stoppedAt"] is None
    assert log["card"] == card["tagId"]

    stop = (await gql(app, STOP, bearer, {"t": start["transaction"]})).data["remoteStop"]
    assert stop["status"] == "accepted"
    commands = await app.http.get("/v1/device/commands", params={"wait": 0}, headers=device)
    [stopping] = commands.json()["data"]["commands"]
    assert stopping["type"] == "stop"
    assert stopping["params"]["transaction_id"] == start["transaction"]
    app.clock.advance(600)
    finished = {
        **record,
        "stopped_at": app.clock.now(),
        "energy_kwh": 24.5,
        "meter_start": 0,
        "meter_stop": 24.5,
    }
    await _as_charger(app, device, "/v1/device/charging-records", finished, 200)
    logs = (await gql(app, LOGS, bearer)).data["chargelogsPaged"]
    assert logs["pagination"]["totalCount"] == 1
    assert logs["data"][0]["status"] == "stopped" and logs["data"][0]["energy"] == 24.5


async def test_preconditions_each_answer_their_code(app: App) -> None:
    await _charger(app)
    bearer = await _signed_in(app)
    found = await gql(app, NEARBY, bearer, {"lat": MUNICH[0], "lon": MUNICH[1]})
    connector = found.data["cpsPaged"]["data"][0]["evses"][0]["connectors"][0]["id"]
    await gql(app, SEPA, bearer, {"iban": IBAN})
    [card] = (await gql(app, CARDS, bearer, {"c": connector})).data[
        "availableCardsForChargingProcess"
    ]
    unknown = await gql(app, START, bearer, {"tag": card["tagId"], "c": "no-such-connector"})
    assert unknown.codes == ["NOT_FOUND"]
    me = (await gql(app, "{ me { id } }", bearer)).data["me"]["id"]
    [method] = await app.rt.retail.contracts.payment_methods(me)
    await app.rt.retail.contracts.revoke_payment_method(me, method.id)
    no_payment = await gql(app, START, bearer, {"tag": card["tagId"], "c": connector})
    assert no_payment.codes == ["PAYMENT_METHOD_REQUIRED"]
    await app.rt.identity.users.disable(me)
    inactive = await gql(app, START, bearer, {"tag": card["tagId"], "c": connector})
    assert inactive.codes == ["USER_INACTIVE"]


async def test_another_contact_sees_none_of_it(app: App) -> None:
    await _charger(app)
    key = await psk(app)
    await contact(app, key, "ada@example.com")
    await contact(app, key, "bob@example.com")
    ada = (await session(app, key, "ada@example.com"))["sessionToken"]
    bob = (await session(app, key, "bob@example.com"))["sessionToken"]
    found = await gql(app, NEARBY, ada, {"lat": MUNICH[0], "lon": MUNICH[1]})
    connector = found.data["cpsPaged"]["data"][0]["evses"][0]["connectors"][0]["id"]
    await gql(app, SEPA, ada, {"iban": IBAN})
    [card] = (await gql(app, CARDS, ada, {"c": connector})).data["availableCardsForChargingProcess"]
    started = (await gql(app, START, ada, {"tag": card["tagId"], "c": connector})).data
    transaction = started["remoteStart"]["transaction"]
    assert (await gql(app, LOGS, bob)).data["chargelogsPaged"]["pagination"]["totalCount"] == 0
    assert (await gql(app, STOP, bob, {"t": transaction})).codes == ["NOT_FOUND"]
    assert (await gql(app, "{ contracts { uuid } }", bob)).data == {"contracts": []}
    # Ada's card is not Bob's to use.
    await gql(app, SEPA, bob, {"iban": IBAN})
    assert (await gql(app, START, bob, {"tag": card["tagId"], "c": connector})).codes == [
        "NOT_FOUND"
    ]


async def test_a_kept_search_follows_the_chargers_state(app: App) -> None:
    device = await _charger(app)
    bearer = await _signed_in(app)
    position = {"lat": MUNICH[0], "lon": MUNICH[1]}

    async def statuses() -> list[str]:
        found = (await gql(app, NEARBY, bearer, position)).data["cpsPaged"]["data"]
        return [evse["status"] for evse in found[0]["evses"]]

    assert await statuses() == ["AVAILABLE", "AVAILABLE"]
    assert await statuses() == ["AVAILABLE", "AVAILABLE"]  # the kept answer, still right
    reading = {"connector": 1, "state": "charging", "power_kw": 150.0, "energy_kwh": 1.0}
    await _as_charger(app, device, "/v1/device/telemetry", {"connectors": [reading]}, 202)
    await app.rt.fleet.chargers.flush()
    assert await statuses() == ["CHARGING", "AVAILABLE"]  # within the same second, too


async def test_a_refused_start_says_why(app: App) -> None:
    device = await _charger(app)
    bearer = await _signed_in(app)
    found = await gql(app, NEARBY, bearer, {"lat": MUNICH[0], "lon": MUNICH[1]})
    connector = found.data["cpsPaged"]["data"][0]["evses"][0]["connectors"][0]["id"]
    await gql(app, SEPA, bearer, {"iban": IBAN})
    [card] = (await gql(app, CARDS, bearer, {"c": connector})).data[
        "availableCardsForChargingProcess"
    ]
    started = (await gql(app, START, bearer, {"tag": card["tagId"], "c": connector})).data
    commands = await app.http.get("/v1/device/commands", params={"wait": 0}, headers=device)
    [command] = commands.json()["data"]["commands"]
    refusal = {
        "command_id": command["command_id"],
        "status": "rejected",
        "reason": "connector 1 is already in a session",
    }
    await _as_charger(app, device, "/v1/device/command-status", refusal, 200)
    logs = await gql(app, "{ chargelogsPaged { data { transaction status reason } } }", bearer)
    assert logs.data["chargelogsPaged"]["data"] == [
        {
            "transaction": started["remoteStart"]["transaction"],
            "status": "rejected",
            "reason": "connector 1 is already in a session",
        }
    ]
