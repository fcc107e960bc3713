"""What the bench loads: each workload turns a running server into the one request wrk repeats."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from bench import graphql
from bench.loadgen import HttpRequest, LoadResult, LoadSettings, TokenChain
from bench.servers import Credentials, RefreshFamilies, RunningServer

REFRESH_BODY = "grant_type=refresh_token&refresh_token="
# The telemetry workload: chargers with two connectors each, every message one reading each.
TELEMETRY_DEVICES = 200
READINGS_PER_MESSAGE = 2
_READING = {"state": "charging", "power_kw": 48.5, "energy_kwh": 12.25, "soc": 63.5}
TELEMETRY_BODY = json.dumps(
    {
        "connectors": [
            {"connector": n, **_READING, "voltage": 402.0, "current": 120.6}
            for n in range(1, READINGS_PER_MESSAGE + 1)
        ]
    },
    separators=(",", ":"),
)
# The chained refresh workload's fewest families per wrk run (64 = the default connections).
MIN_FAMILIES = 64


@dataclass(frozen=True)
class Workload:
    name: str
    summary: str
    # None when the server has no such route (a peer without a protected read, say). The load
    # settings say how many connections a chained workload must seed families for.
    build: Callable[[RunningServer, LoadSettings], HttpRequest | None]
    # The token workload's responses each leave an audit row the bench checks afterwards.
    issues_tokens: bool = False
    # The telemetry workload's 202s each store READINGS_PER_MESSAGE rows, checked afterwards.
    stores_readings: bool = False
    # A check of the server's answer after the run: whether it held, and a note saying so.
    check: Callable[[RunningServer, HttpRequest, LoadResult], tuple[bool, str]] | None = None


def _basic_form(
    credentials: Credentials, path: str, body: str | None, chain: TokenChain | None = None
) -> HttpRequest:
    """A form POST authenticated by HTTP Basic, as every OAuth workload sends it."""
    return HttpRequest(
        method="POST",
        path=path,
        headers={
            "Authorization": credentials.basic(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=body,
        chain=chain,
    )


def _token(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    if server.endpoints.token is None:
        return None
    return _basic_form(server.credentials, server.endpoints.token, "grant_type=client_credentials")


def _me(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    if server.endpoints.me is None or server.endpoints.token is None:
        return None
    return HttpRequest(
        method="GET",
        path=server.endpoints.me,
        headers={"Authorization": "Bearer " + server.bearer_token()},
    )


def _floor(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    if server.endpoints.floor is None:
        return None
    return HttpRequest(method="GET", path=server.endpoints.floor)


def _introspect(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    if server.endpoints.introspect is None or server.endpoints.token is None:
        return None
    body = "token=" + server.bearer_token()
    return _basic_form(server.credentials, server.endpoints.introspect, body)


def _revoke(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    # The same token every time: the first request revokes it, the rest exercise the same
    # authenticate + look-up + idempotent revoke path (RFC 7009 §2.2 answers 200 each time).
    if server.endpoints.revoke is None or server.endpoints.token is None:
        return None
    body = "token=" + server.bearer_token()
    return _basic_form(server.credentials, server.endpoints.revoke, body)


def _refresh(server: RunningServer, settings: LoadSettings) -> HttpRequest | None:
    if server.endpoints.token is None:
        return None
    if server.seed_refresh is not None:
        return _refresh_chain(server.seed_refresh, server.endpoints.token, settings)
    # A server that keeps a refresh token reusable (a setting some peers have) replays one.
    if server.endpoints.refresh_token is None:
        return None
    body = REFRESH_BODY + server.endpoints.refresh_token
    return _basic_form(server.credentials, server.endpoints.token, body)


def _refresh_chain(
    seed: Callable[[int], RefreshFamilies], path: str, settings: LoadSettings
) -> HttpRequest:
    """Every request a real rotation: each presents the newest refresh token of a family and
    the response's successor is that family's next. Spent tokens cannot be replayed, so the
    warm-up and the measured run each get fresh families, twice as many as connections."""
    runs = 2 if settings.warmup > 0 else 1
    per_run = max(MIN_FAMILIES, 2 * settings.connections)
    families = seed(runs * per_run)
    sets = iter([families.tokens[i * per_run : (i + 1) * per_run] for i in range(runs)])

    def take() -> list[str]:
        tokens = next(sets, None)
        if tokens is None:
            raise RuntimeError("every seeded set of refresh tokens is spent")
        return tokens

    chain = TokenChain(REFRESH_BODY, "refresh_token", take)
    return _basic_form(families.credentials, path, None, chain)


def _telemetry(server: RunningServer, settings: LoadSettings) -> HttpRequest | None:
    """Chargers posting telemetry, each with its own device token: wrk sends request i as
    charger i mod TELEMETRY_DEVICES (registered and given a token before the run)."""
    if server.seed_devices is None:
        return None
    tokens = server.seed_devices(max(TELEMETRY_DEVICES, settings.connections))
    return HttpRequest(
        method="POST",
        path="/v1/device/telemetry",
        headers={"Content-Type": "application/json"},
        body=TELEMETRY_BODY,
        rotate=[f"Bearer {token}" for token in tokens],
    )


def _graphql(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    """One contact's cpsPaged around Paris centre, the same request every time."""
    if server.seed_graphql is None:
        return None
    token = server.seed_graphql(graphql.CHARGE_POINTS)
    return HttpRequest(
        method="POST",
        path="/graphql",
        headers=graphql.headers(token),
        body=graphql.body(*graphql.PARIS),
    )


def _graphql_varied(server: RunningServer, _: LoadSettings) -> HttpRequest | None:
    """The same document around a different position each time (VARIED_POSITIONS in turn)."""
    if server.seed_graphql is None:
        return None
    token = server.seed_graphql(graphql.CHARGE_POINTS)
    places = graphql.positions(graphql.VARIED_POSITIONS)
    return HttpRequest(
        method="POST",
        path="/graphql",
        headers=graphql.headers(token),
        bodies=[graphql.body(lat, lon) for lat, lon in places],
    )


TOKEN = Workload(
    "token", "POST client_credentials, HTTP Basic, form body", _token, issues_tokens=True
)
ME = Workload("me", "GET a protected read with one bearer token (bearer validation)", _me)
FLOOR = Workload("floor", "GET the near-empty health route (the server's ceiling)", _floor)

INTROSPECT = Workload(
    "introspect", "POST RFC 7662 introspection of one token, HTTP Basic", _introspect
)
REVOKE = Workload("revoke", "POST RFC 7009 revocation of one token, HTTP Basic", _revoke)
REFRESH = Workload(
    "refresh",
    "POST refresh_token grant, HTTP Basic: chained rotations where the server rotates (voltgate), "
    "else one reusable token replayed",
    _refresh,
)

TELEMETRY = Workload(
    "telemetry",
    f"POST /v1/device/telemetry as {TELEMETRY_DEVICES} chargers in turn, each with its own "
    f"device token, {READINGS_PER_MESSAGE} readings a message",
    _telemetry,
    stores_readings=True,
)

GRAPHQL = Workload(
    "graphql",
    f"POST /graphql, be.ENERGISED cpsPaged 5 km around Paris centre, 20 points, over "
    f"{graphql.CHARGE_POINTS:,} charge points, one contact's session token; the same request "
    "every time (its answer kept up to 1 s)",
    _graphql,
    check=graphql.check_dense,
)
GRAPHQL_VARIED = Workload(
    "graphql_varied",
    f"the graphql workload's document around {graphql.VARIED_POSITIONS:,} positions near "
    "Europe's cities in turn: no kept answer, every request a search",
    _graphql_varied,
    check=graphql.check_varied,
)

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (TOKEN, INTROSPECT, REVOKE, REFRESH, TELEMETRY, GRAPHQL, GRAPHQL_VARIED, ME, FLOOR)
}
