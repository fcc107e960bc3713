"""A minimal Authlib + Flask authorization server: the "Authlib + Flask" peer of voltgate's bench.

Written for the benchmark (issue 6); it runs in its own venv (bench/.peers/authlib-flask/,
requirements.txt beside this file) under gunicorn, started by bench/peers/authlib_flask.py:

    gunicorn --workers 2 --worker-class sync --bind 127.0.0.1:PORT app:app

What it serves, the way Authlib's documentation sets a server up:

- POST /oauth/token       AuthorizationServer: client_credentials and refresh_token grants,
                          clients authenticated by HTTP Basic (client_secret_basic)
- POST /oauth/introspect  IntrospectionEndpoint (RFC 7662), HTTP Basic
- POST /oauth/revoke      RevocationEndpoint (RFC 7009), HTTP Basic
- GET  /v1/me             ResourceProtector + BearerTokenValidator, scope "read"
- GET  /healthz           the floor: a near-empty route on the same server

Storage is in memory: plain dicts in each worker process. Gunicorn's workers share nothing, so
a token issued by one worker is unknown to the other. The bench therefore passes one client and
two tokens in the environment (BENCH_AUTHLIB_*), and every worker seeds its dicts with them when
it imports this module: the client, a long-lived access token (what the introspection,
revocation and protected-read workloads replay) and a refresh token from a user's grant (what
the refresh workload replays). Tokens issued during the run live only in the issuing worker.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_oauth2 import (
    AuthorizationServer,
    ResourceProtector,
    current_token,
)
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask

# Set by the bench; each worker reads them when it imports this module.
CLIENT_ID = os.environ["BENCH_AUTHLIB_CLIENT_ID"]
CLIENT_SECRET = os.environ["BENCH_AUTHLIB_CLIENT_SECRET"]
SEEDED_ACCESS_TOKEN = os.environ["BENCH_AUTHLIB_ACCESS_TOKEN"]
SEEDED_REFRESH_TOKEN = os.environ["BENCH_AUTHLIB_REFRESH_TOKEN"]
SCOPE = "read write"
# A day: longer than any bench run, so the seeded tokens never expire during one.
SEEDED_LIFETIME = 86400


@dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    client_secret: str
    scope: str
    grant_types: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        # No scope requested: the client's scopes (RFC 6749 §3.3, a pre-defined default).
        if not scope:
            return self.scope
        allowed = set(scope_to_list(self.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        # As in Authlib's own client models: the secret is kept as issued, compared in
        # constant time.
        return secrets.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


@dataclass
class Token(TokenMixin):
    client_id: str
    access_token: str
    scope: str
    issued_at: float
    expires_in: int
    user_id: str | None = None
    refresh_token: str | None = None
    access_token_revoked: bool = False
    refresh_token_revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in < time.time()

    def is_revoked(self) -> bool:
        return self.access_token_revoked

    def get_user(self) -> str | None:
        return self.user_id

    def get_client(self) -> Client:
        return CLIENTS[self.client_id]


# This worker's storage.
CLIENTS: dict[str, Client] = {}
ACCESS_TOKENS: dict[str, Token] = {}
REFRESH_TOKENS: dict[str, Token] = {}


def store(token: Token) -> None:
    ACCESS_TOKENS[token.access_token] = token
    if token.refresh_token:
        REFRESH_TOKENS[token.refresh_token] = token


def query_client(client_id: str) -> Client | None:
    return CLIENTS.get(client_id)


def save_token(data: dict[str, Any], request: Any) -> None:
    refresh_token = data.get("refresh_token")
    store(
        Token(
            client_id=request.client.get_client_id(),
            access_token=str(data["access_token"]),
            scope=str(data.get("scope", "")),
            issued_at=time.time(),
            expires_in=int(data.get("expires_in", 0)),
            user_id=request.user,
            refresh_token=str(refresh_token) if refresh_token else None,
        )
    )


def find_token(token_string: str, hint: str | None) -> Token | None:
    if hint == "access_token":
        return ACCESS_TOKENS.get(token_string)
    if hint == "refresh_token":
        return REFRESH_TOKENS.get(token_string)
    return ACCESS_TOKENS.get(token_string) or REFRESH_TOKENS.get(token_string)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    # Authlib's default: a refresh answers with a new access token only (no new refresh token,
    # INCLUDE_NEW_REFRESH_TOKEN = False), so the refresh token stays valid and is not rotated.
    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        token = REFRESH_TOKENS.get(refresh_token)
        if token is None or token.refresh_token_revoked:
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> str | None:
        return refresh_token.user_id

    def revoke_old_credential(self, refresh_token: Token) -> None:
        # No new refresh token was issued, so the old one stays the client's credential.
        pass


class Introspection(IntrospectionEndpoint):
    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return find_token(token_string, token_type_hint)

    def check_permission(self, token: Token, client: ClientMixin, request: Any) -> bool:
        # A client introspects the tokens issued to it.
        return token.check_client(client)

    def introspect_token(self, token: Token) -> dict[str, object]:
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": "Bearer",
            "scope": token.scope,
            "sub": token.user_id or token.client_id,
            "iat": int(token.issued_at),
            "exp": int(token.issued_at + token.expires_in),
        }


class Revocation(RevocationEndpoint):
    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: Token, request: Any) -> None:
        # Marked, not deleted (Authlib's advice: a deleted value could be issued again).
        token.access_token_revoked = True
        if request.form.get("token_type_hint") != "access_token":
            token.refresh_token_revoked = True


class Bearer(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> Token | None:
        return ACCESS_TOKENS.get(token_string)


def seed() -> None:
    """The bench's client and tokens, the same in every worker (see the module docstring)."""
    CLIENTS[CLIENT_ID] = Client(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope=SCOPE,
        grant_types=("client_credentials", "refresh_token"),
    )
    now = time.time()
    # What a client_credentials grant would have issued: for introspect, revoke and /v1/me.
    store(Token(CLIENT_ID, SEEDED_ACCESS_TOKEN, SCOPE, now, SEEDED_LIFETIME))
    # What a user's authorization_code grant would have issued: its refresh token, for refresh.
    store(
        Token(
            CLIENT_ID,
            secrets.token_urlsafe(32),
            SCOPE,
            now,
            SEEDED_LIFETIME,
            user_id="bench-user",
            refresh_token=SEEDED_REFRESH_TOKEN,
        )
    )


app = Flask(__name__)
authorization = AuthorizationServer(app, query_client=query_client, save_token=save_token)
authorization.register_grant(grants.ClientCredentialsGrant)
authorization.register_grant(RefreshTokenGrant)
authorization.register_endpoint(Introspection)
authorization.register_endpoint(Revocation)
require_oauth = ResourceProtector()
require_oauth.register_token_validator(Bearer())


@app.post("/oauth/token")
def issue_token() -> object:
    return authorization.create_token_response()


@app.post("/oauth/introspect")
def introspect() -> object:
    return authorization.create_endpoint_response(Introspection.ENDPOINT_NAME)


@app.post("/oauth/revoke")
def revoke() -> object:
    return authorization.create_endpoint_response(Revocation.ENDPOINT_NAME)


@app.get("/v1/me")
@require_oauth("read")
def me() -> dict[str, object]:
    token: Token = current_token
    return {
        "subject": token.user_id or token.client_id,
        "client_id": token.client_id,
        "scopes": sorted(scope_to_list(token.scope)),
        "issued_at": int(token.issued_at),
        "expires_at": int(token.issued_at + token.expires_in),
    }


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


seed()
# The bench waits for this line from every worker before it loads the server.
print(f"authlib-flask: app loaded in pid {os.getpid()}", file=sys.stderr, flush=True)
