"""`voltgate serve` and `voltgate sandbox`."""

from __future__ import annotations

import asyncio
import os
import shlex
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from voltgate.cli.common import console, fail, settings, started_runtime
from voltgate.config import Environment, Settings
from voltgate.observability import configure_logging

Host = Annotated[str, typer.Option("--host", help="Address to bind.")]
Port = Annotated[int, typer.Option("--port", help="Port to bind.")]
SANDBOX_OPERATOR = "Sandbox operator"


Workers = Annotated[
    int, typer.Option("--workers", help="Server processes; more than one needs VOLTGATE_REDIS_URL.")
]


def _configured(host: str, port: int) -> Settings:
    base = settings()
    if "issuer" in base.model_fields_set:
        return base
    # Worker processes read their settings from the environment: hand the issuer down.
    os.environ["VOLTGATE_ISSUER"] = f"http://{host}:{port}"
    return settings()


# granian's own loggers propagate to the root handler that configure_logging installs (JSON).
_GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {},
    "formatters": {},
    "loggers": {
        "_granian": {"handlers": [], "level": "INFO", "propagate": True},
        "granian.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def _run_server(config: Settings, host: str, port: int, workers: int = 1) -> None:
    """granian: measured here at twice uvicorn's throughput for the same ASGI app."""
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    if workers > 1 and not config.redis_url:
        fail("--workers > 1 needs VOLTGATE_REDIS_URL: revocations and limits must be shared")
    configure_logging(config.log_level)
    Server(
        target="voltgate.app:from_environment",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        log_access=False,
        log_dictconfig=_GRANIAN_LOGGING,
    ).serve()


def serve(host: Host = "127.0.0.1", port: Port = 8000, workers: Workers = 1) -> None:
    """Run the API server (data under VOLTGATE_DATA_DIR, SQLite unless VOLTGATE_DATABASE_URL)."""
    _run_server(_configured(host, port), host, port, workers)


async def _sandbox_credentials(config: Settings) -> dict[str, Any]:
    """A sandbox operator client; its secret is re-issued on each start (shown, never stored)."""
    async with started_runtime(config) as rt:
        existing = [
            c for c in await rt.admin.list_all() if c.name == SANDBOX_OPERATOR and not c.disabled
        ]
        if existing:
            client_id = existing[0].id
            secret = await rt.admin.rotate_secret(client_id, overlap=0, via="sandbox")
        else:
            created = await rt.admin.create(
                name=SANDBOX_OPERATOR, kind="operator", scopes="read write"
            )
            client_id, secret = created.client.id, created.secret or ""
        await rt.audit.flush()
    return {"operator": {"client_id": client_id, "client_secret": secret}}


def sandbox(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    credentials_out: Annotated[
        Path | None, typer.Option("--credentials-out", help="Also write the credentials as JSON.")
    ] = None,
) -> None:
    """Start a sandbox on the embedded default and print how to use it."""
    config = _configured(host, port)
    if config.environment is not Environment.SANDBOX:
        fail("`voltgate sandbox` runs only with VOLTGATE_ENVIRONMENT=sandbox")
    creds = asyncio.run(_sandbox_credentials(config))
    if credentials_out is not None:
        fd = os.open(credentials_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps(creds, option=orjson.OPT_INDENT_2))
    op = creds["operator"]
    base = config.issuer
    console.print(f"[bold green]voltgate sandbox[/bold green] on {base}  (data: {config.data_dir})")
    console.print(f"  operator client_id:     {op['client_id']}")
    console.print(f"  operator client_secret: {op['client_secret']}")
    console.print("Get a token (paste into another shell):")
    console.print(
        f"  curl -s -u {shlex.quote(op['client_id'] + ':' + op['client_secret'])} "
        f"-d grant_type=client_credentials {base}/oauth/token",
        soft_wrap=True,
    )
    console.print("Tellus-style:")
    body = orjson.dumps(
        {
            "client_id": op["client_id"],
            "client_secret": op["client_secret"],
            "grant_type": "client_credentials",
        }
    ).decode()
    console.print(
        f"  curl -s -H 'Content-Type: application/json' -d {shlex.quote(body)} "
        f"{base}/v1/operator/oauth/token",
        soft_wrap=True,
    )
    console.print(f'Then: curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/me')
    console.print(f"API docs: {base}/docs")
    _run_server(config, host, port)
