"""`voltgate enroll create`: enrollment tokens chargers register with."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from voltgate.cli.common import console, emit_json, run
from voltgate.devices.schemas import EnrollmentCreate, enrollment_view
from voltgate.devices.store import Enrollment
from voltgate.errors import ValidationFailed
from voltgate.identity.admin import parse_duration
from voltgate.runtime import Runtime

app = typer.Typer(help="Enrollment tokens: what lets chargers register into an operator's fleet.")


@app.command()
def create(
    operator: Annotated[str, typer.Option("--operator", help="The operator's client id.")],
    uses: Annotated[int, typer.Option("--uses", help="How many chargers may register with it.")],
    site: Annotated[
        str | None, typer.Option("--site", help="Bind the chargers to this site of the operator.")
    ] = None,
    expires: Annotated[str, typer.Option("--expires", help="Lifetime, e.g. 7d, 24h.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Issue an enrollment token (shown once; only its hash is stored)."""

    async def work(rt: Runtime) -> tuple[Enrollment, str]:
        try:
            spec = EnrollmentCreate(site_id=site, uses=uses, expires_in=parse_duration(expires))
        except ValidationError as exc:
            where = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise ValidationFailed(f"{where}: {exc.errors()[0]['msg']}") from None
        return await rt.fleet.enrollments.create(operator, spec, via="cli")

    enrollment, token = run(work)
    if as_json:
        emit_json(enrollment_view(enrollment, token))
    else:
        console.print(f"enrollment_token: {token}", markup=False, soft_wrap=True)
        console.print(f"uses: {enrollment.uses}  expires_at: {int(enrollment.expires_at)}")
