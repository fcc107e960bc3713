"""What every dispatch variant serves: one guarded read of a charger from memory.

`GET /v1/operator/devices/{device_id}?size=20`: the bearer token compared in constant time,
`size` validated as an integer in 1..100, the device looked up in a dict, the Tellus envelope
serialised. 401 without the token, 404 for an unknown id, 400 for a bad `size`."""

from __future__ import annotations

import hmac
from typing import Any

TOKEN = "Bearer bench-token-0123456789abcdef"
DEVICES: dict[str, dict[str, Any]] = {
    f"dev{i:03d}": {
        "id": f"dev{i:03d}",
        "site_id": "site01",
        "sn": f"SN-{i:05d}",
        "model": "bench",
        "manufacturer": "bench",
        "firmware_version": "1.0",
        "mac": None,
        "connectors": [{"number": 1, "type": "CCS2", "max_power_kw": 150.0}],
        "last_seen_at": 1_760_000_000,
        "online": True,
    }
    for i in range(20)
}


def authorized(header: str | None) -> bool:
    return header is not None and hmac.compare_digest(header.encode(), TOKEN.encode())


def envelope(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}
