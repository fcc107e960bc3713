"""What a vehicle streams through the listener reaches the app's alert rules once stored: a
state of charge crossing below the rule's threshold fires one alert, listed at /v1/alerts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import Backend
from tests.fixtures.alerting import alerting_app, consenting_vehicle, rule, third_party
from tests.fleettelemetry.ingest.support import FixedConfigs
from voltgate.fleettelemetry.alerting import rules_feed
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.fleettelemetry.ingest.service import start_ingest

LOW_SOC = {"kind": "threshold", "field": "Soc", "op": "below", "value": 20, "hysteresis": 2}


async def test_a_streamed_crossing_fires_the_apps_alert(backend: Backend, tmp_path: Path) -> None:
    async with alerting_app(backend) as app:
        client = await third_party(app)
        vin = await consenting_vehicle(app, client.client_id)
        await rule(app, client, **LOW_SOC)
        authority = CertificateAuthority.init(tmp_path / "ca", bytes(range(32)))
        settings = app.rt.settings.model_copy(update={"telemetry_port": 0})
        evaluate = rules_feed(app.rt.alerting.alerts.engine)
        ingest = await start_ingest(settings, authority, FixedConfigs({vin}), app.rt.db, evaluate)
        cert, key = authority.issue_vehicle(vin)
        car = VehicleClient(
            f"wss://localhost:{ingest.port}/", vin, client_context(authority.cert_pem, cert, key)
        )
        try:
            await car.connect()
            start = app.clock.now()
            for offset, level in enumerate((30.0, 25.0, 19.0, 18.5, 19.5)):
                await car.send_signals([("Soc", level)], created_at=start + offset)
            assert await car.acknowledged(10)
            async with asyncio.timeout(10):
                while True:
                    listed = await app.http.get("/v1/alerts", headers=client.headers)
                    items = listed.json()["items"]
                    if items:
                        break
                    await asyncio.sleep(0.05)
            await app.rt.alerting.alerts.engine.drain()
            items = (await app.http.get("/v1/alerts", headers=client.headers)).json()["items"]
            assert len(items) == 1, items
            assert (items[0]["subject"], items[0]["value"]) == (vin, 19.0)
            await car.close()
        finally:
            await ingest.stop()
