"""Live: on its first start `voltgate sandbox` has a past, so every request it prints answers
with data, and a restart adds no second past.

The requests are taken from what the sandbox printed and pasted into bash as a user would: the
operator's token line, the curls, the delegated flow (the authorization URL driven through the
sign-in and consent pages, the code from the callback set as `CODE`), the admin client the
metrics lines ask for, and the docs' addresses. Each answer must hold data: non-empty lists,
non-zero energy; the asleep vehicle answers the 408 its line says.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.fixtures.live import free_port, server_env, voltgate_process
from tests.web.support import forms, query

FIRST, LAST = "voltgate sandbox on ", "Ctrl-C stops the sandbox"
_COMMAND = ("export ", "curl ", "VOLTGATE_DATA_DIR=")
_URL = re.compile(r"'?(http://[^\s')]+)'?")

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the printed lines need curl")


@dataclass
class Run:
    base_url: str
    block: list[str]  # what the sandbox printed, its first line to its last
    creds: dict[str, Any]
    env: dict[str, str]  # a shell's environment with the sandbox's data dir and `voltgate`


@contextmanager
def _sandbox(tmp_path: Path, data: Path, name: str, *options: str) -> Iterator[Run]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    console, creds = tmp_path / f"{name}.txt", tmp_path / f"{name}.json"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--credentials-out", str(creds), *options]
    env = server_env(data)
    with voltgate_process(args, env, console, base):
        lines = console.read_text(errors="replace").splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith(FIRST))
        last = next(i for i, line in enumerate(lines) if line.startswith(LAST))
        # A shell as the person has it: the venv's `voltgate` is not on its PATH, and the data
        # directory is the one the printed lines name.
        shell = {k: v for k, v in env.items() if k != "VOLTGATE_DATA_DIR"}
        yield Run(base, lines[first : last + 1], orjson.loads(creds.read_bytes()), shell)


def _bash(script: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (script, done)
    return done.stdout


def _export(lines: list[str], name: str, env: dict[str, str]) -> str:
    """The lines pasted into a fresh shell; then the variable `name` they set."""
    value = _bash("\n".join([*lines, f'printf %s "${name}"']), env)
    assert value, lines
    return value


def _code(http: httpx.Client, url: str, user: dict[str, Any]) -> str:
    """The authorization URL opened in a browser: sign in, Allow; the code the callback shows."""
    page = http.get(url)
    login = next(f for f in forms(page.text) if f.action == "/login")
    back = http.post(
        "/login", data={**login.fields, "email": user["email"], "password": user["password"]}
    )
    assert back.status_code == 303, back.text
    consent = http.get(back.headers["location"])
    form = next(f for f in forms(consent.text) if f.action == "/oauth/authorize/decision")
    redirect = http.post(form.action, data={**form.fields, "decision": "allow"})
    assert redirect.status_code == 302, redirect.text
    callback = http.get(redirect.headers["location"])
    code = query(redirect.headers["location"])["code"]
    assert callback.status_code == 200 and code in callback.text
    return code


def _json(text: str) -> Any:
    return orjson.loads(text)


# What each printed request must answer: (method, path pattern) -> a check of its output.
Check = Callable[[str], None]


def _items(text: str) -> None:
    assert _json(text)["data"]["items"], text


def _energy(text: str) -> None:
    data = _json(text)["data"]
    assert data["total_energy_kwh"] > 0 and data["total_sessions"] > 0, data
    assert any(b["energy_kwh"] > 0 for b in data["buckets"]), data


def _response(text: str) -> None:
    assert _json(text)["response"], text


def _asleep(text: str) -> None:
    body = _json(text)
    assert body["response"] is None and "unavailable" in body["error"], text


def _signed_only(text: str) -> None:
    body = _json(text)
    assert body["response"] is None and body["error"] == "command_protocol_required", text


def _history(text: str) -> None:
    body = _json(text)["response"]
    assert body["data"] and body["totalResults"] >= len(body["data"]), text
    assert all(s["energyAddedKwh"] > 0 for s in body["data"]), text


def _sessions(text: str) -> None:
    data = _json(text)["data"]
    assert data and all(s["energy_kwh"] > 0 for s in data), text


def _userinfo(text: str) -> None:
    assert _json(text)["sub"].startswith("user"), text


def _tellus_token(text: str) -> None:
    assert _json(text)["data"]["access_token"], text


def _graphql(text: str) -> None:
    body = _json(text)
    assert "errors" not in body and all(body["data"].values()), text


def _configured(text: str) -> None:
    assert _json(text)["response"]["updated_vehicles"] == 1, text


def _telemetry_config(text: str) -> None:
    assert _json(text)["response"]["config"]["fields"], text  # synced once the car took it


def _metrics(text: str) -> None:
    assert "voltgate_" in text and len(text.splitlines()) > 10, text


EXPECTED: dict[tuple[str, str], Check] = {
    ("POST", r"/v1/operator/oauth/token"): _tellus_token,
    ("GET", r"/v1/operator/sites"): _items,
    ("GET", r"/v1/operator/devices"): _items,
    ("GET", r"/v1/operator/charging-records\?limit=5"): _items,
    ("GET", r"/v1/operator/aggregated/energy\?granularity=hour&site=site\w+"): _energy,
    ("GET", r"/oauth/userinfo"): _userinfo,
    ("GET", r"/api/1/products"): _response,
    ("GET", r"/api/1/vehicles"): _response,
    ("GET", r"/api/1/vehicles/\d+/vehicle_data"): _response,
    ("GET", r"/api/1/vehicles/\d+/vehicle_data   # asleep: 408"): _asleep,
    ("POST", r"/api/1/vehicles/\d+/wake_up"): _response,
    ("POST", r"/api/1/vehicles/\d+/command/set_charge_limit"): _response,
    (
        "POST",
        r"/api/1/vehicles/[A-Z0-9]{17}/command/set_charge_limit   # 403: signed commands only.*",
    ): _signed_only,
    ("POST", r"/api/1/vehicles/fleet_telemetry_config"): _configured,
    ("GET", r"/api/1/vehicles/[A-Z0-9]{17}/fleet_telemetry_config"): _telemetry_config,
    ("GET", r"/api/1/users/me"): _response,
    ("GET", r"/api/1/energy_sites/\d+/live_status"): _response,
    ("GET", r"/api/1/dx/charging/history"): _history,
    ("GET", r"/v2/charging_sessions"): _sessions,
    ("GET", r"/metrics"): _metrics,
    ("POST", r"/graphql"): _graphql,
}


def _expectation(run: Run, line: str) -> tuple[tuple[str, str], Check]:
    """The one expectation a printed curl meets: by its method and what follows its URL."""
    method = "POST" if " -d " in line or "-X POST" in line else "GET"
    url = _URL.findall(line)[-1]
    assert url.startswith(run.base_url), line
    rest = url[len(run.base_url) :] + line.rpartition(url)[2].lstrip("'")
    found = [(key, check) for key, check in EXPECTED.items() if key[0] == method]
    matches = [(key, check) for key, check in found if re.fullmatch(key[1], rest)]
    assert len(matches) == 1, (line, rest)
    return matches[0]


def test_every_request_the_sandbox_prints_answers_with_data_on_its_first_start(
    tmp_path: Path,
) -> None:
    with (
        _sandbox(tmp_path, tmp_path / "data", "first") as run,
        httpx.Client(base_url=run.base_url, timeout=10) as http,
    ):
        env, user = dict(run.env), run.creds["users"][0]
        # The lines to paste are indented.
        commands = [
            line.strip()
            for line in run.block
            if line.startswith("  ") and line.strip().startswith(_COMMAND)
        ]
        url = next(line.strip() for line in run.block if "/oauth/authorize?" in line)
        admin: dict[str, str] = {}
        exports: list[str] = []
        checked: set[tuple[str, str]] = set()
        for line in commands:
            if line.startswith("export TOKEN="):
                env["TOKEN"] = _export([line], "TOKEN", env)
            elif line.startswith("export SESSION="):  # be.ENERGISED's guide, as printed
                env["SESSION"] = _export([line], "SESSION", env)
            elif line.startswith("export CLIENT_ID="):
                exports.append(line)
            elif line.startswith("export ACCESS_TOKEN="):  # step 3: the code from step 2
                code = _code(http, url, user)
                lines = [*exports, f"export CODE={code}", line]
                env["ACCESS_TOKEN"] = _export(lines, "ACCESS_TOKEN", env)
            elif " clients create " in line:  # the CLI as printed: this installation's
                printed = _bash(line, env)
                admin = dict(re.findall(r"^(client_id|client_secret):\s+(\S+)$", printed, re.M))
            elif line.startswith("export ADMIN="):  # with the admin client's id and secret
                filled = line.replace(
                    "CLIENT_ID:CLIENT_SECRET", f"{admin['client_id']}:{admin['client_secret']}"
                )
                env["ADMIN"] = _export([filled], "ADMIN", env)
            else:
                key, check = _expectation(run, line)
                check(_bash(line, env))
                checked.add(key)
                if check is _asleep:  # and its status is the 408 the line says
                    auth = {"Authorization": f"Bearer {env['ACCESS_TOKEN']}"}
                    assert http.get(_URL.findall(line)[-1], headers=auth).status_code == 408
        assert checked == set(EXPECTED), set(EXPECTED) - checked  # every request was printed
        # And the docs' addresses.
        docs = next(line for line in run.block if line.startswith("API docs: "))
        for address in _URL.findall(docs):
            page = http.get(address)
            assert page.status_code == 200 and "<html" in page.text, address
        assert http.get("/openapi.json").json()["paths"]  # what /docs renders


def _past(http: httpx.Client, run: Run, before: float) -> dict[str, Any]:
    """What the world holds from before `before`: the operator's records, a connector's
    rollups, the first user's vehicle history and ev.energy sessions."""
    creds = run.creds
    operator = creds["operator"]
    token = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(operator["client_id"], operator["client_secret"]),
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    records = http.get(
        "/v1/operator/charging-records", params={"to": before, "size": 100}, headers=headers
    ).json()["data"]
    device = creds["chargers"][0]
    series = http.get(
        f"/v1/operator/devices/{device}/telemetry/series",
        params={"connector": 1, "field": "power_kw", "resolution": "1h"}
        | {"from": before - 30 * 86_400, "to": before - 3600},
        headers=headers,
    ).json()["data"]["buckets"]
    verifier = re.search(r"VERIFIER=(\S+)", "\n".join(run.block))
    assert verifier
    url = next(line.strip() for line in run.block if "/oauth/authorize?" in line)
    app = creds["third_party_app"]
    answer = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": _code(http, url, creds["users"][0]),
            "redirect_uri": app["redirect_uri"],
            "code_verifier": verifier.group(1),
        },
        auth=(app["client_id"], app["client_secret"]),
    )
    user = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    history = http.get("/api/1/dx/charging/history?page_size=100", headers=user).json()
    sessions = http.get("/v2/charging_sessions?page_size=100", headers=user).json()["data"]
    return {
        "records": (records["total"], [r["id"] for r in records["items"]]),
        "rollups": sum(b["count"] for b in series),
        "vehicle_history": [s["sessionId"] for s in history["response"]["data"]],
        "ev.energy": [s["id"] for s in sessions if s["status"] == "completed"],
    }


def test_a_restart_keeps_the_past_and_adds_none(tmp_path: Path) -> None:
    data = tmp_path / "data"
    began = time.time()
    with (
        _sandbox(tmp_path, data, "first", "--fleet", "1") as run,
        httpx.Client(base_url=run.base_url, timeout=10) as http,
    ):
        first = _past(http, run, began)
    with (
        _sandbox(tmp_path, data, "second", "--fleet", "1") as run,
        httpx.Client(base_url=run.base_url, timeout=10) as http,
    ):
        second = _past(http, run, began)

    total, ids = first["records"]
    assert total > 30 and len(ids) == min(total, 100)
    assert first["rollups"] > 0 and first["vehicle_history"] and first["ev.energy"]
    assert second == first
