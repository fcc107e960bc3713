"""Pulse's dashboard in Chromium on a phone's 390-px viewport: no horizontal scroll however long
its VINs, command bodies and alert messages; the plots drawn; each table's cells labelled by
their column; the notice that webhooks are off shown. On a wide screen the tables stay tables."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pulse.support import blue_pixels
from voltgate.pulse import pages
from voltgate.pulse.config import Rules
from voltgate.pulse.rules import Engine
from voltgate.pulse.store import Action, Alert, PulseStore
from voltgate.pulse.webhooks import NO_CLIENT_CREDENTIALS

VINS = ("5YJ3E7EB2NF000001", "7SAYGDEE5PF000002")
HOME = (48.1374, 11.5755)
SCHEDULE = {"id": 1, "days_of_week": "Weekdays", "end_enabled": True, "end_time": 450,
            "lat": HOME[0], "lon": HOME[1], "enabled": True, "one_time": False}  # fmt: skip


async def _dashboard(tmp_path: Path) -> bytes:
    """Two cars streamed for an hour, a day's energy, alerts and commands with long texts."""
    store, now = PulseStore(tmp_path / "pulse.db"), time.time()

    async def sent(vin: str, name: str, body: dict[str, Any]) -> None:
        pass

    engine = Engine(Rules(home=HOME), store, sent)
    for index, vin in enumerate(VINS):
        values = {"ChargeState": "Charging", "Soc": 55.5, "ChargeLimitSoc": 80,
                  "Location": {"latitude": HOME[0], "longitude": HOME[1]}}  # fmt: skip
        frame = [{"key": k, "value": v} for k, v in values.items()]
        await engine.frame(vin, now, now, frame)
        for minute in range(60):
            at = now - 3600 + minute * 60
            store.sample(vin, at, "soc", 30 + index * 10 + minute / 3)
            store.sample(vin, at, "power_kw", 11.0 - index)
    store.add_energy(engine.rules.local(now).date().isoformat(), VINS[0], 12.5)
    for _ in range(3):
        store.alert(
            Alert(
                now,
                VINS[0],
                "stopped_early",
                "charging stopped at 61.0 %, 19.0 points below the limit of 80 %",
            )
        )
        store.action(Action(now, VINS[0], "add_charge_schedule", json.dumps(SCHEDULE), "True"))
        store.action(Action(now, VINS[1], "auto_conditioning_start", "{}",
                            "False vehicle_command_protocol_required"))  # fmt: skip
    page = pages.dashboard(store, engine, True, now, f"off: {NO_CLIENT_CREDENTIALS}")
    store.close()
    return page


@pytest.fixture
def dashboard(tmp_path: Path) -> str:
    """Rendered before Chromium starts (Playwright's sync API holds the thread's loop)."""
    return asyncio.run(_dashboard(tmp_path)).decode()


def test_the_dashboard_fits_a_phone_with_its_plots_drawn(
    dashboard: str, tmp_path: Path, chromium: Any
) -> None:
    html = dashboard
    phone = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        phone.set_content(html)
        width = phone.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        )
        assert width <= 390, f"{width} px wide at a 390-px viewport"
        for plot in ("soc", "power_kw", "energy"):
            box = phone.locator(f"#{plot} svg").bounding_box()
            assert box is not None and 300 <= box["width"] <= 390, (plot, box)
        for plot in ("soc", "power_kw"):
            assert phone.locator(f"#{plot} polyline").count() == 2
            png = phone.locator(f"#{plot} svg").screenshot(path=str(tmp_path / f"{plot}.png"))
            assert blue_pixels(chromium, png) > 100, plot  # the first car's line is drawn
        assert phone.locator("#energy rect.bar").count() == 14
        cell = phone.locator('#actions td[data-label="body"]').first
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"body"'
        assert phone.get_by_role("status").inner_text().startswith("Webhooks are off:")
        phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        phone.close()
    wide = chromium.new_page(viewport={"width": 1000, "height": 900})
    try:
        wide.set_content(html)
        assert wide.locator("#actions thead").is_visible()  # a table, headings on top
        assert wide.locator("#actions td").first.evaluate(
            "td => getComputedStyle(td).display"
        ) == "table-cell"  # fmt: skip
    finally:
        wide.close()
