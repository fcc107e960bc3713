"""A live ingest on 127.0.0.1 over a test database, and vehicles that connect to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import Backend, make_settings
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.fleettelemetry.ingest.service import Ingest, start_ingest

MASTER = bytes(range(32))
VIN = "5YJ3E1EA7KF000001"
OTHER_VIN = "5YJ3E1EA7KF000002"


class FixedConfigs:
    """Configurations set by the test: `fields` for every allowed vehicle."""

    def __init__(self, vins: set[str]) -> None:
        self.vins = vins
        self.version = "1"
        self.fields: dict[str, dict[str, Any]] = {"Soc": {"interval_seconds": 1}}
        self.applied_versions: dict[str, str] = {}

    async def allowed(self, vin: str) -> bool:
        return vin in self.vins

    async def current(self, vin: str) -> tuple[str, dict[str, Any]] | None:
        return (self.version, {"fields": self.fields}) if vin in self.vins else None

    async def applied(self, vin: str, version: str) -> None:
        self.applied_versions[vin] = version

    def changed(self) -> set[str]:
        return set()

    async def catch_up(self) -> None:
        pass


@dataclass
class Harness:
    ingest: Ingest
    ca: CertificateAuthority
    db: Database
    configs: FixedConfigs

    @property
    def url(self) -> str:
        return f"wss://localhost:{self.ingest.port}/"

    def vehicle(
        self, vin: str = VIN, ca: CertificateAuthority | None = None, **kw: Any
    ) -> VehicleClient:
        authority = ca or self.ca
        cert, key = authority.issue_vehicle(vin)
        return VehicleClient(self.url, vin, client_context(self.ca.cert_pem, cert, key), **kw)

    async def rows(self, table: str, count: int, timeout: float = 10.0) -> None:
        """Waits until `table` holds `count` rows (a record written after a socket closed)."""
        async with asyncio.timeout(timeout):
            while await self.count(table) < count:
                await asyncio.sleep(0.01)

    async def count(self, table: str, where: str = "1 = 1") -> int:
        statement = Statement(f"SELECT count(*) FROM {table} WHERE {where}")
        rows = await self.db.reader.all(statement)
        return int(rows[0][0])


@asynccontextmanager
async def live_ingest(
    backend: Backend, tmp_path: Path, allowed: set[str] | None = None, **settings: Any
) -> AsyncIterator[Harness]:
    values = {"telemetry_port": 0, "telemetry_instance": "test-ingest", **settings}
    config = make_settings(backend, **values)
    ca = CertificateAuthority.init(tmp_path / "telemetry-ca", MASTER)
    db = Database(config)
    await db.upgrade()
    configs = FixedConfigs({VIN} if allowed is None else allowed)
    ingest = await start_ingest(config, ca, configs, db)
    try:
        yield Harness(ingest, ca, db, configs)
    finally:
        await ingest.stop()
        await db.dispose()
