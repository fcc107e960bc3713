"""The be.ENERGISED GraphQL workloads: the `cpsPaged` request an app sends, where it searches,
and the check of its answer after the run.

`graphql` repeats one search (Paris centre, the densest): the endpoint keeps the encoded answer
of a public-data query for up to a second while the charge points are unchanged, so most of
those requests are answered from the kept answer, not searched. `graphql_varied` sends the same
document with a different position each time, cycling through VARIED_POSITIONS positions
around Europe's cities: far more than the server answers in a second, so no answer is reused
and every request parses its variables, runs the search in the database and encodes 20 points.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Mapping, Sequence

from bench.loadgen import HttpRequest, LoadResult
from bench.servers import RunningServer, http_request
from voltgate.chargepoints.cities import CITIES

CHARGE_POINTS = 1_000_000
PARIS = (48.8566, 2.3522)
# More positions than the server answers in several seconds: the cycle takes longer than the
# second an answer may be kept, so the varied workload never gets a kept answer.
VARIED_POSITIONS = 20_000
KEPT_SECONDS = 1.0
DENSE_TOTAL = 1_000  # a dense centre has more than this many points within 5 km

# The document an app sends: the position is a variable, the rest of the filter inline.
QUERY = (
    "query Nearby($position: PositionInput!) { "
    "cpsPaged(filter: {position: $position, radius: 5}, pagination: {limit: 20, offset: 0}) { "
    "pagination { totalCount } "
    "data { id name address distance operator "
    "evses { evseId status connectors { id standard powerType maxElectricPower } } } } }"
)


def body(latitude: float, longitude: float) -> str:
    """The JSON body of one search around (latitude, longitude)."""
    variables = {"position": {"latitude": latitude, "longitude": longitude}}
    asked = {"query": QUERY, "operationName": "Nearby", "variables": variables}
    return json.dumps(asked, separators=(",", ":"))


def positions(count: int, seed: int = 7) -> list[tuple[float, float]]:
    """`count` distinct positions, each within ~8 km of a city of `cities.py` (the cities in
    turn), where a user of a charging app in a city stands."""
    rng = random.Random(seed)
    found: dict[tuple[float, float], None] = {}
    i = 0
    while len(found) < count:
        city = CITIES[i % len(CITIES)]
        i += 1
        # ~0.07° of latitude is ~8 km; longitude degrees are shorter away from the equator.
        lat = round(city.latitude + rng.uniform(-0.07, 0.07), 5)
        lon = round(city.longitude + rng.uniform(-0.11, 0.11), 5)
        found[(lat, lon)] = None
    return list(found)


def headers(session_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {session_token}", "Content-Type": "application/json"}


def _answer(server: RunningServer, path: str, sent: Mapping[str, str], text: str) -> int:
    """One search over HTTP: its totalCount; ValueError when the answer is not data alone."""
    raw = http_request("POST", server.base_url + path, headers=sent, body=text.encode())
    answer = json.loads(raw)
    if answer.get("errors") or not answer.get("data"):
        raise ValueError(f"answered with errors: {raw[:300]!r}")
    return int(answer["data"]["cpsPaged"]["pagination"]["totalCount"])


def check_dense(server: RunningServer, request: HttpRequest, _: LoadResult) -> tuple[bool, str]:
    """The repeated search answers 200 with data, and the dense centre has > DENSE_TOTAL."""
    assert request.body is not None
    try:
        total = _answer(server, request.path, request.headers, request.body)
    except (OSError, ValueError) as exc:
        return False, f"{server.name}: cpsPaged answer after the run: no ({exc})"
    ok = total > DENSE_TOTAL
    return ok, (
        f"{server.name}: cpsPaged answer after the run: {'yes' if ok else 'no'} (200, data, no "
        f"errors; totalCount={total:,} within 5 km of Paris centre, needs > {DENSE_TOTAL:,})"
    )


def check_varied(
    server: RunningServer, request: HttpRequest, result: LoadResult
) -> tuple[bool, str]:
    """Fifty of the bodies answer 200 with data; the cycle outlasts the kept answers."""
    bodies: Sequence[str] = request.bodies
    sample = [bodies[i * len(bodies) // 50] for i in range(50)]
    try:
        totals = [_answer(server, request.path, request.headers, b) for b in sample]
    except (OSError, ValueError) as exc:
        return False, f"{server.name}: varied cpsPaged answers after the run: no ({exc})"
    cycle = len(bodies) / result.rps if result.rps else float("inf")
    ok = cycle > KEPT_SECONDS
    return ok, (
        f"{server.name}: varied cpsPaged answers after the run: {'yes' if ok else 'no'} (50 of "
        f"the {len(bodies):,} positions: 200, data, no errors; totalCount within 5 km min "
        f"{min(totals):,}, median {statistics.median(totals):,.0f}, max {max(totals):,}); a "
        f"position comes back after {cycle:.1f} s at the measured rate, later than the "
        f"{KEPT_SECONDS:g} s an answer is kept: every request was a search"
    )
