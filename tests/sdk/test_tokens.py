"""The SDK's token manager through a real client over `httpx.MockTransport`: tokens are renewed
before they expire, concurrent callers share one renewal, and a 401 code 2002 costs exactly one
renewal and one retry."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest

from voltgate.sdk.device import DeviceClient
from voltgate.sdk.errors import ApiError
from voltgate.sdk.signer import signature
from voltgate.sdk.tokens import Token, TokenManager

READING = [{"connector": 1, "state": "charging", "power_kw": 7, "energy_kwh": 1}]


class FakeServer:
    """A charger API double: numbered tokens, telemetry that refuses the tokens it is told to."""

    def __init__(self, expires_in: int = 86_400) -> None:
        self.expires_in = expires_in
        self.issued = 0
        self.calls: Counter[str] = Counter()
        self.expired: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.seen: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path] += 1
        self.seen.append(request)
        if request.url.path == "/v1/device/token":
            await self.gate.wait()
            self.issued += 1
            token = {"access_token": f"t{self.issued}", "expires_in": self.expires_in}
            return httpx.Response(200, json={"code": 0, "message": "success", "data": token})
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer in self.expired:
            body = {"code": 2002, "message": "the access token has expired", "data": None}
            return httpx.Response(401, json=body)
        if bearer == "t0" or not bearer:
            return httpx.Response(401, json={"code": 2001, "message": "invalid", "data": None})
        return httpx.Response(202, json={"code": 0, "message": "success", "data": {"accepted": 1}})


def client(server: FakeServer, **options: object) -> DeviceClient:
    return DeviceClient(
        "http://charger.test",
        device_id="vgc_test_1",
        device_secret="vgcs_test_secret",
        transport=httpx.MockTransport(server),
        **options,  # type: ignore[arg-type]
    )


async def test_concurrent_callers_share_one_renewal() -> None:
    server = FakeServer()
    server.gate.clear()  # hold the token endpoint until every caller is waiting for it
    device = client(server)
    calls = [asyncio.create_task(device.telemetry(READING)) for _ in range(25)]
    await asyncio.sleep(0.05)
    server.gate.set()
    assert await asyncio.gather(*calls) == [1] * 25
    assert server.calls["/v1/device/token"] == 1 and device.tokens.renewals == 1
    assert server.calls["/v1/device/telemetry"] == 25
    await device.aclose()


async def test_a_401_code_2002_renews_once_and_retries_once() -> None:
    server = FakeServer()
    device = client(server)
    assert await device.telemetry(READING) == 1  # t1
    server.expired.add("t1")
    assert await device.telemetry(READING) == 1
    assert server.calls["/v1/device/token"] == 2  # t1, then exactly one renewal: t2
    assert server.calls["/v1/device/telemetry"] == 3  # one refused, one retried, one before
    sent = [r.headers["authorization"] for r in server.seen if r.url.path.endswith("telemetry")]
    assert sent == ["Bearer t1", "Bearer t1", "Bearer t2"]
    await device.aclose()


async def test_a_burst_of_2002s_costs_one_renewal() -> None:
    server = FakeServer()
    device = client(server)
    await device.telemetry(READING)
    server.expired.add("t1")
    assert await asyncio.gather(*(device.telemetry(READING) for _ in range(20))) == [1] * 20
    assert server.calls["/v1/device/token"] == 2
    assert server.calls["/v1/device/telemetry"] == 1 + 20 + 20
    await device.aclose()


async def test_a_second_2002_after_the_retry_is_raised_not_retried_again() -> None:
    server = FakeServer()
    device = client(server)
    server.expired.update({"t1", "t2", "t3"})
    with pytest.raises(ApiError) as caught:
        await device.telemetry(READING)
    assert (caught.value.status, caught.value.code) == (401, 2002)
    assert server.calls["/v1/device/token"] == 2 and server.calls["/v1/device/telemetry"] == 2
    await device.aclose()


async def test_other_401s_are_not_retried() -> None:
    async def fetch() -> Token:
        return Token("t0", 3600)

    server = FakeServer()
    device = client(server)
    device.tokens = TokenManager(fetch)
    device._session.tokens = device.tokens
    with pytest.raises(ApiError) as caught:
        await device.telemetry(READING)
    assert caught.value.code == 2001 and server.calls["/v1/device/telemetry"] == 1
    await device.aclose()


async def test_tokens_are_renewed_before_they_expire() -> None:
    now = [1000.0]
    fetched: list[str] = []

    async def fetch() -> Token:
        fetched.append(f"t{len(fetched) + 1}")
        return Token(fetched[-1], 86_400)

    tokens = TokenManager(fetch, clock=lambda: now[0])
    assert await tokens.token() == "t1"
    now[0] += 86_400 - 301  # more than 5 minutes left: kept
    assert await tokens.token() == "t1"
    now[0] += 2  # less than 5 minutes left: renewed before it expires
    assert await tokens.token() == "t2"


async def test_a_short_token_is_renewed_at_nine_tenths_of_its_life() -> None:
    now = [0.0]

    async def fetch() -> Token:
        return Token(f"t{now[0]:g}", 100)

    tokens = TokenManager(fetch, clock=lambda: now[0])
    assert await tokens.token() == "t0"
    now[0] = 89.9
    assert await tokens.token() == "t0"
    now[0] = 90.0
    assert await tokens.token() == "t90"


async def test_a_failed_renewal_reaches_every_waiter_and_the_next_call_tries_again() -> None:
    attempts = 0

    async def fetch() -> Token:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise ApiError(503, None, "down")
        return Token("ok", 3600)

    tokens = TokenManager(fetch)
    results = await asyncio.gather(*(tokens.token() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ApiError) for r in results) and attempts == 1
    assert await tokens.token() == "ok" and attempts == 2


async def test_signed_requests_carry_a_signature_over_the_exact_body() -> None:
    server = FakeServer()
    device = client(server, sign=True)
    await device.telemetry(READING)
    sent = server.seen[-1]
    stamp = sent.headers["x-timestamp"]
    expected = signature("vgcs_test_secret", "POST", "/v1/device/telemetry", stamp, sent.content)
    assert sent.headers["x-signature"] == expected
    assert json.loads(sent.content)["connectors"] == READING
    await device.aclose()
