"""`voltgate devices set-signing`: a charger's request-signing mode."""

from __future__ import annotations

from typing import Annotated

import typer

from voltgate.cli.clients import Json, Mode
from voltgate.cli.common import console, emit_json, run
from voltgate.identity.admin import describe
from voltgate.identity.clients import ClientKind
from voltgate.runtime import Runtime

app = typer.Typer(help="Chargers (devices): their identity settings.")


@app.command("set-signing")
def set_signing(
    device_id: Annotated[str, typer.Argument(help="The device id (its client id).")],
    mode: Mode,
    as_json: Json = False,
) -> None:
    """Set whether the charger signs its requests with its device secret."""

    async def work(rt: Runtime) -> dict[str, object]:
        client = await rt.admin.set_signing(device_id, mode, kind=ClientKind.DEVICE, via="cli")
        await rt.audit.flush()
        return describe(client, rt.clock.now())

    view = run(work)
    if as_json:
        emit_json({"device_id": device_id, "signing": view["signing"]})
    else:
        console.print(f"{device_id}: signing {view['signing']}")
