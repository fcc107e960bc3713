"""The exact `voltgate … --json` forms an operator scripts, against a running server's data."""

from __future__ import annotations

import orjson
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.fixtures.live import LiveServer
from tests.live.support import access_token, jwks, jwt_header, me, token_response, wait_for


def _create(live: LiveServer, *extra: str) -> dict[str, object]:
    return live.cli_json(
        "clients",
        "create",
        "--name",
        "Fleet ops",
        "--kind",
        "operator",
        "--scopes",
        "read write",
        *extra,
    )


def test_create_prints_credentials_that_work_at_once(live: LiveServer) -> None:
    created = _create(
        live,
        "--token-ttl",
        "900",
        "--redirect-uri",
        "https://ops.example/cb",
        "--redirect-uri",
        "https://ops.example/cb2",
    )
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    assert client_id and secret

    response = token_response(live.base_url, client_id, secret)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 900
    assert response.json()["scope"] == "read write"
    answer = me(live.base_url, response.json()["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_id"] == client_id

    shown = live.cli_json("clients", "show", client_id)
    assert shown["name"] == "Fleet ops" and shown["token_ttl"] == 900
    assert shown["redirect_uris"] == ["https://ops.example/cb", "https://ops.example/cb2"]
    # One that chose no lifetime shows none: each token path gives its own.
    assert live.cli_json("clients", "show", str(_create(live)["client_id"]))["token_ttl"] is None


def test_the_secret_is_printed_once_and_never_again(live: LiveServer) -> None:
    created = _create(live)
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    rotated = live.cli_json("clients", "rotate-secret", client_id, "--overlap", "24h")
    new_secret = str(rotated["client_secret"])

    for args in (("clients", "show", client_id), ("clients", "list")):
        as_json = live.cli(*args, "--json")
        as_text = live.cli(*args)
        for output in (as_json.stdout, as_json.stderr, as_text.stdout, as_text.stderr):
            for leaked in (secret, new_secret):
                assert leaked not in output
                assert leaked[:20] not in output
    listed = orjson.loads(live.cli(*("clients", "list", "--json")).stdout)
    assert client_id in {c["client_id"] for c in listed["clients"]}


def test_rotate_secret_with_overlap_keeps_both_secrets_working(live: LiveServer) -> None:
    created = _create(live)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    assert token_response(live.base_url, client_id, old).status_code == 200  # cached by the server

    rotated = live.cli_json("clients", "rotate-secret", client_id, "--overlap", "24h")
    new = str(rotated["client_secret"])
    assert new != old

    for secret in (new, old, new):
        response = token_response(live.base_url, client_id, secret)
        assert response.status_code == 200, response.text
        assert me(live.base_url, response.json()["access_token"]).status_code == 200
    wrong = token_response(live.base_url, client_id, old + "x")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


def test_disable_stops_credentials_and_tokens(live: LiveServer) -> None:
    created = _create(live)
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    token = access_token(live.base_url, client_id, secret)
    assert me(live.base_url, token).status_code == 200  # now cached on the server

    live.cli("clients", "disable", client_id)

    refused = wait_for(
        lambda: token_response(live.base_url, client_id, secret), lambda r: r.status_code != 200
    )
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert refused.headers["www-authenticate"].startswith("Basic")
    answer = wait_for(lambda: me(live.base_url, token), lambda r: r.status_code != 200)
    assert answer.status_code == 401, answer.text
    assert answer.json()["code"] == 2001
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
    assert live.cli_json("clients", "show", client_id)["disabled_at"] is not None


def test_key_rotation_keeps_old_tokens_valid_and_signs_with_the_new_key(live: LiveServer) -> None:
    creds = live.create_client()
    before = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    old_kid = jwt_header(before)["kid"]
    assert _active_kids(live) == {old_kid: True}

    new_kid = str(live.cli_json("keys", "rotate")["kid"])
    assert new_kid != old_kid

    published = wait_for(
        lambda: jwks(live.base_url), lambda body: new_kid in {k["kid"] for k in body["keys"]}
    )
    assert {old_kid, new_kid} <= {k["kid"] for k in published["keys"]}
    after = access_token(live.base_url, creds["client_id"], creds["client_secret"])
    assert jwt_header(after)["kid"] == new_kid

    # The pre-rotation token is first presented now, after the rotation.
    for token in (before, after):
        answer = me(live.base_url, token)
        assert answer.status_code == 200, answer.text
        jwt.decode(token, KeySet.import_key_set(published), algorithms=["ES256"])  # type: ignore[arg-type]
    assert _active_kids(live) == {old_kid: False, new_kid: True}


def _active_kids(live: LiveServer) -> dict[str, bool]:
    """`keys list --json`: every published kid and whether it is the one signing."""
    keys = live.cli_json("keys", "list")["keys"]
    assert isinstance(keys, list)
    return {str(k["kid"]): bool(k["active"]) for k in keys}
