"""`voltgate chargepoints generate`: believable public charge points over Europe."""

from __future__ import annotations

from typing import Annotated

import typer

from voltgate.cli.common import console, run
from voltgate.runtime import Runtime

app = typer.Typer(help="The public charge-point catalogue (be.ENERGISED's cpsPaged).")


@app.command()
def generate(
    count: Annotated[int, typer.Argument(min=1, max=10_000_000, help="Points to add.")],
    seed: Annotated[int, typer.Option(help="The same seed gives the same points.")] = 1,
) -> None:
    """Add COUNT public charge points clustered around Europe's cities (bulk-loaded)."""

    async def work(rt: Runtime) -> int:
        await rt.fleet.charge_points.generate(count, seed, rt.clock.now())
        return await rt.fleet.charge_points.imported()

    total = run(work)
    console.print(f"added {count:,} charge points ({total:,} imported ones in all)")
