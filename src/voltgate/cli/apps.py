"""`voltgate apps list|approve`: the apps developers registered in the portal, and an admin's
approval of a production app (until then its credentials are refused)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from voltgate.cli.common import console, emit_json, run
from voltgate.identity.admin import ClientView, describe
from voltgate.runtime import Runtime

app = typer.Typer(help="Apps registered in the developer portal: list them, approve production.")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command("list")
def list_(
    pending: Annotated[
        bool, typer.Option("--pending", help="Only production apps waiting for approval.")
    ] = False,
    as_json: Json = False,
) -> None:
    """List clients, with whether each waits for approval."""

    async def work(rt: Runtime) -> list[ClientView]:
        now = rt.clock.now()
        clients = await rt.identity.admin.list_all()
        return [describe(c, now) for c in clients if c.awaiting_approval or not pending]

    rows = run(work)
    if as_json:
        emit_json({"apps": rows})
        return
    table = Table("client_id", "name", "kind", "awaiting approval")
    for row in rows:
        table.add_row(
            row["client_id"], row["name"], row["kind"], "yes" if row["awaiting_approval"] else ""
        )
    console.print(table)


@app.command()
def approve(client_id: str, as_json: Json = False) -> None:
    """Approve a production app: its credentials work from now on (within a second on every
    server sharing the database)."""

    async def work(rt: Runtime) -> ClientView:
        return describe(await rt.developer_apps.approve(client_id), rt.clock.now())

    view = run(work)
    if as_json:
        emit_json(view)
    else:
        console.print(f"approved {client_id}: {view['name']}")
