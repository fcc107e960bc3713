"""Dialects: each seed platform's paths, bodies and error contracts as a route table over one core.

A dialect module exposes `mount(app)`; adding one is adding an entry to DIALECTS.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from voltgate.dialects import canonical, evenergy, tellus

DIALECTS: dict[str, Callable[[FastAPI], None]] = {
    "canonical": canonical.mount,
    "tellus": tellus.mount,
    "evenergy": evenergy.mount,
}
