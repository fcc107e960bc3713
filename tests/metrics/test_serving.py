"""Metrics from a real server: what `voltgate sandbox` prints gets a scraper its admin token and
its series (on the API's port, and without a token on the loopback port), and `serve` refuses
the loopback port with more than one worker."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.live import free_port, server_env, voltgate_process

LATENCY = "voltgate_http_request_duration_seconds"


def _families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


def test_the_printed_metrics_path_gets_an_admin_token_and_the_series(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(tmp_path / "data", metrics_port=str(metrics_port))
    log = tmp_path / "sandbox.log"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port), "--fleet", "0"]
    with voltgate_process(args, env, log, base), httpx.Client(base_url=base) as http:
        printed = log.read_text(errors="replace")
        assert f"curl -s http://127.0.0.1:{metrics_port}/metrics" in printed
        create = re.search(r"^\s+(VOLTGATE_DATA_DIR=\S+ \S+ clients create .*)$", printed, re.M)
        assert create, printed
        # Pasted as printed into a shell whose PATH has no voltgate and no data dir set.
        shell = {k: v for k, v in env.items() if k != "VOLTGATE_DATA_DIR"}
        made = subprocess.run(
            ["bash", "-c", create.group(1)],
            env=shell,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        client_id = re.search(r"client_id:\s+(\S+)", made.stdout)
        secret = re.search(r"client_secret:\s+(\S+)", made.stdout)
        assert client_id and secret, made.stdout
        assert f"{base}/oauth/token" in printed and f"{base}/metrics" in printed
        token = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id.group(1), secret.group(1)),
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        scraped = http.get("/metrics", headers=bearer)
        assert scraped.status_code == 200, scraped.text
        assert {LATENCY, "voltgate_tokens_issued"} <= _families(scraped.text)
        assert http.get("/metrics").status_code == 401
        loopback = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert loopback.status_code == 200
        assert {LATENCY, "voltgate_tokens_issued"} <= _families(loopback.text)


def test_serve_refuses_the_loopback_port_with_several_workers(tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", metrics_port="9464", redis_url="redis://127.0.0.1:6379/0")
    done = subprocess.run(
        [sys.executable, "-m", "voltgate", "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "VOLTGATE_METRICS_PORT needs one worker" in done.stderr + done.stdout
