"""Every log line of the token flows is JSON with a correlation id and carries no credential."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import orjson

from tests.fixtures.live import LiveServer


class Flows:
    """Requests to the live server, each with its own X-Request-ID; remembers every secret."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.sensitive: set[str] = set()
        self.request_ids: list[str] = []
        self.cli_stderr: list[str] = []

    def secret(self, *values: str) -> None:
        self.sensitive.update(v for v in values if v)

    def send(
        self, method: str, path: str, request_id: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        url = f"{self.live.base_url}{path}"
        response = httpx.request(method, url, headers=headers, timeout=10, **kwargs)
        echoed = response.headers.get("x-request-id")
        assert echoed, f"{method} {path}: no X-Request-ID in the response"
        if request_id is not None:
            assert echoed == request_id
        self.request_ids.append(echoed)
        return response

    def token(self, response: httpx.Response) -> str:
        assert response.status_code == 200, response.text
        body = response.json()
        token: str = body["access_token"]
        self.secret(token)
        return token

    def basic(self, client_id: str, secret: str) -> dict[str, str]:
        value = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.secret(value)
        return {"Authorization": f"Basic {value}"}

    def cli(self, *args: str) -> dict[str, Any]:
        result = self.live.cli(*args, "--json")
        self.cli_stderr.append(result.stderr)
        data: dict[str, Any] = orjson.loads(result.stdout)
        return data


def run_flows(live: LiveServer) -> Flows:
    f = Flows(live)
    created = f.cli(
        "clients", "create", "--name", "Log audit", "--kind", "operator", "--scopes", "read write"
    )
    cid, secret = created["client_id"], created["client_secret"]
    f.secret(secret)
    cc = {"grant_type": "client_credentials"}

    response = f.send("POST", "/oauth/token", "abc-123", data=cc, headers=f.basic(cid, secret))
    basic_token = f.token(response)
    post_token = f.token(
        f.send(
            "POST",
            "/oauth/token",
            "flow-post",
            data={**cc, "client_id": cid, "client_secret": secret},
        )
    )
    tellus = f.send(
        "POST",
        "/v1/operator/oauth/token",
        "flow-tellus",
        json={**cc, "client_id": cid, "client_secret": secret},
    )
    f.token(tellus)
    f.token(f.send("POST", "/o/token", "flow-evenergy", data=cc, headers=f.basic(cid, secret)))
    f.token(f.send("POST", "/oauth/token", None, data=cc, headers=f.basic(cid, secret)))

    # Failed client authentication: a wrong secret shaped like a real one, and one that is not.
    shaped = secret[:10] + secrets.token_urlsafe(32)
    plain = "wrong-" + secrets.token_hex(16)
    f.secret(shaped, plain)
    for i, wrong in enumerate((shaped, plain)):
        assert (
            f.send(
                "POST", "/oauth/token", f"flow-bad-basic-{i}", data=cc, headers=f.basic(cid, wrong)
            ).status_code
            == 401
        )
        assert (
            f.send(
                "POST",
                "/oauth/token",
                f"flow-bad-post-{i}",
                data={**cc, "client_id": cid, "client_secret": wrong},
            ).status_code
            == 401
        )
        assert (
            f.send(
                "POST",
                "/v1/operator/oauth/token",
                f"flow-bad-tellus-{i}",
                json={**cc, "client_id": cid, "client_secret": wrong},
            ).status_code
            == 401
        )

    bearer = {"Authorization": f"Bearer {basic_token}"}
    assert f.send("GET", "/v1/me", "flow-me", headers=bearer).status_code == 200
    head, payload, signature = basic_token.split(".")
    tampered = f"{head}.{payload}.{signature[::-1]}"
    garbage = "not-a-token-" + secrets.token_hex(16)
    f.secret(tampered, garbage)
    for i, bad in enumerate((tampered, garbage)):
        refused = f.send(
            "GET", "/v1/me", f"flow-me-bad-{i}", headers={"Authorization": f"Bearer {bad}"}
        )
        assert refused.status_code == 401

    introspected = f.send(
        "POST",
        "/oauth/introspect",
        "flow-introspect",
        data={"token": post_token},
        headers=f.basic(cid, secret),
    )
    assert introspected.json()["active"] is True
    assert (
        f.send(
            "POST",
            "/oauth/revoke",
            "flow-revoke",
            data={"token": post_token},
            headers=f.basic(cid, secret),
        ).status_code
        == 200
    )
    assert (
        f.send(
            "GET", "/v1/me", "flow-me-revoked", headers={"Authorization": f"Bearer {post_token}"}
        ).status_code
        == 401
    )

    rotated = f.cli("clients", "rotate-secret", cid, "--overlap", "24h")
    new_secret = rotated["client_secret"]
    f.secret(new_secret)
    f.token(
        f.send("POST", "/oauth/token", "flow-rotated", data=cc, headers=f.basic(cid, new_secret))
    )
    f.token(
        f.send("POST", "/oauth/token", "flow-old-in-overlap", data=cc, headers=f.basic(cid, secret))
    )
    return f


def stop(live: LiveServer) -> None:
    """Stop the server so everything it would log (shutdown included) is in the file."""
    assert live.process is not None
    live.process.terminate()
    live.process.wait(timeout=10)


def test_no_secret_or_token_in_logs_or_cli_stderr(live: LiveServer) -> None:
    flows = run_flows(live)
    stop(live)
    log = live.logs()
    outputs = {"server log": log, **{f"CLI stderr #{i}": e for i, e in enumerate(flows.cli_stderr)}}

    assert len(flows.sensitive) >= 12
    for where, text in outputs.items():
        for value in flows.sensitive:
            assert value not in text, f"{where} contains a secret or token"
            assert value[:20] not in text, f"{where} contains the start of a secret or token"


def test_log_lines_are_json_with_the_request_id(live: LiveServer) -> None:
    flows = run_flows(live)
    stop(live)
    lines = [line for line in live.logs().splitlines() if line.strip()]

    records = []
    for line in lines:
        record = orjson.loads(line)  # one JSON object per line, nothing else in the file
        assert isinstance(record, dict), line
        records.append(record)
    request_lines = [r for r in records if "path" in r or "status" in r]
    assert request_lines
    assert all(r.get("request_id") for r in request_lines)
    logged_ids = {r.get("request_id") for r in records}
    assert "abc-123" in logged_ids  # the caller's own correlation id is honoured
    assert set(flows.request_ids) <= logged_ids  # generated ids too: every request is traceable
