"""`GET /v1/operator/stream` on a running server (granian): a charger's telemetry reaches the
operator's stream within a second of its 202, with the token in the header or the query; the
handshake refuses bad tokens, wrong kinds and scopes and another operator's chargers in the
Tellus error body; revoking the token closes its streams within a second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.fixtures.live import LiveServer
from tests.fixtures.streams import charger, fleet, open_stream, operator_token, post


async def _frame(stream: Any, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        found: dict[str, Any] = orjson.loads(await stream.recv())
    return found


def _expected(device_id: str, at: float, energy: float) -> dict[str, Any]:
    charging = {
        "connector": 1,
        "state": "charging",
        "power": 7.4,
        "energy_delivered": energy,
        "soc": 55.0,
    }
    idle = {"connector": 2, "state": "available", "power": 0.0, "energy_delivered": 0.0}
    return {
        "device_id": device_id,
        "connectors": [charging, {**idle, "soc": None}],
        "timestamp": at,
    }


async def test_frames_arrive_within_a_second_of_the_telemetry_being_accepted(
    live: LiveServer,
) -> None:
    found = fleet(live)
    by_header = await open_stream(live, f"devices={found.device_id}", found.token)
    by_query = await open_stream(live, f"devices={found.device_id}&token={found.token}")
    delays: list[float] = []
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http, by_header, by_query:
        for n in range(3):
            at = round(time.time(), 3)
            await post(http, found, at, energy=float(n))
            accepted = time.perf_counter()
            frames = [await _frame(by_header), await _frame(by_query)]
            delays.append(time.perf_counter() - accepted)
            assert frames == [_expected(found.device_id, at, float(n))] * 2
    print(f"frame delays after the 202 (s): {[round(d, 3) for d in delays]}")
    assert max(delays) < 1.0


async def _refused(live: LiveServer, query: str, token: str | None = None) -> tuple[int, Any]:
    with pytest.raises(InvalidStatus) as refused:
        await open_stream(live, query, token)
    response = refused.value.response
    return response.status_code, orjson.loads(response.body)["code"]


async def test_the_handshake_is_refused_in_the_tellus_error_body(live: LiveServer) -> None:
    found = fleet(live)
    mine = f"devices={found.device_id}"
    assert await _refused(live, mine) == (401, 2001)
    assert await _refused(live, mine, "not-a-token") == (401, 2001)
    assert await _refused(live, f"{mine}&token=not-a-token") == (401, 2001)
    _, writer = operator_token(live, scopes="write")
    assert await _refused(live, mine, writer) == (403, 2003)
    device_token = found.device["Authorization"].split()[1]
    assert await _refused(live, mine, device_token) == (403, 2003)

    other_creds, other_token = operator_token(live)
    theirs, _ = charger(live, other_creds)
    assert await _refused(live, f"devices={found.device_id},{theirs}", found.token) == (404, 3001)
    assert await _refused(live, "devices=vgc_test_nosuchdevice", found.token) == (404, 3001)
    assert await _refused(live, "devices=,", found.token) == (400, 1002)
    many = ",".join(f"d{n}" for n in range(101))
    assert await _refused(live, f"devices={many}", found.token) == (400, 1002)
    assert await _refused(live, "", found.token) == (400, 1002)

    # A token holds at most VOLTGATE_STREAM_MAX_PER_TOKEN (5) streams; another token its own.
    held = [await open_stream(live, mine, found.token) for _ in range(5)]
    assert await _refused(live, mine, found.token) == (429, 5001)
    async with await open_stream(live, f"devices={theirs}", other_token):
        pass
    for stream in held:
        await stream.close()

    plain = httpx.get(
        f"{live.base_url}/v1/operator/stream",
        params={"devices": found.device_id},
        headers={"Authorization": f"Bearer {found.token}"},
        timeout=10,
    )
    assert plain.status_code == 426 and plain.json()["code"] == 1001
    assert plain.headers["upgrade"] == "websocket"


async def _closed(stream: Any, within: float) -> tuple[int, str, float]:
    """Wait (at most `within` s) for the server to close the stream: code, reason, when."""
    async with asyncio.timeout(within):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await stream.recv()
    ended = time.perf_counter()
    rcvd = closed.value.rcvd
    assert rcvd is not None, "closed without a close frame"
    return rcvd.code, rcvd.reason, ended


async def test_revoking_the_token_closes_its_streams_within_a_second(live: LiveServer) -> None:
    found = fleet(live)
    other = fleet(live)  # another operator's token: its stream stays open
    streams = [
        await open_stream(live, f"devices={found.device_id}", found.token),
        await open_stream(live, f"devices={found.device_id}&token={found.token}"),
    ]
    untouched = await open_stream(live, f"devices={other.device_id}", other.token)
    closing = [asyncio.create_task(_closed(stream, 10)) for stream in streams]
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        revoked = await http.post(
            "/oauth/revoke",
            data={"token": found.token, "token_type_hint": "access_token"},
            auth=(found.creds["client_id"], found.creds["client_secret"]),
        )
        assert revoked.status_code == 200, revoked.text
        for code, reason, ended in await asyncio.gather(*closing):
            assert (code, reason) == (1008, "the access token was revoked")
            latency = ended - started
            print(f"closed {latency:.3f} s after the revocation was sent")
            assert latency < 1.0
        await post(http, other, round(time.time(), 3))
        assert (await _frame(untouched))["device_id"] == other.device_id
    await untouched.close()
    with pytest.raises(InvalidStatus) as refused:  # and the token opens no new one
        await websockets.connect(
            f"ws://{live.base_url.removeprefix('http://')}/v1/operator/stream"
            f"?devices={found.device_id}&token={found.token}"
        )
    assert refused.value.response.status_code == 401


async def test_stopping_the_server_ends_its_streams_at_once(live: LiveServer) -> None:
    """granian drops its WebSockets when it stops, without a close frame (granian#796): the
    client sees the connection end (1006) and reconnects; the server does not wait for them."""
    found = fleet(live)
    stream = await open_stream(live, f"devices={found.device_id}", found.token)
    assert live.process is not None
    live.process.terminate()  # SIGTERM, as a service manager stops it
    async with asyncio.timeout(10):
        with pytest.raises(ConnectionClosed):
            while True:
                await stream.recv()
    assert live.process.wait(timeout=10) == 0
