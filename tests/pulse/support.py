"""Driving a sandbox vehicle for pulse's live tests through the sandbox's vehicle controls
(`/sandbox/vehicles/{vin}`: plug in, unplug, drive, set the battery) with an admin token, as a
developer would; the sandbox's simulated car then streams each change."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import httpx

# Counts a screenshot's pixels of the first series' colour (#2563eb), decoded by Chromium.
_BLUE_PIXELS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    const near = (v, w) => Math.abs(v - w) < 40;
    if (near(d[i], 0x25) && near(d[i + 1], 0x63) && near(d[i + 2], 0xeb)) n++;
  }
  return n;
}"""


def blue_pixels(chromium: Any, png: bytes) -> int:
    """How many pixels of the first series' colour a screenshot has (a plot's line drawn)."""
    page = chromium.new_page()
    try:
        return int(page.evaluate(_BLUE_PIXELS, base64.b64encode(png).decode()))
    finally:
        page.close()


def admin_token(env: dict[str, str], base: str) -> str:
    """A voltgate:admin client made with the sandbox's CLI (on its data), and its token."""
    made = subprocess.run(
        [sys.executable, "-m", "voltgate", "clients", "create", "--name", "test driver",
         "--kind", "operator", "--scopes", "voltgate:admin", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    created = json.loads(made.stdout)
    answer = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


class Driver:
    """One sandbox vehicle, driven over HTTP; each call answers the vehicle's state after it."""

    def __init__(self, base: str, token: str, vin: str) -> None:
        self._url = f"{base}/sandbox/vehicles/{vin}"
        self._headers = {"Authorization": f"Bearer {token}"}

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        return state

    def _do(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self._url}/{action}"
        return self._answer(httpx.post(url, json=body, headers=self._headers, timeout=10))

    def read(self) -> dict[str, Any]:
        return self._answer(httpx.get(self._url, headers=self._headers, timeout=10))

    def plug_in(self) -> dict[str, Any]:
        return self._do("plug_in")

    def unplug(self) -> dict[str, Any]:
        return self._do("unplug")

    def move(self, latitude: float, longitude: float) -> dict[str, Any]:
        return self._do("location", {"latitude": latitude, "longitude": longitude})

    def battery(self, level: float) -> dict[str, Any]:
        return self._do("battery", {"level": level})
