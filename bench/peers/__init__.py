"""Peers measured beside voltgate: each module sets one up from npm/PyPI into bench/.peers/
(pinned versions, ignored by git) and exposes `SERVERS: dict[str, ServerFactory]`."""

from __future__ import annotations

import importlib

from bench.servers import ServerFactory

MODULES = ("oidc_provider", "authlib_flask", "django_oauth_toolkit")


def peer_servers() -> dict[str, ServerFactory]:
    found: dict[str, ServerFactory] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(f"bench.peers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.peers.{name}":
                raise
            continue
        found.update(module.SERVERS)
    return found
