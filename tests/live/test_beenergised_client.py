"""Live: be.ENERGISED's whole journey through `gql`, a GraphQL client written by others,
against `voltgate sandbox` on 127.0.0.1 with one simulated public charger that really charges.

The app's pre-shared key registers a contact and starts its session; as that contact the client
finds the charger within 5 km, makes a SEPA contract, lists its charging cards, starts charging
remotely, watches the session start and its energy grow in `chargelogsPaged`, stops it and sees
it stopped. Then `refreshSession` rotates, and replaying the old refresh token once the grace
window (1 s here) has passed revokes the session.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.fixtures.live import free_port, server_env, voltgate_process
from voltgate.sandbox.world import SITES

PASSWORD = "a contact's own password"
T = TypeVar("T")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any], Path]]:
    root = tmp_path_factory.mktemp("beenergised")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    creds = root / "credentials.json"
    # No vehicle arrives by itself: the one session at the charger is the test's.
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", "1"]
    args += ["--arrival-rate", "0"]
    args += ["--credentials-out", str(creds)]
    env = server_env(root / "data", refresh_grace_seconds="1")
    with voltgate_process(args, env, root / "sandbox.log", base):
        # What the server logged (every request, at the default level) goes here.
        yield base, orjson.loads(creds.read_bytes()), root / "data" / "sandbox.log"


def _client(base: str, bearer: str, *, schema: bool = True) -> Client:
    transport = HTTPXAsyncTransport(
        url=f"{base}/graphql", headers={"Authorization": f"Bearer {bearer}"}, timeout=30
    )
    # With the schema fetched (introspection), gql checks each document before sending it.
    return Client(transport=transport, fetch_schema_from_transport=schema)


async def _until(check: Callable[[], Awaitable[T | None]], what: str, seconds: float = 90) -> T:
    """Ask until `check` has an answer: the charger acts on its own schedule (long-poll,
    telemetry every few seconds), so the journey waits for it, bounded."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.5)


async def _run(client: Any, document: GraphQLRequest, variables: dict[str, Any]) -> Any:
    return await client.execute(GraphQLRequest(document, variable_values=variables))


REGISTER = gql(
    "mutation Register($profile: ContactProfileInput!) {"
    " registerContact(contactProfile: $profile) { profile { id name email } } }"
)
SIGN_IN = gql(
    "mutation SignIn($u: String!, $p: String!) {"
    " initSession(username: $u, password: $p) { sessionToken refreshToken } }"
)
NEARBY = gql(
    "query Nearby($lat: Float!, $lon: Float!) {"
    " cpsPaged(filter: {position: {latitude: $lat, longitude: $lon}, radius: 5},"
    " pagination: {limit: 20, offset: 0}) {"
    " pagination { totalCount }"
    " data { id name distance evses { evseId status connectors { id standard maxElectricPower } } }"
    " } }"
)
RATES = gql("{ contractRateOptions { uuid id name } }")
SEPA = gql(
    "mutation Sepa($c: SepaContractInput!) { createSepaContract(sepaContract: $c)"
    " { status message } }"
)
CARDS = gql(
    "query Cards($c: ID!) { availableCardsForChargingProcess(connectorId: $c)"
    " { id tagId number label expiryDate type } }"
)
START = gql(
    "mutation Start($tag: String!, $c: ID!) {"
    " remoteStart(authorization: {identifier: $tag, type: AUTO}, connector: $c)"
    " { status transaction } }"
)
STOP = gql("mutation Stop($t: ID!) { remoteStop(transaction: $t) { status code message } }")
LOGS = gql(
    "{ chargelogsPaged(pagination: {limit: 10}) { pagination { totalCount }"
    " data { transaction status energy startedAt stoppedAt } } }"
)
REFRESH = gql("mutation { refreshSession { sessionToken refreshToken } }")
ME = gql("{ me { email } }")


async def test_a_contact_finds_a_charger_contracts_charges_and_stops_with_gql(
    sandbox: tuple[str, dict[str, Any], Path],
) -> None:
    base, creds, server_log = sandbox
    email = f"driver-{secrets.token_hex(4)}@example.com"
    async with _client(base, creds["beenergised"]["psk"], schema=False) as app:
        profile = {"name": "Dana Driver", "email": email, "password": PASSWORD}
        registered = await _run(app, REGISTER, {"profile": profile})
        assert registered["registerContact"]["profile"]["email"] == email
        tokens = (await _run(app, SIGN_IN, {"u": email, "p": PASSWORD}))["initSession"]
    async with _client(base, tokens["sessionToken"]) as contact:

        async def available() -> str | None:
            """The first connector of an available EVSE near a sandbox site (a charger's EVSEs
            are UNKNOWN until its first telemetry, a few seconds after the start)."""
            for site in SITES:
                position = {"lat": site.latitude, "lon": site.longitude}
                found = (await _run(contact, NEARBY, position))["cpsPaged"]
                assert found["pagination"]["totalCount"] == len(found["data"])
                assert all(p["distance"] <= 5 for p in found["data"])
                for point in found["data"]:
                    for evse in point["evses"]:
                        if evse["status"] == "AVAILABLE":
                            return str(evse["connectors"][0]["id"])
            return None

        connector = await _until(available, "an available charge point within 5 km")
        rate = (await contact.execute(RATES))["contractRateOptions"][0]["id"]
        sepa = {
            "rateId": rate,
            "iban": "DE89 3704 0044 0532 0130 00",
            "bic": "COBADEFFXXX",
            "bank": "Commerzbank",
            "debitType": "CORE",
            "accountHolder": "Dana Driver",
            "useParent": False,
        }
        made = (await _run(contact, SEPA, {"c": sepa}))["createSepaContract"]
        assert made["status"] == "success", made
        cards = (await _run(contact, CARDS, {"c": connector}))["availableCardsForChargingProcess"]
        assert len(cards) == 1 and cards[0]["tagId"]
        tag = cards[0]["tagId"]
        started = (await _run(contact, START, {"tag": tag, "c": connector}))["remoteStart"]
        transaction = started["transaction"]
        assert started["status"] in ("waiting_for_transaction", "started"), started
        # The same card at the same connector while pending: the same session.
        again = await _run(contact, START, {"tag": tag, "c": connector})
        assert again["remoteStart"]["transaction"] == transaction

        async def charging() -> dict[str, Any] | None:
            logs = (await contact.execute(LOGS))["chargelogsPaged"]["data"]
            mine = next(log for log in logs if log["transaction"] == transaction)
            return mine if mine["status"] == "started" and mine["energy"] > 0 else None

        flowing = await _until(charging, "the session started with energy flowing")
        assert flowing["startedAt"] and flowing["stoppedAt"] is None
        stopped = (await _run(contact, STOP, {"t": transaction}))["remoteStop"]
        assert stopped["status"] == "accepted", stopped

        async def ended() -> dict[str, Any] | None:
            logs = (await contact.execute(LOGS))["chargelogsPaged"]["data"]
            mine = next(log for log in logs if log["transaction"] == transaction)
            return mine if mine["status"] == "stopped" else None

        done = await _until(ended, "the session stopped")
        assert done["stoppedAt"] and done["energy"] >= flowing["energy"]

    # refreshSession rotates; the old refresh token replayed after the grace revokes it all.
    async with _client(base, tokens["refreshToken"], schema=False) as refresher:
        rotated = (await refresher.execute(REFRESH))["refreshSession"]
    assert rotated["refreshToken"] != tokens["refreshToken"]
    async with _client(base, rotated["sessionToken"], schema=False) as contact:
        assert (await contact.execute(ME))["me"]["email"] == email
    await asyncio.sleep(1.5)  # past the sandbox's 1 s grace window: a replay is reuse now
    async with _client(base, tokens["refreshToken"], schema=False) as replayer:
        with pytest.raises(TransportQueryError) as replayed:
            await replayer.execute(REFRESH)
    assert replayed.value.errors is not None
    assert replayed.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with _client(base, rotated["sessionToken"], schema=False) as contact:
        with pytest.raises(TransportQueryError) as revoked:
            await contact.execute(ME)
    assert revoked.value.errors is not None
    assert revoked.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The server logged every one of those requests and none of the secrets they carried.
    logged = server_log.read_text()
    assert logged.count('"path":"/graphql"') > 10
    for secret in (creds["beenergised"]["psk"], PASSWORD, *tokens.values(), *rotated.values()):
        assert secret not in logged
