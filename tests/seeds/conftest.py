"""One live sandbox for the seed guides' requests (`voltgate sandbox` on 127.0.0.1, as a user
starts it, stopped when the package's tests are done), and the means to issue those requests as
written: a shell for the curls, a browser-like client for the sign-in and consent pages.

A guide's request is quoted in its test module exactly as the guide prints it; only the host
(`https://api.ev.energy` …) and the placeholders (`your_client_id`, `<your_client_secret>` …)
are replaced. Where the seed documents are found (`VOLTGATE_SEEDS_DIR`, or `../shared/seeds/`
beside the repository), each module also checks that what it quotes is in its guide, word for
word; elsewhere those checks skip and say so.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.fixtures.live import free_port, server_env, voltgate_process
from tests.web.support import forms, query
from voltgate.identity import pkce

# The guides: VOLTGATE_SEEDS_DIR, else `shared/seeds` beside the checkout (`.ci/run` sets it).
SEEDS = Path(
    os.environ.get("VOLTGATE_SEEDS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "seeds"
)
WRITE_OUT = "\n%{http_code}"


def _words(text: str) -> str:
    return " ".join(text.split())


def assert_quoted(seed: str, *quotes: str) -> None:
    """Each quote is in the seed guide word for word (whitespace aside); skipped where the seed
    documents are not to be found (set VOLTGATE_SEEDS_DIR)."""
    found = sorted(SEEDS.glob(f"{seed}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"the seed documents are not at {SEEDS}: set VOLTGATE_SEEDS_DIR")
    guide = _words(found[0].read_text())
    for quote in quotes:
        assert _words(quote) in guide, quote


@dataclass(frozen=True)
class Answer:
    status: int
    text: str

    def json(self) -> Any:
        return orjson.loads(self.text)


@dataclass
class Sandbox:
    base_url: str
    creds: dict[str, Any]
    env: dict[str, str]
    log_path: Path  # what `voltgate sandbox` printed
    server_log: Path  # the server's own log (every request)

    def cli_json(self, *args: str) -> dict[str, Any]:
        """`voltgate … --json` on the sandbox's data, as its operator would run it."""
        done = subprocess.run(
            [sys.executable, "-m", "voltgate", *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        data = orjson.loads(done.stdout)
        assert isinstance(data, dict)
        return data

    def app(self, name: str, kind: str, scopes: str, *redirect_uris: str) -> dict[str, str]:
        """An app registered the way a platform's team would create one for an integrator."""
        args = ["clients", "create", "--name", name, "--kind", kind, "--scopes", scopes]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        data = self.cli_json(*args)
        return {"client_id": str(data["client_id"]), "client_secret": str(data["client_secret"])}

    def curl(self, command: str, **placeholders: str) -> Answer:
        """A guide's curl, pasted into a shell, with the host and the placeholders replaced
        (its `\\` line continuations joined, as the shell does); curl is told only to print
        the status after the body (`-w`)."""
        line = fill(command, **placeholders).replace("\\\n", " ")
        done = subprocess.run(
            ["bash", "-c", f"{line} -sS -w {shlex.quote(WRITE_OUT)}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        body, _, status = done.stdout.rpartition("\n")
        return Answer(int(status), body)


def fill(text: str, **placeholders: str) -> str:
    for name, value in placeholders.items():
        text = text.replace(name, value)
    return text


def sign_in_and_allow(http: httpx.Client, url: str, email: str, password: str) -> httpx.Response:
    """A person following `url`: signs in when asked, reads the consent page (returned with the
    redirect as `consent`; empty when they had allowed the app before), allows; answers the
    redirect back to the app."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    if "Sign in" in page.text:
        form = next(f for f in forms(page.text) if f.action == "/login")
        back = http.post("/login", data={**form.fields, "email": email, "password": password})
        assert back.status_code == 303, back.text
        page = http.get(back.headers["location"])
    if page.status_code == 302:  # consented before: straight back to the app
        page.extensions["consent"] = ""
        return page
    assert page.status_code == 200, page.text
    consent = page
    form = next(f for f in forms(consent.text) if f.action == "/oauth/authorize/decision")
    redirect = http.post(form.action, data={**form.fields, "decision": "allow"})
    assert redirect.status_code == 302, redirect.text
    redirect.extensions["consent"] = consent.text
    return redirect


def code_from(redirect: httpx.Response, redirect_uri: str) -> str:
    location = redirect.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    return query(location)["code"]


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """`voltgate sandbox` with one simulated public charger and the home charger, as a user starts it."""
    root = tmp_path_factory.mktemp("seeds")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    creds_path, log_path = root / "credentials.json", root / "sandbox.log"
    data = root / "data"
    env = server_env(data)
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", "1"]
    args += ["--credentials-out", str(creds_path)]
    with voltgate_process(args, env, log_path, base):
        creds = orjson.loads(creds_path.read_bytes())
        yield Sandbox(base, creds, env, log_path, data / "sandbox.log")


def redirect_target(sandbox: Sandbox) -> str:
    return f"{sandbox.base_url}/sandbox/callback"


def scopes_of(text: str) -> list[str]:
    return sorted(re.split(r"\s+", text.strip()))


def tesla_token(
    sandbox: Sandbox,
    scope: str,
    app: dict[str, str] | None = None,
    verifier: str | None = None,
) -> dict[str, Any]:
    """A token from Tesla's authorization-code flow on `/oauth2/v3/*`: the first user signs in
    and allows `scope` for `app` (the sandbox's confidential app unless given; a public one
    without `client_secret` proves the PKCE `verifier`)."""
    app = app or sandbox.creds["third_party_app"]
    person = sandbox.creds["users"][0]
    target = redirect_target(sandbox)
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": target,
        "scope": scope,
        "state": "seed-state",
    }
    proof = {}
    if verifier is not None:
        params.update(code_challenge=pkce.s256(verifier), code_challenge_method="S256")
        proof = {"code_verifier": verifier}
    secret = {"client_secret": app["client_secret"]} if "client_secret" in app else {}
    with httpx.Client(base_url=sandbox.base_url) as http:
        url = str(httpx.URL("/oauth2/v3/authorize", params=params))
        redirect = sign_in_and_allow(http, url, person["email"], person["password"])
        answer = http.post(
            "/oauth2/v3/token",
            data={
                "grant_type": "authorization_code",
                "client_id": app["client_id"],
                **secret,
                **proof,
                "code": code_from(redirect, target),
                "redirect_uri": target,
            },
        )
    assert answer.status_code == 200, answer.text
    token: dict[str, Any] = answer.json()
    return token
