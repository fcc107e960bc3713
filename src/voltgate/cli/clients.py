"""`voltgate clients create|list|show|rotate-secret|set-signing|disable`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from voltgate.cli.common import console, emit_json, run
from voltgate.identity.admin import ClientView, describe, parse_duration
from voltgate.runtime import Runtime

app = typer.Typer(help="OAuth clients: operators, partners, third-party apps, devices.")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="Display name shown on consent pages.")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="operator|partner|third_party|open_source|device|beenergised_app"
        ),
    ],
    scopes: Annotated[str, typer.Option("--scopes", help='Allowed scopes, e.g. "read write".')],
    token_ttl: Annotated[
        int | None,
        typer.Option(
            "--token-ttl",
            help="Access-token TTL (s). Default: the kind's (24 h operators, 1 h apps), "
            "or a dialect's own (10 h on ev.energy's /o/token).",
        ),
    ] = None,
    redirect_uri: Annotated[list[str] | None, typer.Option("--redirect-uri")] = None,
    grant_type: Annotated[list[str] | None, typer.Option("--grant-type")] = None,
    as_json: Json = False,
) -> None:
    """Create a client. Its secret is printed now and never again (a be.ENERGISED app's
    secret is its pre-shared key: the bearer of registerContact and initSession)."""

    async def work(rt: Runtime) -> tuple[ClientView, str | None]:
        created = await rt.identity.admin.create(
            name=name,
            kind=kind,
            scopes=scopes,
            token_ttl=token_ttl,
            redirect_uris=redirect_uri,
            grant_types=grant_type,
        )
        return describe(created.client, rt.clock.now()), created.secret

    view, secret = run(work)
    if as_json:
        psk = {"psk": secret} if view["kind"] == "beenergised_app" else {}
        emit_json({**view, "client_secret": secret, **psk})
        return
    console.print(f"client_id:     [bold]{view['client_id']}[/bold]")
    if secret:
        label = "psk:          " if view["kind"] == "beenergised_app" else "client_secret:"
        console.print(f"{label} [bold]{secret}[/bold]")
        console.print("[yellow]Store the secret now: it is never shown again.[/yellow]")


@app.command("list")
def list_(as_json: Json = False) -> None:
    """List clients."""

    async def work(rt: Runtime) -> list[ClientView]:
        now = rt.clock.now()
        return [describe(c, now) for c in await rt.identity.admin.list_all()]

    rows = run(work)
    if as_json:
        emit_json({"clients": rows})
        return
    table = Table("client_id", "name", "kind", "scopes", "ttl", "disabled")
    for r in rows:
        scopes = r["scopes"]
        assert isinstance(scopes, list)
        table.add_row(
            str(r["client_id"]),
            str(r["name"]),
            str(r["kind"]),
            " ".join(scopes),
            "path's" if r["token_ttl"] is None else str(r["token_ttl"]),
            "yes" if r["disabled_at"] else "",
        )
    console.print(table)


@app.command()
def show(client_id: str, as_json: Json = False) -> None:
    """Show one client (never its secret)."""

    async def work(rt: Runtime) -> ClientView:
        return describe(await rt.identity.admin.show(client_id), rt.clock.now())

    view = run(work)
    if as_json:
        emit_json(view)
    else:
        for key, value in view.items():
            console.print(f"{key}: {value}")


@app.command("rotate-secret")
def rotate_secret(
    client_id: str,
    overlap: Annotated[
        str, typer.Option("--overlap", help="How long the old secret keeps working, e.g. 24h.")
    ] = "24h",
    as_json: Json = False,
) -> None:
    """Issue a new secret; the old one keeps working until the overlap ends."""

    async def work(rt: Runtime) -> tuple[str, int]:
        seconds = parse_duration(overlap)
        secret = await rt.identity.admin.rotate_secret(client_id, seconds, via="cli")
        return secret, seconds

    secret, seconds = run(work)
    if as_json:
        emit_json({"client_id": client_id, "client_secret": secret, "overlap_seconds": seconds})
        return
    console.print(f"client_secret: [bold]{secret}[/bold]")
    console.print(f"The previous secret keeps working for {seconds} s.")


Mode = Annotated[str, typer.Argument(help="off | optional | required")]


@app.command("set-signing")
def set_signing(client_id: str, mode: Mode, as_json: Json = False) -> None:
    """Set whether the client signs its requests (X-Signature): off, optional or required."""

    async def work(rt: Runtime) -> ClientView:
        client = await rt.identity.admin.set_signing(client_id, mode, via="cli")
        return describe(client, rt.clock.now())

    view = run(work)
    if as_json:
        emit_json(view)
    else:
        console.print(f"{client_id}: signing {view['signing']}")


@app.command()
def disable(client_id: str, as_json: Json = False) -> None:
    """Disable a client: its credentials and every token it holds stop working."""

    async def work(rt: Runtime) -> ClientView:
        client = await rt.identity.admin.disable(client_id, via="cli")
        return describe(client, rt.clock.now())

    view = run(work)
    if as_json:
        emit_json(view)
    else:
        console.print(f"disabled {client_id}")
