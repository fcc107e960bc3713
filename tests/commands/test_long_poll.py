"""The long-poll: a charger waiting on GET /v1/device/commands gets a command the moment it is
queued — in this process and, through Redis, from another instance."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.commands.support import START, command, fleet, heartbeat, queued
from tests.conftest import App, Backend, make_settings
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.runtime import Runtime


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for `condition` (set by the server's own tasks), failing after `timeout`."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def _poll_in_background(
    http: httpx.AsyncClient, rt: Runtime, headers: dict[str, str], wait: int = 30
) -> asyncio.Task[httpx.Response]:
    before = rt.fleet.commands.listening
    task = asyncio.create_task(
        http.get("/v1/device/commands", params={"wait": wait}, headers=headers)
    )
    await _until(lambda: rt.fleet.commands.listening > before or task.done())
    assert not task.done(), task.result().text
    return task


async def _returns_within(task: asyncio.Task[httpx.Response], limit: float) -> httpx.Response:
    started = time.perf_counter()
    response = await asyncio.wait_for(task, timeout=limit)
    assert time.perf_counter() - started < limit
    assert response.status_code == 200, response.text
    return response


async def test_a_waiting_charger_gets_a_new_command_at_once(app: App) -> None:
    fl = await fleet(app)
    poll = await _poll_in_background(app.http, app.rt, fl.device)
    command_id = await queued(app, fl)
    response = await _returns_within(poll, 1.0)
    [delivered] = response.json()["data"]["commands"]
    assert delivered["command_id"] == command_id and delivered["params"] == START
    assert app.rt.fleet.commands.listening == 0


async def test_pending_commands_come_back_without_waiting(app: App) -> None:
    fl = await fleet(app)
    ids = [await queued(app, fl), await queued(app, fl, "stop")]
    response = await app.http.get("/v1/device/commands", params={"wait": 60}, headers=fl.device)
    assert [c["command_id"] for c in response.json()["data"]["commands"]] == ids
    empty = await app.http.get("/v1/device/commands", params={"wait": 0}, headers=fl.device)
    assert empty.json() == {"code": 0, "message": "success", "data": {"commands": []}}


async def test_a_command_for_another_charger_does_not_end_the_wait(app: App) -> None:
    mine = await fleet(app)
    other = await fleet(app, mine.op)
    poll = await _poll_in_background(app.http, app.rt, mine.device, wait=1)
    await queued(app, other)
    response = await _returns_within(poll, 3.0)
    assert response.json()["data"]["commands"] == []


async def test_a_poll_whose_charger_hung_up_ends_and_takes_nothing(app: App) -> None:
    fl = await fleet(app)
    hangup = asyncio.Event()
    poll = asyncio.create_task(app.rt.fleet.commands.poll(fl.charger.device_id, 30, hangup))
    await _until(lambda: app.rt.fleet.commands.listening == 1)
    hangup.set()
    assert await asyncio.wait_for(poll, 1.0) == []
    assert app.rt.fleet.commands.listening == 0
    command_id = await queued(app, fl)
    assert [c["command_id"] for c in (await heartbeat(app, fl))["commands"]] == [command_id]


async def test_polling_counts_as_a_heartbeat(app: App) -> None:
    fl = await fleet(app)
    assert (await command(app, fl)).json()["data"]["device_online"] is False
    await app.http.get("/v1/device/commands", params={"wait": 0}, headers=fl.device)
    assert (await command(app, fl)).json()["data"]["device_online"] is True


@pytest.mark.parametrize("wait", ["61", "-1", "soon"])
async def test_a_wait_out_of_range_is_400_code_1002(app: App, wait: str) -> None:
    fl = await fleet(app)
    response = await app.http.get("/v1/device/commands", params={"wait": wait}, headers=fl.device)
    assert response.status_code == 400 and response.json()["code"] == 1002
    assert "wait" in response.json()["message"]


async def test_operator_tokens_cannot_poll(app: App) -> None:
    fl = await fleet(app)
    response = await app.http.get("/v1/device/commands", headers=fl.op.headers)
    assert response.status_code == 403 and response.json()["code"] == 2003


@pytest.fixture
async def second_instance(app: App, backend: Backend) -> AsyncIterator[tuple[App, App]]:
    """Another instance on the same PostgreSQL and Redis."""
    if backend.name != "postgres":
        pytest.skip("instances share a coordinator only on PostgreSQL + Redis")
    clock = FrozenClock(app.clock.now())
    other = create_app(make_settings(backend), clock=clock)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other, client=("127.0.0.1", 40001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, App(http, other.state.runtime, clock)


async def test_a_command_queued_on_another_instance_wakes_the_poll(
    second_instance: tuple[App, App],
) -> None:
    polled, commanding = second_instance
    fl = await fleet(polled)
    poll = await _poll_in_background(polled.http, polled.rt, fl.device)
    command_id = await queued(commanding, fl)
    response = await _returns_within(poll, 1.0)
    assert [c["command_id"] for c in response.json()["data"]["commands"]] == [command_id]
