"""`voltgate users create|list|disable`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from voltgate.cli.common import console, emit_json, run
from voltgate.identity.users import User
from voltgate.runtime import Runtime

app = typer.Typer(help="Local user accounts (drivers, owners) who grant apps access.")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _view(user: User) -> dict[str, object]:
    return {
        "user_id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "created_at": user.created_at,
        "disabled_at": user.disabled_at,
    }


@app.command()
def create(
    email: Annotated[str, typer.Option("--email")],
    password: Annotated[str, typer.Option("--password", help="Stored only as an argon2id hash.")],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    as_json: Json = False,
) -> None:
    """Create a user."""

    async def work(rt: Runtime) -> User:
        return await rt.identity.users.create(email, password, name)

    user = run(work)
    if as_json:
        emit_json(_view(user))
    else:
        console.print(f"user_id: {user.id}  email: {user.email}")


@app.command("list")
def list_(as_json: Json = False) -> None:
    """List users."""

    async def work(rt: Runtime) -> list[User]:
        return await rt.identity.users.list_all()

    found = run(work)
    if as_json:
        emit_json({"users": [_view(u) for u in found]})
        return
    table = Table("user_id", "email", "name", "disabled")
    for u in found:
        table.add_row(u.id, u.email, u.display_name, "yes" if u.disabled_at else "")
    console.print(table)


@app.command()
def disable(user_id: str, as_json: Json = False) -> None:
    """Disable a user: sign-in is refused."""

    async def work(rt: Runtime) -> User:
        return await rt.identity.users.disable(user_id)

    user = run(work)
    if as_json:
        emit_json(_view(user))
    else:
        console.print(f"disabled {user.id}")
