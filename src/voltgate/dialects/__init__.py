"""Dialects: each seed platform's paths, bodies and error contracts as a route table over one core.

A dialect module exposes `mount(app, fast)`: FastAPI routes on `app`, hot raw-ASGI routes on
`fast`. Adding a dialect is adding an entry to DIALECTS.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from voltgate.dialects import canonical, evenergy, tellus, tesla
from voltgate.http.fastpath import FastRouteTable

Mount = Callable[[FastAPI, FastRouteTable], None]

DIALECTS: dict[str, Mount] = {
    "canonical": canonical.mount,
    "tellus": tellus.mount,
    "evenergy": evenergy.mount,
    "tesla": tesla.mount,
}
