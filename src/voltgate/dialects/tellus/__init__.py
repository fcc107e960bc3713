"""Tellus Open Platform: JSON token requests, the `{code, message, data}` envelope, numeric
error codes (`errors.TELLUS_ERRORS`), page/size lists; the operator's inventory and controls,
the charger's channel and the operator's live stream.

`mount(table, rt, kept)` picks the services each group of routes uses, once, at start-up.
"""

from __future__ import annotations

from voltgate.dialects.tellus import (
    channel,
    charging,
    commands,
    inventory,
    stream,
    telemetry,
    tokens,
)
from voltgate.errors import TELLUS_ERRORS
from voltgate.http.kept import Kept
from voltgate.http.routing import RouteTable
from voltgate.runtime import Runtime


def mount(table: RouteTable, rt: Runtime, _kept: Kept) -> None:
    tellus = table.scope(errors=TELLUS_ERRORS)
    fleet = rt.fleet
    tokens.mount(tellus, rt.identity.token_endpoint)
    inventory.mount(tellus, fleet.sites, fleet.devices, fleet.enrollments, rt.clock)
    commands.mount(tellus, fleet.commands)
    channel.mount(tellus, fleet.commands, rt.clock, rt.settings.max_body_bytes)
    telemetry.mount(tellus, fleet.telemetry, rt.clock)
    charging.mount(tellus, fleet.charging, rt.clock)
    streams = rt.streams
    stream.mount(tellus, fleet.devices, streams.chargers, streams.charger_feed, streams.sessions)
