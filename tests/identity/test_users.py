"""Local users: argon2id, sign-in that does not reveal which emails exist, throttling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import App
from voltgate.errors import Conflict, InvalidGrant, NotFound, RateLimited, ValidationFailed


async def test_sign_in_and_one_message_for_every_failure(app: App) -> None:
    user = await app.rt.identity.users.create("Driver@Example.com", "correct horse battery")
    assert (
        await app.rt.identity.users.authenticate(
            "driver@example.com", "correct horse battery", None
        )
    ).id == user.id
    messages = set()
    for email, password in (
        ("driver@example.com", "wrong password!"),
        ("nobody@example.com", "correct horse battery"),
    ):
        with pytest.raises(InvalidGrant) as caught:
            await app.rt.identity.users.authenticate(email, password, None)
        messages.add(caught.value.description)
    assert len(messages) == 1
    await app.rt.identity.users.disable(user.id)
    with pytest.raises(InvalidGrant):
        await app.rt.identity.users.authenticate(
            "driver@example.com", "correct horse battery", None
        )


async def test_passwords_are_argon2id_hashes(app: App) -> None:
    from voltgate.db.schema import users

    await app.rt.identity.users.create("hash@example.com", "correct horse battery")
    async with app.rt.db.connect() as conn:
        row = (await conn.execute(users.select())).first()
    assert row is not None and row.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in repr(row)


async def test_a_new_password_replaces_the_old_one_at_once(app: App) -> None:
    user = await app.rt.identity.users.create("reset@example.com", "correct horse battery")
    await app.rt.identity.users.set_password(user.id, "another horse battery")
    with pytest.raises(InvalidGrant):
        await app.rt.identity.users.authenticate("reset@example.com", "correct horse battery", None)
    assert (
        await app.rt.identity.users.authenticate("reset@example.com", "another horse battery", None)
    ).id == user.id
    with pytest.raises(ValidationFailed):
        await app.rt.identity.users.set_password(user.id, "short")
    with pytest.raises(NotFound):
        await app.rt.identity.users.set_password("user_unknown", "another horse battery")


async def test_sign_in_is_throttled_per_account_even_for_unknown_emails(app: App) -> None:
    for _ in range(10):
        with pytest.raises(InvalidGrant):
            await app.rt.identity.users.authenticate("ghost@example.com", "guess guess", "10.0.0.1")
    with pytest.raises(RateLimited):
        await app.rt.identity.users.authenticate("ghost@example.com", "guess guess", "10.0.0.2")


async def test_successful_sign_ins_do_not_count_and_clear_the_accounts_failures(
    app: App,
) -> None:
    users = app.rt.identity.users
    await users.create("driver@example.com", "correct horse battery")
    for _ in range(12):  # more than the account's 10 in the window, all good
        await users.authenticate("driver@example.com", "correct horse battery", "10.0.0.1")
    for _ in range(9):
        with pytest.raises(InvalidGrant):
            await users.authenticate("driver@example.com", "wrong password!", "10.0.0.1")
    await users.authenticate("driver@example.com", "correct horse battery", "10.0.0.1")
    for _ in range(10):  # the success cleared the nine: ten more failures are let through
        with pytest.raises(InvalidGrant):
            await users.authenticate("driver@example.com", "wrong password!", "10.0.0.1")
    with pytest.raises(RateLimited):  # the eleventh, even with the right password
        await users.authenticate("driver@example.com", "correct horse battery", "10.0.0.1")


async def test_an_address_is_throttled_on_its_failures_across_accounts(app: App) -> None:
    users = app.rt.identity.users
    await users.create("driver@example.com", "correct horse battery")
    for _ in range(5):  # successes from the address do not count against it
        await users.authenticate("driver@example.com", "correct horse battery", "10.0.0.9")
    for n in range(50):  # the address's 50, spread over accounts under their own limit
        with pytest.raises(InvalidGrant):
            await users.authenticate(f"ghost{n // 5}@example.com", "guess guess", "10.0.0.9")
    with pytest.raises(RateLimited):
        await users.authenticate("driver@example.com", "correct horse battery", "10.0.0.9")


async def test_bad_user_input(app: App) -> None:
    with pytest.raises(ValidationFailed):
        await app.rt.identity.users.create("not-an-email", "correct horse battery")
    with pytest.raises(ValidationFailed):
        await app.rt.identity.users.create("short@example.com", "short")
    await app.rt.identity.users.create("dup@example.com", "correct horse battery")
    with pytest.raises(Conflict):
        await app.rt.identity.users.create("DUP@example.com", "correct horse battery")


def test_users_cli_is_scriptable(tmp_path: Path) -> None:
    env = {"VOLTGATE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin"}
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "voltgate",
            "users",
            "create",
            "--email",
            "cli@example.com",
            "--password",
            "correct horse battery",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    user = orjson.loads(created.stdout)
    assert user["email"] == "cli@example.com" and user["user_id"].startswith("user")
    assert "correct horse battery" not in created.stdout + created.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "voltgate", "users", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert [u["email"] for u in orjson.loads(listed.stdout)["users"]] == ["cli@example.com"]
