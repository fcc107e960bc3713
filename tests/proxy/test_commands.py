"""The vehicle command proxy in front of a real voltgate (in process): REST commands signed with
the app's key, every other call forwarded, and each of its documented errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.fixtures.pairing import PairedKeys, pair_in_memory
from tests.vehicles.support import Driver, driver
from tests.vehicles.test_connectivity import _connection
from voltgate.proxy.app import create_proxy
from voltgate.sdk.vehicle_command import Signer, generate_private_key, public_bytes

CMDS = "vehicle_device_data vehicle_cmds vehicle_charging_cmds"


@contextlib.asynccontextmanager
async def _proxy(
    signer: Signer, upstream: str, transport: httpx.AsyncBaseTransport | None, timeout: float = 10.0
) -> AsyncIterator[httpx.AsyncClient]:
    proxy = create_proxy(signer, upstream, timeout=timeout, transport=transport)
    async with proxy.router.lifespan_context(proxy):
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=proxy), base_url="http://proxy"
        )
        async with client:
            yield client


class Setup:
    def __init__(self, me: Driver, signer: Signer, paired: PairedKeys, proxy: httpx.AsyncClient):
        self.me, self.signer, self.paired, self.proxy = me, signer, paired, proxy

    async def command(
        self, vin: str, name: str, body: Any = None, scopes: str = CMDS
    ) -> httpx.Response:
        headers = await self.me.headers(scopes)
        extra = {} if body is None else {"json": body}
        return await self.proxy.post(
            f"/api/1/vehicles/{vin}/command/{name}", headers=headers, **extra
        )


@pytest.fixture
async def setup(app: App) -> AsyncIterator[Setup]:
    assert app.asgi is not None
    me = await driver(app)
    signer = Signer(generate_private_key())
    paired = pair_in_memory(app.rt)
    transport = httpx.ASGITransport(app=app.asgi, client=("127.0.0.1", 40001))
    async with _proxy(signer, "http://testserver", transport) as proxy:
        yield Setup(me, signer, paired, proxy)


async def test_a_command_is_signed_and_runs_on_a_vehicle_that_requires_the_protocol(
    setup: Setup,
) -> None:
    me = setup.me
    setup.paired.pair(me.signed.vin, public_bytes(setup.signer.private_key))
    answer = await setup.command(me.signed.vin, "set_charge_limit", {"percent": 61})
    assert answer.json() == {"response": {"result": True, "reason": ""}}
    again = await setup.command(me.signed.vin, "set_charge_limit", {"percent": 61})
    assert again.json() == {"response": {"result": False, "reason": "already_set"}}
    locked = await setup.command(me.signed.vin, "door_unlock")  # VCSEC: its own session
    assert locked.json() == {"response": {"result": True, "reason": ""}}
    data = (await me.data(me.signed)).json()["response"]
    assert data["charge_state"]["charge_limit_soc"] == 61
    assert data["vehicle_state"]["locked"] is False
    # Everything else is forwarded with the caller's token.
    listed = await setup.proxy.get("/api/1/vehicles", headers=await me.headers())
    assert listed.status_code == 200 and listed.json()["count"] == 3


async def test_commands_to_one_vehicle_at_once_each_get_their_answer(setup: Setup) -> None:
    me = setup.me
    setup.paired.pair(me.signed.vin, public_bytes(setup.signer.private_key))
    answers = await asyncio.gather(
        *(setup.command(me.signed.vin, "set_charge_limit", {"percent": p}) for p in range(60, 70))
    )
    assert all(a.json()["response"]["result"] is True for a in answers)


async def test_a_restarted_vehicle_is_resynced_without_the_caller_noticing(
    setup: Setup, app: App
) -> None:
    me = setup.me
    setup.paired.pair(me.signed.vin, public_bytes(setup.signer.private_key))
    assert (await setup.command(me.signed.vin, "honk_horn")).json()["response"]["result"]
    await app.rt.owner.vehicles.reboot(me.signed.id)
    assert (await setup.command(me.signed.vin, "honk_horn")).json()["response"]["result"]


async def test_a_legacy_vehicle_gets_the_rest_command_unsigned(setup: Setup) -> None:
    app = setup.me.app
    store = app.rt.owner.vehicles._store
    from dataclasses import replace

    legacy = replace(
        setup.me.charging,
        id=setup.me.charging.id + 11,
        vin=setup.me.charging.vin[:-1] + "Y",
        seed_slot=None,
        command_signing="off",
    )
    assert await store.add_all([legacy])
    answer = await setup.command(legacy.vin, "flash_lights")
    assert answer.json() == {"response": {"result": True, "reason": ""}}


async def test_a_key_the_vehicle_does_not_know_is_403_key_not_paired(setup: Setup) -> None:
    answer = await setup.command(setup.me.signed.vin, "honk_horn")
    assert answer.status_code == 403
    assert answer.json()["error"] == "key_not_paired"
    # … and one the owner removed since, too.
    key = public_bytes(setup.signer.private_key)
    setup.paired.pair(setup.me.signed.vin, key)
    assert (await setup.command(setup.me.signed.vin, "honk_horn")).status_code == 200
    setup.paired.remove(setup.me.signed.vin, key)
    removed = await setup.command(setup.me.signed.vin, "honk_horn")
    assert removed.status_code == 403 and removed.json()["error"] == "key_not_paired"


async def test_an_asleep_vehicle_is_408_vehicle_asleep_and_an_offline_one_vehicle_offline(
    setup: Setup, app: App
) -> None:
    me = setup.me
    setup.paired.pair(me.asleep.vin, public_bytes(setup.signer.private_key))
    asleep = await setup.command(me.asleep.vin, "honk_horn")
    assert asleep.status_code == 408 and asleep.json()["error"] == "vehicle_asleep"
    await _connection(app, me.signed.vin, "CONNECTED")
    await _connection(app, me.signed.vin, "DISCONNECTED", "dropped")
    offline = await setup.command(me.signed.vin, "honk_horn")
    assert offline.status_code == 408 and offline.json()["error"] == "vehicle_offline"


async def test_the_caller_s_own_errors_pass_through_and_bad_commands_are_400(
    setup: Setup,
) -> None:
    me = setup.me
    no_token = await setup.proxy.post(f"/api/1/vehicles/{me.signed.vin}/command/honk_horn")
    assert no_token.status_code == 401 and no_token.json()["error"] == "missing_token"
    unknown = await setup.command(me.signed.vin, "launch_rocket")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_command"
    bad_body = await setup.command(me.signed.vin, "set_charge_limit", {"percent": "lots"})
    assert bad_body.status_code == 400 and bad_body.json()["error"] == "invalid_command"
    by_id = await setup.command(str(me.signed.id), "honk_horn")
    assert by_id.status_code == 400
    setup.paired.pair(me.signed.vin, public_bytes(setup.signer.private_key))
    scoped = await setup.command(me.signed.vin, "honk_horn", scopes="vehicle_charging_cmds")
    assert scoped.status_code == 403 and scoped.json()["code"] == 2003  # Fleet API's own


class _Stub:
    """An upstream on 127.0.0.1 that answers every request with `reply` (or never)."""

    def __init__(self, reply: Callable[[], bytes] | None) -> None:
        self.reply = reply
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            if self.reply is None:
                await asyncio.Event().wait()  # never answers
            writer.write(self.reply())
            await writer.drain()
        writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            self.server.close()
            await self.server.wait_closed()


_VIN = "5YJ3E1EC4SF162094"
_HEADERS = {"Authorization": "Bearer vgat_test"}


async def test_an_upstream_429_is_429_rate_limited_with_its_retry_after() -> None:
    body = b'{"response":null,"error":"too many requests","error_description":""}'

    def reply() -> bytes:
        head = f"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: {len(body)}"
        return head.encode() + b"\r\nContent-Type: application/json\r\n\r\n" + body

    async with (
        _Stub(reply).running() as upstream,
        _proxy(Signer(generate_private_key()), upstream, None) as proxy,
    ):
        answer = await proxy.post(f"/api/1/vehicles/{_VIN}/command/honk_horn", headers=_HEADERS)
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.json()["error"] == "rate_limited"


async def test_an_upstream_that_does_not_answer_is_504_timeout() -> None:
    async with (
        _Stub(None).running() as upstream,
        _proxy(Signer(generate_private_key()), upstream, None, timeout=0.5) as proxy,
    ):
        answer = await proxy.post(f"/api/1/vehicles/{_VIN}/command/honk_horn", headers=_HEADERS)
    assert answer.status_code == 504 and answer.json()["error"] == "timeout"


async def test_an_upstream_that_is_down_is_502_upstream_unreachable() -> None:
    async with _Stub(None).running() as upstream:
        pass  # closed: nothing listens there any more
    async with _proxy(Signer(generate_private_key()), upstream, None) as proxy:
        answer = await proxy.post(f"/api/1/vehicles/{_VIN}/command/honk_horn", headers=_HEADERS)
        forwarded = await proxy.get("/api/1/vehicles", headers=_HEADERS)
    assert answer.status_code == 502 and answer.json()["error"] == "upstream_unreachable"
    assert forwarded.status_code == 502
