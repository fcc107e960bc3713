"""Read models across processes: a write on one instance is read on another within a second
(PostgreSQL + Redis: the change goes out on Redis pub/sub), and a CLI's write to the SQLite
file is read by a running server within a second (the server polls the change counter)."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import App, Backend, make_settings
from tests.fixtures.fleet import device_headers, enroll, operator, register
from tests.fixtures.keyhost import key_host
from tests.fixtures.live import server_env
from tests.web.support import PASSWORD, REDIRECT, Flow
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.config import Settings

PROMISE = 1.0  # seconds
SCOPE = "offline_access vehicle_device_data"
EMAIL = "driver@example.com"

on_postgres = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
on_sqlite = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def _seen_within(what: str, probe: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until `probe()` holds, polled every 10 ms; asserted within the promise."""
    started = time.monotonic()
    while not await probe():
        if time.monotonic() - started > 3 * PROMISE:
            pytest.fail(f"{what}: not seen after {3 * PROMISE:.0f} s")
        await asyncio.sleep(0.01)
    delay = time.monotonic() - started
    print(f"{what}: seen after {delay * 1000:.0f} ms")  # the measured figure, with -s
    assert delay < PROMISE, f"{what}: seen after {delay:.3f} s"
    return delay


@asynccontextmanager
async def _instance(settings: Settings, clock: FrozenClock, port: int) -> AsyncIterator[App]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", port))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock)


@pytest.fixture
async def other(backend: Backend, app: App) -> AsyncIterator[App]:
    """A second instance on the first one's database and Redis (and its clock)."""
    async with _instance(make_settings(backend), app.clock, 40001) as instance:
        yield instance


@pytest.mark.services
@on_postgres
async def test_a_charger_registered_heard_from_and_owned_on_one_instance_reads_on_another(
    app: App, other: App
) -> None:
    op = await operator(app)
    charger = await register(
        app, await enroll(app, op), connectors=[{"type": "Type2", "max_power_kw": 22}]
    )
    path = f"/v1/operator/devices/{charger.device_id}"

    async def shown() -> dict[str, Any] | None:
        response = await other.http.get(path, headers=op.headers)
        return response.json()["data"] if response.status_code == 200 else None

    async def registered() -> bool:
        return await shown() is not None

    await _seen_within("registration", registered)
    listed = (await other.http.get("/v1/operator/devices", headers=op.headers)).json()["data"]
    assert [d["id"] for d in listed["items"]] == [charger.device_id]
    assert (await shown() or {})["online"] is False

    beat = await app.http.post(
        "/v1/device/heartbeat", json={}, headers=await device_headers(app, charger)
    )
    assert beat.status_code == 200, beat.text

    async def online() -> bool:
        return (await shown() or {}).get("online") is True

    await _seen_within("heartbeat (online)", online)
    assert (await shown() or {})["last_seen_at"] == int(app.clock.now())

    user = await app.rt.identity.users.create("home@example.com", PASSWORD)
    await app.rt.fleet.devices.set_owner(charger.device_id, user.id)

    async def owned() -> bool:
        device = await other.rt.fleet.devices.find(charger.device_id)
        return device is not None and device.owner_user_id == user.id

    await _seen_within("owner", owned)


@pytest.mark.services
@on_postgres
async def test_users_partners_and_connected_apps_written_on_one_instance_read_on_another(
    app: App, other: App
) -> None:
    user = await app.rt.identity.users.create(EMAIL, PASSWORD)

    async def user_known() -> bool:
        return await other.rt.identity.users.find(user.id) is not None

    await _seen_within("user", user_known)

    partner, secret = await app.client(kind="partner", scopes="user_data")
    partner_headers = {
        "Authorization": f"Bearer {(await app.token(partner, secret))['access_token']}"
    }
    with key_host() as host:
        key = host.serve_key()
        registered = await app.http.post(
            "/api/1/partner_accounts", json={"domain": host.domain}, headers=partner_headers
        )
    assert registered.status_code == 200, registered.text

    async def partner_known() -> bool:
        response = await other.http.get(
            "/api/1/partner_accounts/public_key",
            params={"domain": host.domain},
            headers=partner_headers,
        )
        return response.status_code == 200 and response.json()["response"] == {
            "public_key": key.point.hex()
        }

    await _seen_within("partner account", partner_known)

    cid, app_secret = await app.client(kind="third_party", scopes=SCOPE, redirect_uris=[REDIRECT])
    flow = Flow(app.http, cid, scope=SCOPE)
    redeemed = await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": await flow.code(EMAIL),
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(cid, app_secret),
    )
    assert redeemed.status_code == 200, redeemed.text
    tokens = redeemed.json()

    async def apps_there() -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        response = await other.http.get("/v1/me/apps", headers=headers)
        assert response.status_code == 200, response.text
        apps: list[dict[str, Any]] = response.json()["apps"]
        return apps

    async def connected() -> bool:
        return [a["client_id"] for a in await apps_there()] == [cid]

    await _seen_within("connected app", connected)

    app.clock.advance(600)  # both instances share this clock
    refreshed = await app.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(cid, app_secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()

    async def last_use_moved() -> bool:
        return [a["last_used_at"] for a in await apps_there()] == [int(app.clock.now())]

    await _seen_within("app's last use", last_use_moved)

    assert await app.rt.identity.consents.disconnect(user.id, cid)

    async def disconnected() -> bool:
        return await other.rt.identity.consents.apps(user.id) == []

    await _seen_within("disconnection", disconnected)

    await app.rt.identity.users.disable(user.id)

    async def disabled() -> bool:
        found = await other.rt.identity.users.find(user.id)
        return found is not None and found.disabled_at is not None

    await _seen_within("user disabled", disabled)


@pytest.fixture
async def server(backend: Backend) -> AsyncIterator[App]:
    """A serving instance polling the change counter at the default interval."""
    default = Settings.model_fields["change_poll_interval"].default
    settings = make_settings(backend, change_poll_interval=default)
    async with _instance(settings, FrozenClock(), 40002) as instance:
        yield instance


async def _cli(backend: Backend, *args: str) -> asyncio.subprocess.Process:
    """`voltgate <args> --json` on the server's data directory, started."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voltgate",
        *args,
        "--json",
        env=server_env(Path(backend.settings["data_dir"])),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _lag_behind_the_file(
    what: str,
    backend: Backend,
    cli: tuple[str, ...],
    query: tuple[str, str],
    seen: Callable[[tuple[Any, ...]], Awaitable[bool]],
) -> dict[str, Any]:
    """Run the CLI and watch, every 5 ms, both the SQLite file (`query` answers a row once the
    CLI's write is committed) and the server's read model (`seen(row)`); the lag between the
    two is asserted within the promise. The CLI's JSON output."""
    path = Path(backend.settings["data_dir"]) / "voltgate.db"
    file = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    process = await _cli(backend, *cli)
    output = asyncio.ensure_future(asyncio.wait_for(process.communicate(), timeout=60))
    committed: float | None = None
    row: tuple[Any, ...] | None = None
    try:
        while True:
            now = time.monotonic()
            if (
                committed is None
                and (found := file.execute(query[0], query[1:]).fetchone())
                and found[0]
            ):
                row, committed = found, now
            if committed is not None and row is not None and await seen(row):
                break
            if output.done() and (committed is None or now - committed > 3 * PROMISE):
                pytest.fail(f"{what}: not seen ({(await output)[1].decode()})")
            await asyncio.sleep(0.005)
    finally:
        file.close()
    assert committed is not None
    lag = time.monotonic() - committed
    print(f"{what}: seen {lag * 1000:.0f} ms after its commit")  # the measured figure, with -s
    assert lag < PROMISE, f"{what}: seen {lag:.3f} s after its commit"
    out, err = await output
    assert process.returncode == 0, err.decode()
    data: dict[str, Any] = orjson.loads(out)
    return data


@on_sqlite
async def test_cli_writes_to_the_sqlite_file_are_read_by_a_running_server_within_a_second(
    backend: Backend, server: App
) -> None:
    op = await operator(server)
    charger = await register(server, await enroll(server, op))
    users = server.rt.identity.users

    async def user_known(row: tuple[Any, ...]) -> bool:
        return await users.find(row[0]) is not None

    created = await _lag_behind_the_file(
        "user created by the CLI",
        backend,
        ("users", "create", "--email", EMAIL, "--password", PASSWORD),
        ("SELECT id FROM users WHERE email = ?", EMAIL),
        user_known,
    )

    async def owned(row: tuple[Any, ...]) -> bool:
        device = await server.rt.fleet.devices.find(charger.device_id)
        return device is not None and device.owner_user_id == row[0]

    await _lag_behind_the_file(
        "owner set by the CLI",
        backend,
        ("devices", "set-owner", charger.device_id, "--user", EMAIL),
        ("SELECT owner_user_id FROM devices WHERE id = ?", charger.device_id),
        owned,
    )
    device = await server.rt.fleet.devices.find(charger.device_id)
    assert device is not None and device.owner_user_id == created["user_id"]
