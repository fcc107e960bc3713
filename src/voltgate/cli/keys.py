"""`voltgate keys list|rotate` (token signing keys) and `voltgate keys app generate|host` (an
app's virtual key pair, and the public key voltgate hosts for an app)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from voltgate.cli.common import console, emit_json, fail, run
from voltgate.errors import VoltgateError
from voltgate.identity.appkeys import KEY_PATH, KeyPair, fingerprint, generate, read_public_pem
from voltgate.identity.clients import ClientKind
from voltgate.identity.keyfetch import key_url
from voltgate.runtime import Runtime

app = typer.Typer(help="Token signing keys; apps' virtual keys (`keys app`).")
app_keys = typer.Typer(help="An app's virtual key pair (NIST P-256) and its hosted public key.")
app.add_typer(app_keys, name="app")
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
ClientId = Annotated[
    str | None,
    typer.Option(
        "--client-id",
        help="voltgate hosts the public key for this app (a partner or third_party client) at "
        f"its own {KEY_PATH}; the app registers voltgate's own domain.",
    ),
]
PRIVATE_FILE = "private-key.pem"
PUBLIC_FILE = "public-key.pem"
# The kinds whose client credentials reach /api/1/partner_accounts.
_PARTNER_KINDS = (ClientKind.PARTNER, ClientKind.THIRD_PARTY)


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


@app_keys.command("generate")
def app_generate(
    out: Annotated[Path, typer.Option("--out", help="Directory for the two PEM files.")],
    client_id: ClientId = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing key files.")] = False,
    as_json: Json = False,
) -> None:
    """Write a new key pair: private-key.pem (readable by you only: it signs the app's
    commands) and public-key.pem (to host at https://<your domain>/.well-known/…)."""
    pair = generate()
    private, public = out / PRIVATE_FILE, out / PUBLIC_FILE
    if not force and (private.exists() or public.exists()):
        fail(f"{private} or {public} exists: pass --force to replace the pair")
    hosted = _host(client_id, pair.point) if client_id else None  # before any file is written
    out.mkdir(parents=True, exist_ok=True)
    _write(private, pair.private_pem, 0o600)
    _write(public, pair.public_pem, 0o644)
    _report(pair, private, public, hosted, as_json)


@app_keys.command("host")
def app_host(
    public_key: Annotated[Path, typer.Argument(help="The app's public-key.pem.")],
    client_id: Annotated[str, typer.Option("--client-id", help="The app (partner, third_party).")],
    as_json: Json = False,
) -> None:
    """Host an existing public key for an app at voltgate's own well-known path."""
    try:
        point = read_public_pem(public_key.read_bytes())
    except OSError as exc:
        fail(f"{public_key}: {exc.strerror}")
    except VoltgateError as exc:
        fail(f"{public_key}: {exc.description}")
    url = _host(client_id, point)
    if as_json:
        emit_json(
            {"client_id": client_id, "public_key_url": url, "fingerprint": fingerprint(point)}
        )
    else:
        console.print(f"voltgate hosts the key of {client_id} at {url}")


def _host(client_id: str, point: bytes) -> str:
    """Host the key for the app: the URL it is served at."""

    async def work(rt: Runtime) -> str:
        client = await rt.identity.clients.get(client_id, fresh=True)
        if client is None or client.kind not in _PARTNER_KINDS:
            fail(f"no partner or third_party app {client_id!r}")
        account = await rt.identity.partners.host(client_id, point)
        return key_url(account.domain)

    return run(work)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write `data` with `mode` from the start (a private key is never readable by others)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _report(pair: KeyPair, private: Path, public: Path, hosted: str | None, as_json: bool) -> None:
    where = hosted or f"https://<your domain>{KEY_PATH}"
    if as_json:
        emit_json(
            {
                "private_key": str(private),
                "public_key": str(public),
                "public_key_hex": pair.point.hex(),
                "fingerprint": fingerprint(pair.point),
                "public_key_url": where,
            }
        )
        return
    console.print(f"private key: {private} (keep it secret: it signs your app's commands)")
    console.print(f"public key:  {public} ({fingerprint(pair.point)})")
    if hosted:
        console.print(f"voltgate hosts the public key at {hosted}")
        domain = hosted.split("://", 1)[1].split("/", 1)[0]
        console.print(f'register it: POST /api/1/partner_accounts {{"domain": "{domain}"}}')
    else:
        console.print(
            f"host the public key at {where} (exactly there: content type "
            "application/x-pem-file, no redirect), then register the domain: "
            'POST /api/1/partner_accounts {"domain": "<your domain>"}'
        )
