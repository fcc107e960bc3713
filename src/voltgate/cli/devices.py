"""`voltgate devices set-signing` and `set-owner`: a charger's signing mode and its owner."""

from __future__ import annotations

from typing import Annotated

import typer

from voltgate.cli.clients import Json, Mode
from voltgate.cli.common import console, emit_json, fail, run
from voltgate.errors import NotFound
from voltgate.identity.admin import ClientView, describe
from voltgate.identity.clients import ClientKind
from voltgate.identity.users import normalize_email
from voltgate.runtime import Runtime

app = typer.Typer(help="Chargers (devices): their identity settings.")


@app.command("set-signing")
def set_signing(
    device_id: Annotated[str, typer.Argument(help="The device id (its client id).")],
    mode: Mode,
    as_json: Json = False,
) -> None:
    """Set whether the charger signs its requests with its device secret."""

    async def work(rt: Runtime) -> ClientView:
        client = await rt.identity.admin.set_signing(
            device_id, mode, kind=ClientKind.DEVICE, via="cli"
        )
        return describe(client, rt.clock.now())

    view = run(work)
    if as_json:
        emit_json({"device_id": device_id, "signing": view["signing"]})
    else:
        console.print(f"{device_id}: signing {view['signing']}")


@app.command("set-owner")
def set_owner(
    device_id: Annotated[str, typer.Argument(help="The device id (its client id).")],
    user: Annotated[
        str | None, typer.Option("--user", help="The owner: a user id or email.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the charger's owner.")] = False,
    as_json: Json = False,
) -> None:
    """Make a user the owner of a (home) charger: their apps see its charging sessions."""
    if clear == (user is not None):
        fail("give exactly one of --user EMAIL_OR_ID and --clear")

    async def work(rt: Runtime) -> dict[str, object]:
        owner = None if user is None else await _user_id(rt, user)
        device = await rt.fleet.devices.set_owner(device_id, owner)
        return {"device_id": device.id, "owner_user_id": device.owner_user_id}

    view = run(work)
    if as_json:
        emit_json(view)
    else:
        console.print(f"{device_id}: owner {view['owner_user_id'] or 'none'}")


async def _user_id(rt: Runtime, email_or_id: str) -> str:
    if "@" not in email_or_id:
        return (await rt.identity.users.get(email_or_id)).id
    email = normalize_email(email_or_id)
    for candidate in await rt.identity.users.list_all():
        if candidate.email == email:
            return candidate.id
    raise NotFound(f"no user with email {email!r}")
