"""Charger frames, from the `telemetry` table: the connectors a charger reported at one time
(one telemetry body) make one frame, keyed by the charger's id.

    {"device_id": "dev_…", "timestamp": 1767225600.0,
     "connectors": [{"connector": 1, "state": "charging", "power": 7.2,
                     "energy_delivered": 3.41, "soc": 56.0}]}

`power` is kW (negative while discharging), `energy_delivered` kWh of the current session,
`soc` percent or null, `timestamp` the reading's Unix time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import orjson
from typing_extensions import TypedDict

from voltgate.streams.store import Row
from voltgate.streams.tailer import Wants


class ConnectorFrame(TypedDict):
    connector: int
    state: str
    power: float  # kW
    energy_delivered: float  # kWh
    soc: float | None


class ChargerFrame(TypedDict):
    """One message of the operator stream (its OpenAPI schema)."""

    device_id: str
    connectors: list[ConnectorFrame]
    timestamp: float


TABLE = "telemetry"
COLUMNS = ("device_id", "at", "connector", "state", "power_kw", "energy_kwh", "soc")


def group(row: Row) -> object:
    """The rows of one frame: one charger at one time."""
    return row[1], row[2]


def frames(rows: Sequence[Row], wants: Wants) -> Iterator[tuple[str, str]]:
    """One frame per charger and reading time, for the chargers someone watches, in the
    order their first row was read."""
    found: dict[tuple[str, float], list[ConnectorFrame]] = {}
    for _id, device_id, at, connector, state, power, energy, soc in rows:
        if not wants(device_id):
            continue
        connectors = found.get((device_id, at))
        if connectors is None:
            connectors = found[device_id, at] = []
        connectors.append(
            {
                "connector": connector,
                "state": state,
                "power": power,
                "energy_delivered": energy,
                "soc": soc,
            }
        )
    for (device_id, at), connectors in found.items():
        body: ChargerFrame = {"device_id": device_id, "connectors": connectors, "timestamp": at}
        yield device_id, orjson.dumps(body).decode()
