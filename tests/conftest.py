"""Shared fixtures: a backend (SQLite, or PostgreSQL + Redis), an in-process app, a live server."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.browser import chromium  # noqa: F401 - a session fixture for live tests
from tests.fixtures.live import LiveServer, live_server
from tests.fixtures.services import Postgres, probe_postgres, probe_redis, sqlalchemy_url
from voltgate.app import VoltgateApp, create_app
from voltgate.clock import FrozenClock
from voltgate.config import Settings
from voltgate.runtime import Runtime


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = probe_postgres()
    yield pg
    pg.drop_template()


@pytest.fixture(scope="session")
def redis_url() -> str:
    return probe_redis()


@dataclass
class Backend:
    name: str
    settings: dict[str, str]  # VOLTGATE_* values (lower-case names, without the prefix)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating anew costs ~0.1 s a test)."""
    from voltgate.db.engine import Database

    data = tmp_path_factory.mktemp("sqlite-template")

    async def migrate() -> None:
        db = Database(Settings(data_dir=data))
        try:
            await db.upgrade()
        finally:
            await db.dispose()

    asyncio.run(migrate())
    return data / "voltgate.db"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every test that takes this runs on the embedded default and on PostgreSQL + Redis."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        (tmp_path / "data").mkdir()
        shutil.copyfile(template, tmp_path / "data" / "voltgate.db")
        yield Backend("sqlite", {"data_dir": str(tmp_path / "data")})
        return
    pg: Postgres = request.getfixturevalue("postgres")
    redis: str = request.getfixturevalue("redis_url")
    database = pg.create_database()
    try:
        yield Backend(
            "postgres",
            {
                "data_dir": str(tmp_path / "data"),
                "database_url": sqlalchemy_url(database),
                "redis_url": redis,
                "redis_namespace": f"t{secrets.token_hex(6)}",
            },
        )
    finally:
        pg.drop_database(database)


def make_settings(backend: Backend, **overrides: Any) -> Settings:
    values: dict[str, Any] = {**backend.settings, **overrides}
    values.setdefault("change_poll_interval", 0.2)
    return Settings(**values)


@dataclass
class App:
    http: httpx.AsyncClient
    rt: Runtime
    clock: FrozenClock
    asgi: VoltgateApp | None = None  # for raw ASGI calls (tests/fixtures/bodies.py)

    async def client(
        self, kind: str = "operator", scopes: str = "read write", **opts: Any
    ) -> tuple[str, str]:
        opts.setdefault("name", f"test {kind}")
        created = await self.rt.identity.admin.create(kind=kind, scopes=scopes, **opts)
        return created.client.id, created.secret or ""

    async def token(self, client_id: str, secret: str, **params: str) -> dict[str, Any]:
        response = await self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", **params},
            auth=(client_id, secret),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def app(backend: Backend) -> AsyncIterator[App]:
    """The ASGI app in process (lifespan run), with a clock the test moves."""
    clock = FrozenClock()
    application = create_app(make_settings(backend), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock, application)


@pytest.fixture
async def second(app: App, backend: Backend) -> AsyncIterator[App]:
    """Another instance beside `app`, on the same database and coordinator (PostgreSQL + Redis
    only: instances share a coordinator only there)."""
    from tests.fixtures.instances import another_instance  # it builds on this module's App

    if backend.name != "postgres":
        pytest.skip("instances share a coordinator only on PostgreSQL + Redis")
    async with another_instance(backend, app) as other:
        yield other


@pytest.fixture
def live(backend: Backend, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(
        tmp_path / "data",
        tmp_path / "server.log",
        **{k: v for k, v in backend.settings.items() if k != "data_dir"},
    ) as server:
        yield server
