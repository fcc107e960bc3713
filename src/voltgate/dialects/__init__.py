"""Dialects: each seed platform's paths, bodies and error contracts as a route table over one core.

A dialect exposes `mount(table, rt, kept)`: it registers its operations on the route table,
binding each handler to the services it uses, once, at start-up (`kept`: the store of kept
answers the router uses, for a handler that keeps its own renderings). Adding a dialect is
adding an entry to DIALECTS.
"""

from __future__ import annotations

from collections.abc import Callable

from voltgate.dialects import beenergised, canonical, evenergy, tellus, tesla
from voltgate.http.kept import Kept
from voltgate.http.routing import RouteTable
from voltgate.runtime import Runtime

Mount = Callable[[RouteTable, Runtime, Kept], None]

DIALECTS: dict[str, Mount] = {
    "canonical": canonical.mount,
    "tellus": tellus.mount,
    "evenergy": evenergy.mount,
    "tesla": tesla.mount,
    "beenergised": beenergised.mount,
}
