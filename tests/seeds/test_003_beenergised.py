"""Seed 003, be.ENERGISED's getting-started guide: its one request, the `initSession` curl, as
written, with the sandbox's pre-shared key as the bearer and its demo contact (the guide's
username and password); then the session token is the bearer for the contact's own data."""

from __future__ import annotations

import orjson

from tests.seeds.conftest import Sandbox, assert_quoted
from voltgate.sandbox.world import SITES

INIT_SESSION = """curl --location --request POST 'https://url-for-api' \\
--header 'Authorization: Bearer your-api-token' \\
--header 'accept-language;' \\
--header 'Content-Type: application/json' \\
--data-raw 'mutation{
              initSession(username: "demo-user",password:"demo-user-password")
              {
                sessionToken
                refreshToken
              }
            }'"""


def test_what_is_quoted_here_is_the_guides() -> None:
    assert_quoted("003", INIT_SESSION)


def test_init_session_as_written(sandbox: Sandbox) -> None:
    answer = sandbox.curl(
        INIT_SESSION,
        **{
            "https://url-for-api": f"{sandbox.base_url}/graphql",
            "your-api-token": sandbox.creds["beenergised"]["psk"],
        },
    )
    assert answer.status == 200, answer.text
    session = answer.json()["data"]["initSession"]
    assert session["sessionToken"] and session["refreshToken"]
    # The session token is the bearer for everything else (e.g. cpsPaged): the charge points
    # within 5 km of the sandbox's first site, and the contact's own profile.
    site = SITES[0]
    query = (
        "query($lat: Float!, $lon: Float!) { me { username } cpsPaged(filter: {position: "
        "{latitude: $lat, longitude: $lon}, radius: 5}, pagination: {limit: 20, offset: 0}) "
        "{ pagination { totalCount } data { name distance } } }"
    )
    variables = {"lat": site.latitude, "lon": site.longitude}
    body = orjson.dumps({"query": query, "variables": variables}).decode()
    asked = sandbox.curl(
        f"curl -s -H 'Authorization: Bearer {session['sessionToken']}' "
        f"-H 'Content-Type: application/json' -d '{body}' {sandbox.base_url}/graphql"
    )
    assert asked.status == 200, asked.text
    data = asked.json()["data"]
    assert data["me"]["username"] == "demo-user"
    points = data["cpsPaged"]["data"]
    assert data["cpsPaged"]["pagination"]["totalCount"] == len(points) >= 1
    assert points[0]["name"] == site.name and points[0]["distance"] == 0
