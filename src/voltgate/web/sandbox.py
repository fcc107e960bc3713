"""The sandbox app's redirect URI: a page that shows what the authorization server sent back.

Mounted only in a sandbox, so the delegated flow can be tried with a browser and curl alone.
`voltgate sandbox` registers the app and prints the rest (`voltgate.cli.serve`).
"""

from __future__ import annotations

import shlex
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from voltgate.identity import pkce
from voltgate.identity.secrets import SecretHasher
from voltgate.identity.stores import DelegationStore
from voltgate.web.page import security_headers, templates

APP_NAME = "Sandbox app"
CALLBACK_PATH = "/sandbox/callback"
# What the printed walk-through asks for: enough to try every user endpoint read-only, and
# charging commands (no vehicle_cmds or energy_cmds: ask for those when you need them).
TRY_SCOPE = (
    "openid offline_access user_data vehicle_device_data vehicle_location "
    "vehicle_charging_cmds energy_device_data charging_session:read"
)
_MAX_PARAM = 2048


def callback_uri(issuer: str) -> str:
    return issuer + CALLBACK_PATH


def authorize_url(issuer: str, client_id: str, verifier: str, state: str) -> str:
    """An authorization request (RFC 6749 §4.1.1) with a PKCE S256 challenge (RFC 7636 §4.3)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback_uri(issuer),
            "scope": TRY_SCOPE,
            "state": state,
            "code_challenge": pkce.s256(verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{issuer}/oauth/authorize?{query}"


# Reads a token answer on stdin and prints its access_token; an error answer goes to stderr
# instead (exit status 1), so `export X=$(… | ACCESS_FIELD)` shows what went wrong.
ACCESS_FIELD = (
    "python3 -c 'import json,sys; a=json.load(sys.stdin); "
    'print(a.get("access_token") or sys.exit(json.dumps(a)))\''
)


def redeem_command(issuer: str, client_id: str, code: str | None = None) -> str:
    """The line that redeems a code (RFC 6749 §4.1.3) and keeps the access token in
    `$ACCESS_TOKEN`; the secret and the verifier come from the shell.

    `client_id` is ours (or a `$CLIENT_ID` placeholder). Without `code`, the command reads it
    from `$CODE`; a received code is shell-quoted, since anyone can craft the URL it came in.
    One line, one redemption: a code works once, and a second use revokes what the first got.
    """
    code_arg = '"code=$CODE"' if code is None else shlex.quote(f"code={code}")
    curl = (
        f'curl -s -u "{client_id}:$CLIENT_SECRET" -d grant_type=authorization_code '
        f"--data-urlencode {code_arg} "
        f"--data-urlencode {shlex.quote('redirect_uri=' + callback_uri(issuer))} "
        f'--data-urlencode "code_verifier=$VERIFIER" {shlex.quote(issuer + "/oauth/token")}'
    )
    return f"export ACCESS_TOKEN=$({curl} | {ACCESS_FIELD})"


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return None if value is None else value[:_MAX_PARAM]


class SandboxCallback:
    """The callback page, bound at start-up to the codes' store (to name, in the printed
    command, the client_id of the app the code was issued to: the seeded one or any app a
    developer registered with this redirect URI) and the issuer."""

    def __init__(
        self, codes: DelegationStore, hasher: SecretHasher, issuer: str, environment: str
    ) -> None:
        self._codes = codes
        self._hasher = hasher
        self._issuer = issuer
        self._environment = environment

    def route(self) -> Route:
        return Route(CALLBACK_PATH, self.callback, methods=["GET"])

    async def callback(self, request: Request) -> HTMLResponse:
        issuer = self._issuer
        code, error = _param(request, "code"), _param(request, "error")
        # Looked up by its hash, not redeemed: the code still works once, for the line below.
        record = None if code is None else await self._codes.get_code(self._hasher.hash(code))
        client_id = None if record is None else record.client_id
        html = templates.get_template("sandbox_callback.html").render(
            environment=self._environment,
            issuer=issuer,
            code=code,
            state=_param(request, "state"),
            iss=_param(request, "iss"),
            error=error,
            error_description=_param(request, "error_description"),
            client_known=client_id is not None,
            command=redeem_command(issuer, client_id or "$CLIENT_ID", code) if code else None,
        )
        return HTMLResponse(
            html, 200 if code or error else 400, headers=security_headers(form_targets=())
        )
