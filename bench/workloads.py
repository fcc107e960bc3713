"""What the bench loads: each workload turns a running server into the one request wrk repeats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.loadgen import HttpRequest
from bench.servers import RunningServer


@dataclass(frozen=True)
class Workload:
    name: str
    summary: str
    # None when the server has no such route (a peer without a protected read, say).
    build: Callable[[RunningServer], HttpRequest | None]
    # The token workload's responses each leave an audit row the bench checks afterwards.
    issues_tokens: bool = False


def _token(server: RunningServer) -> HttpRequest | None:
    if server.endpoints.token is None:
        return None
    return HttpRequest(
        method="POST",
        path=server.endpoints.token,
        headers={
            "Authorization": server.credentials.basic(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body="grant_type=client_credentials",
    )


def _me(server: RunningServer) -> HttpRequest | None:
    if server.endpoints.me is None or server.endpoints.token is None:
        return None
    return HttpRequest(
        method="GET",
        path=server.endpoints.me,
        headers={"Authorization": "Bearer " + server.bearer_token()},
    )


def _floor(server: RunningServer) -> HttpRequest | None:
    if server.endpoints.floor is None:
        return None
    return HttpRequest(method="GET", path=server.endpoints.floor)


TOKEN = Workload(
    "token", "POST client_credentials, HTTP Basic, form body", _token, issues_tokens=True
)
ME = Workload("me", "GET a protected read with one bearer token (JWT verify + guard)", _me)
FLOOR = Workload("floor", "GET the near-empty health route (the server's ceiling)", _floor)

WORKLOADS: dict[str, Workload] = {w.name: w for w in (TOKEN, ME, FLOOR)}
