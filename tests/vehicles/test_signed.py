"""`POST /api/1/vehicles/{vin}/signed_command`: the vehicle command protocol end to end through
the HTTP API, with the SDK's signer as the client and the seeded vehicles as the cars."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.fixtures.pairing import PairedKeys as Paired
from tests.fixtures.pairing import pair_in_memory
from tests.vehicles.support import Driver, driver
from voltgate.sdk.vehicle_command import (
    Domain,
    MessageFault,
    Session,
    Signer,
    generate_private_key,
    public_bytes,
)
from voltgate.sdk.vehicle_command.schema import RoutableMessage
from voltgate.vehicles.service import PROTOCOL_REQUIRED, PROTOCOL_UNSUPPORTED
from voltgate.vehicles.store import Vehicle

CMDS = "vehicle_device_data vehicle_cmds vehicle_charging_cmds"


@pytest.fixture
def paired(app: App) -> Paired:
    return pair_in_memory(app.rt)


async def _send(me: Driver, vehicle: Vehicle, message: bytes, scopes: str = CMDS) -> httpx.Response:
    body = {"routable_message": base64.b64encode(message).decode()}
    return await me.post(f"/api/1/vehicles/{vehicle.vin}/signed_command", scopes, json=body)


async def _exchange(me: Driver, vehicle: Vehicle, message: bytes, scopes: str = CMDS) -> bytes:
    answer = await _send(me, vehicle, message, scopes)
    assert answer.status_code == 200, answer.text
    return base64.b64decode(answer.json()["response"])


def _fault(reply: bytes) -> MessageFault:
    return MessageFault(RoutableMessage.FromString(reply).signedMessageStatus.signed_message_fault)


async def _session(me: Driver, vehicle: Vehicle, signer: Signer, domain: Domain) -> Session:
    session = signer.session(vehicle.vin, domain)
    reply = session.read(await _exchange(me, vehicle, session.session_info_request()))
    assert reply.fault == MessageFault.NONE and session.ready
    return session


async def _limit(me: Driver, vehicle: Vehicle) -> Any:
    data = await me.data(vehicle)
    assert data.status_code == 200, data.text
    return data.json()["response"]["charge_state"]["charge_limit_soc"]


async def test_a_signed_command_from_a_paired_key_runs_on_the_vehicle(
    app: App, paired: Paired
) -> None:
    me = await driver(app)
    signer = Signer(generate_private_key(), now=app.clock.now)
    paired.pair(me.signed.vin, public_bytes(signer.private_key))
    session = await _session(me, me.signed, signer, Domain.INFOTAINMENT)

    message = session.command("set_charge_limit", {"percent": 66})
    reply = session.read(await _exchange(me, me.signed, message))
    assert (reply.fault, reply.result, reply.reason) == (MessageFault.NONE, True, "")
    assert await _limit(me, me.signed) == 66

    # The same message again: its counter is spent, the vehicle refuses it and changes nothing.
    assert _fault(await _exchange(me, me.signed, message)) == MessageFault.INVALID_TOKEN_OR_COUNTER
    again = session.read(
        await _exchange(me, me.signed, session.command("set_charge_limit", {"percent": 66}))
    )
    assert (again.result, again.reason) == (False, "already_set")

    # VCSEC: locks are the security domain's, with its own session.
    security = await _session(me, me.signed, signer, Domain.VEHICLE_SECURITY)
    unlocked = security.read(await _exchange(me, me.signed, security.command("door_unlock")))
    assert unlocked.result is True
    data = (await me.data(me.signed)).json()["response"]
    assert data["vehicle_state"]["locked"] is False


async def test_unsigned_commands_are_refused_by_a_vehicle_that_requires_the_protocol(
    app: App,
) -> None:
    me = await driver(app)
    refused = await me.command(me.signed, "flash_lights", scopes=CMDS)
    assert refused.status_code == 403
    assert refused.json() == {
        "response": None,
        "error": "command_protocol_required",
        "error_description": PROTOCOL_REQUIRED,
        "code": 2003,
    }
    accepted = await me.command(me.charging, "flash_lights", scopes=CMDS)
    assert accepted.json() == {"response": {"result": True, "reason": ""}}
    listed = (await me.get("/api/1/vehicles")).json()["response"]
    signing = {v["vin"]: v["command_signing"] for v in listed}
    assert signing == {
        me.charging.vin: "allowed",
        me.asleep.vin: "allowed",
        me.signed.vin: "required",
    }


async def test_a_vehicle_that_does_not_speak_the_protocol_is_422(app: App, paired: Paired) -> None:
    me = await driver(app)
    store = app.rt.owner.vehicles._store
    legacy = replace(
        me.charging,
        id=me.charging.id + 7,
        vin=me.charging.vin[:-1] + "Z",
        seed_slot=None,
        command_signing="off",
    )
    assert await store.add_all([legacy])
    session = Signer(generate_private_key(), now=app.clock.now).session(
        legacy.vin, Domain.INFOTAINMENT
    )
    answer = await _send(me, legacy, session.session_info_request())
    assert answer.status_code == 422
    assert answer.json()["error_description"] == PROTOCOL_UNSUPPORTED


async def test_the_token_needs_the_scope_of_the_command_the_message_carries(
    app: App, paired: Paired
) -> None:
    me = await driver(app)
    signer = Signer(generate_private_key(), now=app.clock.now)
    paired.pair(me.signed.vin, public_bytes(signer.private_key))
    session = await _session(me, me.signed, signer, Domain.INFOTAINMENT)
    honk = session.command("honk_horn")
    refused = await _send(me, me.signed, honk, scopes="vehicle_charging_cmds")
    assert refused.status_code == 403 and refused.json()["code"] == 2003
    # Refused before the vehicle: the message's counter is still good.
    assert session.read(await _exchange(me, me.signed, honk)).result is True


async def test_a_key_never_paired_gets_no_session_and_no_command_through(
    app: App, paired: Paired
) -> None:
    me = await driver(app)
    stranger = Signer(generate_private_key(), now=app.clock.now)
    session = stranger.session(me.signed.vin, Domain.INFOTAINMENT)
    reply = session.read(await _exchange(me, me.signed, session.session_info_request()))
    assert reply.fault == MessageFault.UNKNOWN_KEY_ID and not session.ready


async def test_after_a_restart_an_old_session_resyncs_from_the_refusal(
    app: App, paired: Paired
) -> None:
    me = await driver(app)
    signer = Signer(generate_private_key(), now=app.clock.now)
    paired.pair(me.signed.vin, public_bytes(signer.private_key))
    session = await _session(me, me.signed, signer, Domain.INFOTAINMENT)
    await app.rt.owner.vehicles.reboot(me.signed.id)
    stale = session.read(await _exchange(me, me.signed, session.command("charge_port_door_open")))
    assert stale.fault == MessageFault.INCORRECT_EPOCH and stale.resync
    fresh = session.read(await _exchange(me, me.signed, session.command("charge_port_door_open")))
    assert fresh.result is True


async def test_bad_messages_are_400_and_an_asleep_vehicle_408(app: App, paired: Paired) -> None:
    me = await driver(app)
    garbage = await me.post(
        f"/api/1/vehicles/{me.signed.vin}/signed_command", CMDS, json={"routable_message": "%%%"}
    )
    assert garbage.status_code == 400 and garbage.json()["code"] == 1001
    not_a_message = await _send(me, me.signed, b"\xff\xff\xff")
    assert not_a_message.status_code == 400
    session = Signer(generate_private_key(), now=app.clock.now).session(
        me.asleep.vin, Domain.INFOTAINMENT
    )
    asleep = await _send(me, me.asleep, session.session_info_request())
    assert asleep.status_code == 408


async def test_a_key_s_role_limits_what_it_may_send(app: App, paired: Paired) -> None:
    me = await driver(app)
    signer = Signer(generate_private_key(), now=app.clock.now)
    paired.pair(me.signed.vin, public_bytes(signer.private_key), role="charging_manager")
    session = await _session(me, me.signed, signer, Domain.INFOTAINMENT)
    honk = session.read(await _exchange(me, me.signed, session.command("honk_horn")))
    assert honk.fault == MessageFault.INSUFFICIENT_PRIVILEGES
    limit = session.command("set_charge_limit", {"percent": 64})
    assert session.read(await _exchange(me, me.signed, limit)).result is True
