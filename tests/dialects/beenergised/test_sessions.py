"""Contacts and sessions: the pre-shared key starts them, the session token is the bearer, the
refresh token rotates once and a replay after the grace window revokes the session."""

from __future__ import annotations

from tests.conftest import App
from tests.dialects.beenergised.support import contact, gql, psk, session

REFRESH = "mutation { refreshSession { sessionToken refreshToken } }"


async def test_a_contact_registers_signs_in_and_sees_only_itself(app: App) -> None:
    key = await psk(app)
    profile = await contact(app, key)
    assert profile["email"] == "ada@example.com" and profile["name"] == "Ada"
    pair = await session(app, key)
    assert pair["expiresIn"] == 3600
    me = await gql(app, "{ me { id email } }", pair["sessionToken"])
    assert me.data["me"] == {"id": profile["id"], "email": "ada@example.com"}


async def test_the_psk_starts_sessions_and_nothing_else(app: App) -> None:
    key = await psk(app)
    await contact(app, key)
    answer = await gql(app, "{ me { id } }", key)
    assert answer.status == 200 and answer.codes == ["FORBIDDEN"]
    strict = await gql(app, "{ me { id } }", None, Accept="application/graphql-response+json")
    assert strict.status == 401 and strict.codes == ["UNAUTHENTICATED"]
    assert strict.headers["www-authenticate"].startswith("Bearer")
    wrong = await gql(app, "{ me { id } }", key[:-4] + "AAAA")
    assert wrong.codes == ["UNAUTHENTICATED"]


async def test_a_wrong_password_is_unauthenticated(app: App) -> None:
    key = await psk(app)
    await contact(app, key)
    answer = await gql(
        app,
        'mutation { initSession(username: "ada@example.com", password: "nope-nope") '
        "{ sessionToken } }",
        key,
    )
    assert answer.codes == ["UNAUTHENTICATED"]
    assert "password" in answer.body["errors"][0]["message"]


async def test_refresh_rotates_and_a_replay_after_the_grace_revokes_the_session(app: App) -> None:
    key = await psk(app)
    await contact(app, key)
    first = await session(app, key)
    second = (await gql(app, REFRESH, first["refreshToken"])).data["refreshSession"]
    assert second["refreshToken"] != first["refreshToken"]
    # Within the grace window the same refresh gets the same successor (two tabs, a retry).
    again = (await gql(app, REFRESH, first["refreshToken"])).data["refreshSession"]
    assert again == second
    app.clock.advance(31)
    replay = await gql(app, REFRESH, first["refreshToken"])
    assert replay.codes == ["UNAUTHENTICATED"]
    # The whole session is revoked: its newest session and refresh tokens too.
    assert (await gql(app, "{ me { id } }", second["sessionToken"])).codes == ["UNAUTHENTICATED"]
    assert (await gql(app, REFRESH, second["refreshToken"])).codes == ["UNAUTHENTICATED"]


async def test_a_rotated_psk_overlaps_then_only_the_new_one_works(app: App) -> None:
    key = await psk(app)
    await contact(app, key)
    client_id = app.rt.crypto.formats.psk_client(key)
    assert client_id is not None
    new = await app.rt.identity.admin.rotate_secret(client_id, overlap=600)
    assert new.startswith("vgpsk_") and new != key
    assert (await session(app, key))["sessionToken"]
    assert (await session(app, new))["sessionToken"]
    app.clock.advance(601)
    refused = await gql(
        app, 'mutation { initSession(username: "a", password: "b") { sessionToken } }', key
    )
    assert refused.codes == ["UNAUTHENTICATED"]
    assert (await session(app, new))["sessionToken"]


async def test_a_beenergised_app_gets_a_psk_kept_only_as_its_hash(app: App) -> None:
    created = await app.rt.identity.admin.create(
        name="cli app", kind="beenergised_app", scopes="contact"
    )
    assert created.secret is not None and created.secret.startswith("vgpsk_test_")
    stored = await app.rt.identity.admin.show(created.client.id)
    # Only its hash is kept: the key itself is nowhere in the client's record.
    assert all(created.secret not in repr(s) for s in stored.secrets)
