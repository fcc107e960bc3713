"""The `voltgate` command."""

from __future__ import annotations

import typer

from voltgate.cli import (
    apps,
    chargepoints,
    clients,
    db,
    devices,
    enroll,
    keys,
    proxy,
    pulse,
    serve,
    sim,
    telemetry,
    users,
)

app = typer.Typer(
    name="voltgate",
    help="voltgate: EV-charging and energy platform API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(serve.serve)
app.command()(serve.sandbox)
app.command()(proxy.proxy)
app.command()(pulse.pulse)
app.add_typer(db.app, name="db")
app.add_typer(clients.app, name="clients")
app.add_typer(apps.app, name="apps")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(enroll.app, name="enroll")
app.add_typer(devices.app, name="devices")
app.add_typer(sim.app, name="sim")
app.add_typer(chargepoints.app, name="chargepoints")
app.add_typer(telemetry.app, name="telemetry")


def main() -> None:
    app()
