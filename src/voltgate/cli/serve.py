"""`voltgate serve` and `voltgate sandbox`."""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from voltgate.cli.common import console, err_console, fail, settings, started_runtime
from voltgate.config import Environment, Settings
from voltgate.devices.enrollment import SANDBOX_OPERATOR
from voltgate.observability import configure_logging
from voltgate.runtime import Runtime
from voltgate.web import sandbox as sandbox_page

Host = Annotated[str, typer.Option("--host", help="Address to bind.")]
Port = Annotated[int, typer.Option("--port", help="Port to bind.")]
SANDBOX_USER = "driver@sandbox.voltgate.test"
SANDBOX_USER_NAME = "Sandbox Driver"
SANDBOX_APP_SCOPES = (
    "openid offline_access profile email read write user_data vehicle_device_data "
    "vehicle_location vehicle_cmds vehicle_charging_cmds energy_device_data energy_cmds"
)


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


async def _ensure_client(
    rt: Runtime, name: str, kind: str, scopes: str, redirect_uris: tuple[str, ...] = ()
) -> dict[str, str]:
    """The sandbox client `name`, registered as asked, with a secret re-issued now.

    A same-named client registered otherwise (another issuer's redirect URI) is disabled.
    """
    wanted = (kind, tuple(scopes.split()), redirect_uris)
    current = None
    for client in await rt.admin.list_all():
        if client.name != name or client.disabled:
            continue
        if (client.kind.value, client.scopes, client.redirect_uris) == wanted and current is None:
            current = client
        else:
            await rt.admin.disable(client.id, via="sandbox")
    if current is not None:
        secret = await rt.admin.rotate_secret(current.id, overlap=0, via="sandbox")
        return {"client_id": current.id, "client_secret": secret}
    created = await rt.admin.create(
        name=name, kind=kind, scopes=scopes, redirect_uris=list(redirect_uris)
    )
    return {"client_id": created.client.id, "client_secret": created.secret or ""}


async def _ensure_user(rt: Runtime) -> dict[str, str]:
    """The sandbox user, with a password re-issued now (only its argon2id hash is stored)."""
    password = secrets.token_urlsafe(18)
    user = next((u for u in await rt.users.list_all() if u.email == SANDBOX_USER), None)
    if user is None:
        user = await rt.users.create(SANDBOX_USER, password, SANDBOX_USER_NAME)
    else:
        await rt.users.set_password(user.id, password)
        if user.disabled_at is not None:
            err_console.print(
                f"[yellow]warning:[/yellow] {SANDBOX_USER} is disabled: it cannot sign in"
            )
    return {"email": user.email, "password": password, "user_id": user.id}


async def provision_sandbox(rt: Runtime, issuer: str) -> dict[str, Any]:
    """The sandbox operator, user and app; every secret and the password are re-issued now."""
    operator = await _ensure_client(rt, SANDBOX_OPERATOR, "operator", "read write")
    user = await _ensure_user(rt)
    redirect_uri = sandbox_page.callback_uri(issuer)
    app = await _ensure_client(
        rt, sandbox_page.APP_NAME, "third_party", SANDBOX_APP_SCOPES, (redirect_uri,)
    )
    return {"operator": operator, "user": user, "app": {**app, "redirect_uri": redirect_uri}}


async def _sandbox_credentials(config: Settings) -> dict[str, Any]:
    async with started_runtime(config) as rt:
        creds = await provision_sandbox(rt, config.issuer)
        await rt.audit.flush()
    return creds


def _show(text: str) -> None:
    """A line to copy: printed as is (no markup, emoji codes or wrapping)."""
    console.print(text, markup=False, emoji=False, soft_wrap=True)


def _print_delegated_flow(base: str, user: dict[str, str], app: dict[str, str]) -> None:
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    console.print("[bold]Try the delegated flow[/bold] (a user lets the sandbox app act for them):")
    _show(f"  user email:        {user['email']}")
    _show(f"  user password:     {user['password']}")
    _show(f"  app client_id:     {app['client_id']}")
    _show(f"  app client_secret: {app['client_secret']}")
    _show("  1. In the shell you will redeem the code from:")
    secret = shlex.quote(app["client_secret"])
    _show(f"     export CLIENT_SECRET={secret} VERIFIER={shlex.quote(verifier)}")
    _show(f"  2. Open in a browser, sign in as the user and Allow (state: {state}):")
    _show(f"     {sandbox_page.authorize_url(base, app['client_id'], verifier, state)}")
    _show(f"  3. {app['redirect_uri']} shows the code and the command to redeem it:")
    _show(f"     {sandbox_page.redeem_command(base, app['client_id'])}")
    _show(f'  Then: curl -s -H "Authorization: Bearer $ACCESS_TOKEN" {base}/oauth/userinfo')


SANDBOX_FLEET = 5


def _start_fleet(config: Settings, count: int) -> subprocess.Popen[bytes]:
    """`voltgate sim chargers` in a child process: it waits until the server is ready, keeps its
    chargers' credentials in the data dir (the same chargers come back on the next start) and
    exits with this process."""
    command = [sys.executable, "-m", "voltgate", "sim", "chargers", "--count", str(count)]
    command += ["--server", config.issuer, "--quiet", "--parent-pid", str(os.getpid())]
    command += ["--state", str(config.data_dir / "sandbox-fleet.json")]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 - our own argv


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def sandbox(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    credentials_out: Annotated[
        Path | None, typer.Option("--credentials-out", help="Also write the credentials as JSON.")
    ] = None,
    fleet: Annotated[
        int,
        typer.Option("--fleet", min=0, help="Simulated chargers to run beside it (0: none)."),
    ] = SANDBOX_FLEET,
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
    _print_delegated_flow(base, creds["user"], creds["app"])
    console.print(f"API docs: {base}/docs")
    chargers = _start_fleet(config, fleet) if fleet else None
    if chargers is not None:
        _show(
            f"Simulated fleet: {fleet} chargers (`voltgate sim chargers`), in the sandbox operator:"
        )
        _show(f'  curl -s -H "Authorization: Bearer $TOKEN" {base}/v1/operator/devices')
    try:
        _run_server(config, host, port)
    finally:
        if chargers is not None:
            _stop(chargers)
