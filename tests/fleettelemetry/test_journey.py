"""An app's whole Fleet Telemetry journey through one runtime: it configures the user's
vehicle, the vehicle connects over mutual TLS, takes and runs the configuration (`synced`),
streams, and the app's WebSocket stream carries each signal within a second of its sending;
the vehicle's state follows its connection."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.conftest import App
from tests.fixtures.sockets import app_socket
from tests.vehicles.support import driver
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.fleettelemetry.ingest.configs import ListenerConfigs
from voltgate.fleettelemetry.ingest.service import start_ingest

MASTER = bytes(range(32))


async def _until_synced(app: App, path: str, headers: dict[str, str]) -> dict[str, object]:
    async with asyncio.timeout(10):
        while True:
            shown = (await app.http.get(path, headers=headers)).json()["response"]
            if shown["synced"]:
                return dict(shown)
            await asyncio.sleep(0.05)


async def _state(app: App, vin: str, headers: dict[str, str], wanted: str) -> None:
    """Waits for the vehicle's state to be `wanted` (reads are kept for up to a second of the
    test's clock, which the test moves)."""
    async with asyncio.timeout(10):
        while True:
            app.clock.advance(1.1)
            answer = await app.http.get(f"/api/1/vehicles/{vin}", headers=headers)
            if answer.json()["response"]["state"] == wanted:
                return
            await asyncio.sleep(0.05)


async def test_an_app_configures_a_vehicle_and_sees_its_signals_within_a_second(
    app: App, tmp_path: Path
) -> None:
    user = await driver(app)
    vin = user.charging.vin
    headers = await user.headers("vehicle_device_data")
    fields = {"Soc": {"interval_seconds": 1}, "ChargeAmps": {"interval_seconds": 1}}
    configured = await app.http.post(
        "/api/1/vehicles/fleet_telemetry_config",
        json={"vins": [vin], "config": {"hostname": "localhost", "fields": fields}},
        headers=headers,
    )
    assert configured.json() == {
        "response": {
            "updated_vehicles": 1,
            "skipped_vehicles": {
                "missing_key": [],
                "unsupported_hardware": [],
                "unsupported_firmware": [],
                "max_configs": [],
            },
        }
    }
    authority = CertificateAuthority.init(tmp_path / "ca", MASTER)
    settings = app.rt.settings.model_copy(update={"telemetry_port": 0})
    configs = ListenerConfigs(app.rt.owner.telemetry_configs)
    ingest = await start_ingest(settings, authority, configs, app.rt.db)
    cert, key = authority.issue_vehicle(vin)
    car = VehicleClient(
        f"wss://localhost:{ingest.port}/", vin, client_context(authority.cert_pem, cert, key)
    )
    try:
        await car.connect()
        pushed = await asyncio.wait_for(car.texts.get(), 10)
        assert '"type":"config"' in pushed and '"Soc"' in pushed
        version = pushed.split('"version":"')[1].split('"')[0]
        await car.say(f'{{"type":"config_applied","version":"{version}"}}')
        shown = await _until_synced(app, f"/api/1/vehicles/{vin}/fleet_telemetry_config", headers)
        assert shown["config"]["fields"] == fields  # type: ignore[index]
        await _state(app, vin, headers, "online")

        async with app_socket(app.asgi, "/api/1/vehicles/stream", f"vins={vin}", headers) as live:  # type: ignore[arg-type]
            delays = []
            for level in (61.5, 62.0, 62.5):
                sent = time.monotonic()
                await car.send_signals([("Soc", level), ("ChargeAmps", 16.0)])
                frame = await asyncio.wait_for(live.json(), 5)
                delays.append(time.monotonic() - sent)
                assert frame["vin"] == vin
                assert frame["data"] == [
                    {"key": "Soc", "value": level},
                    {"key": "ChargeAmps", "value": 16.0},
                ]
            assert max(delays) < 1.0, delays
        await car.close()
        await _state(app, vin, headers, "asleep")
    finally:
        await ingest.stop()
