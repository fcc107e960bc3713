"""`voltgate.sdk.commands.SignedCommands`: REST commands signed with the app's key and sent as
`signed_command` to voltgate's API (in process), the seeded vehicle that requires the protocol
as the car: one handshake then one round trip a command, a resync after the vehicle restarts,
and a key the owner never paired named as such."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.fixtures.pairing import pair_in_memory
from tests.vehicles.support import Driver, driver
from voltgate.sdk.commands import KeyNotPaired, SignedCommands, VehicleRefused
from voltgate.sdk.vehicle_command import (
    CommandBodyError,
    Domain,
    Signer,
    generate_private_key,
    public_bytes,
)

CMDS = "vehicle_device_data vehicle_cmds vehicle_charging_cmds"


def _commands(me: Driver, signer: Signer, sent: list[str]) -> SignedCommands:
    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        sent.append(path)
        return await me.post(path, CMDS, json=body)

    return SignedCommands(signer, post)


async def _limit(me: Driver) -> Any:
    data = await me.data(me.signed, scopes=CMDS)
    return data.json()["response"]["charge_state"]["charge_limit_soc"]


async def test_a_paired_key_s_commands_run_one_round_trip_each_after_the_handshake(
    app: App,
) -> None:
    me = await driver(app)
    signer = Signer(generate_private_key(), now=app.clock.now)
    pair_in_memory(app.rt).pair(me.signed.vin, public_bytes(signer.private_key))
    sent: list[str] = []
    commands = _commands(me, signer, sent)

    assert await commands.send(me.signed.vin, "set_charge_limit", {"percent": 66}) == (True, "")
    assert len(sent) == 2  # the handshake, then the command
    assert await _limit(me) == 66
    assert await commands.send(me.signed.vin, "set_charge_limit", {"percent": 66}) == (
        False,
        "already_set",
    )
    assert len(sent) == 3  # the session kept: one round trip
    assert sent == [f"/api/1/vehicles/{me.signed.vin}/signed_command"] * 3

    # The vehicle restarts (a new epoch): the refusal carries its session, sent once more.
    await app.rt.owner.vehicles.reboot(me.signed.id)
    assert await commands.send(me.signed.vin, "set_charge_limit", {"percent": 70}) == (True, "")
    assert len(sent) == 5 and await _limit(me) == 70
    assert signer.session(me.signed.vin, Domain.INFOTAINMENT).ready


async def test_a_key_not_paired_is_named_and_bad_bodies_are_refused_before_sending(
    app: App,
) -> None:
    me = await driver(app)
    keys = pair_in_memory(app.rt)
    signer = Signer(generate_private_key(), now=app.clock.now)
    sent: list[str] = []
    commands = _commands(me, signer, sent)
    with pytest.raises(KeyNotPaired, match="must pair it"):
        await commands.send(me.signed.vin, "set_charge_limit", {"percent": 66})
    assert len(sent) == 1 and not signer.session(me.signed.vin, Domain.INFOTAINMENT).ready
    with pytest.raises(CommandBodyError):
        await commands.send(me.signed.vin, "set_charge_limit", {"percent": "lots"})
    assert len(sent) == 1  # nothing sent

    keys.pair(me.signed.vin, public_bytes(signer.private_key), role="vehicle_monitor")
    with pytest.raises(VehicleRefused) as refused:  # paired, but this role may not charge
        await commands.send(me.signed.vin, "set_charge_limit", {"percent": 66})
    assert refused.value.fault.name == "INSUFFICIENT_PRIVILEGES"
