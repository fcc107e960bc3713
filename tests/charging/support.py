"""Chargers that report sessions with chosen times and energy, for the list and report tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.conftest import App
from tests.fixtures.fleet import Operator, device_headers, enroll, register

PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]
_transactions = itertools.count(1)


@dataclass
class Station:
    device_id: str
    headers: dict[str, str]


async def station(app: App, op: Operator, site_id: str | None = None) -> Station:
    """A charger with two connectors, registered to `op` (and to `site_id`)."""
    token = await enroll(app, op, **({"site_id": site_id} if site_id else {}))
    charger = await register(app, token, connectors=PORTS)
    return Station(charger.device_id, await device_headers(app, charger))


async def report(
    app: App,
    where: Station,
    started_at: float,
    energy_kwh: float,
    *,
    connector: int = 1,
    stopped_at: float | None = None,
    open_: bool = False,
) -> dict[str, Any]:
    """One session reported by the charger; stopped an hour after it started unless `open_`."""
    body: dict[str, Any] = {
        "transaction_id": f"tx-{next(_transactions)}",
        "connector": connector,
        "started_at": started_at,
        "energy_kwh": energy_kwh,
    }
    if not open_:
        body["stopped_at"] = stopped_at if stopped_at is not None else started_at + 3600
    response = await app.http.post("/v1/device/charging-records", json=body, headers=where.headers)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()["data"]
    return record


async def walk(app: App, op: Operator, query: str = "", limit: int = 3) -> list[dict[str, Any]]:
    """Every record the cursor walk returns, in order."""
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        url = f"/v1/operator/charging-records?limit={limit}{query}"
        response = await app.http.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=op.headers
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        seen.extend(data["items"])
        cursor = data["next_cursor"]
        if cursor is None:
            return seen
