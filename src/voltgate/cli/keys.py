"""`voltgate keys list|rotate`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from voltgate.cli.common import console, emit_json, run
from voltgate.runtime import Runtime

app = typer.Typer(help="Token signing keys.")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command("list")
def list_(as_json: Json = False) -> None:
    """Signing keys still published in the JWKS."""

    async def work(rt: Runtime) -> list[dict[str, Any]]:
        return await rt.identity.keys.describe()

    keys = run(work)
    if as_json:
        emit_json({"keys": keys})
        return
    table = Table("kid", "alg", "active", "created_at", "published_until")
    for k in keys:
        table.add_row(
            k["kid"],
            k["alg"],
            "yes" if k["active"] else "",
            str(k["created_at"]),
            str(k["published_until"] or ""),
        )
    console.print(table)


@app.command()
def rotate(as_json: Json = False) -> None:
    """Make a new active key; the old one verifies until its tokens have expired."""

    async def work(rt: Runtime) -> str:
        kid = await rt.rotate_keys()
        await rt.identity.audit.record("signing_key_rotated", kid=kid, via="cli")
        return kid

    kid = run(work)
    if as_json:
        emit_json({"kid": kid})
    else:
        console.print(f"active key: {kid}")
