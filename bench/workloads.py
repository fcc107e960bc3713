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


def _basic_form(server: RunningServer, path: str, body: str) -> HttpRequest:
    """A form POST authenticated by HTTP Basic, as every OAuth workload sends it."""
    return HttpRequest(
        method="POST",
        path=path,
        headers={
            "Authorization": server.credentials.basic(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=body,
    )


def _token(server: RunningServer) -> HttpRequest | None:
    if server.endpoints.token is None:
        return None
    return _basic_form(server, server.endpoints.token, "grant_type=client_credentials")


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


def _introspect(server: RunningServer) -> HttpRequest | None:
    if server.endpoints.introspect is None or server.endpoints.token is None:
        return None
    return _basic_form(server, server.endpoints.introspect, "token=" + server.bearer_token())


def _revoke(server: RunningServer) -> HttpRequest | None:
    # The same token every time: the first request revokes it, the rest exercise the same
    # authenticate + look-up + idempotent revoke path (RFC 7009 §2.2 answers 200 each time).
    if server.endpoints.revoke is None or server.endpoints.token is None:
        return None
    return _basic_form(server, server.endpoints.revoke, "token=" + server.bearer_token())


def _refresh(server: RunningServer) -> HttpRequest | None:
    # Rotation makes a refresh token single-use, so wrk cannot replay one; servers that keep
    # refresh tokens reusable (a setting some peers have) are measured, others are n/a.
    if server.endpoints.refresh_token is None or server.endpoints.token is None:
        return None
    body = "grant_type=refresh_token&refresh_token=" + server.endpoints.refresh_token
    return _basic_form(server, server.endpoints.token, body)


TOKEN = Workload(
    "token", "POST client_credentials, HTTP Basic, form body", _token, issues_tokens=True
)
ME = Workload("me", "GET a protected read with one bearer token (bearer validation)", _me)
FLOOR = Workload("floor", "GET the near-empty health route (the server's ceiling)", _floor)

INTROSPECT = Workload(
    "introspect", "POST RFC 7662 introspection of one token, HTTP Basic", _introspect
)
REVOKE = Workload("revoke", "POST RFC 7009 revocation of one token, HTTP Basic", _revoke)
REFRESH = Workload("refresh", "POST refresh_token grant (where the server allows reuse)", _refresh)

WORKLOADS: dict[str, Workload] = {
    w.name: w for w in (TOKEN, INTROSPECT, REVOKE, REFRESH, ME, FLOOR)
}
