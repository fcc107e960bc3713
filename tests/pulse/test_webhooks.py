"""Pulse's webhook receiver: voltgate's signature checked over the raw body (a wrong secret, an
old timestamp or a changed body refused), each delivery id taken once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from voltgate.pulse import http
from voltgate.pulse.store import PulseStore
from voltgate.pulse.webhooks import receive, signed

SECRET = "vgwhs_test"


def _sign(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1=0000,v1={digest}"


def _delivery(delivery: str = "whd_1") -> bytes:
    alert = {"id": "alr_1", "rule_id": "alrr_1", "kind": "threshold", "subject": "VIN1",
             "fired_at": 1796654456.0, "value": 18.5, "details": {}}  # fmt: skip
    return json.dumps({"id": delivery, "type": "alert.fired", "alert": alert}).encode()


def _post(body: bytes, signature: str) -> http.Request:
    return http.Request("/webhook", {}, "POST", {"voltgate-signature": signature}, body)


def test_signatures() -> None:
    body, now = b'{"a":1}', time.time()
    assert signed(_sign(body), body, SECRET, now)
    assert not signed(_sign(body, "other"), body, SECRET, now)
    assert not signed(_sign(body), body + b" ", SECRET, now)
    assert not signed(_sign(body, at=int(now) - 600), body, SECRET, now)
    assert not signed("v1=abc", body, SECRET, now)


def test_a_delivery_is_an_alert_once(tmp_path: Path) -> None:
    store = PulseStore(tmp_path / "pulse.db")
    body = _delivery()
    assert receive(store, _post(body, _sign(body))).status == 401  # no endpoint registered yet
    store.save_webhook("wh_1", SECRET)
    assert receive(store, _post(body, _sign(body, "other"))).status == 401
    assert store.alerts() == []
    assert receive(store, _post(body, _sign(body))).status == 204
    assert receive(store, _post(body, _sign(body))).status == 204  # a retry: 2xx, nothing new
    [alert] = store.alerts()
    assert (alert.vin, alert.kind, alert.at) == ("VIN1", "low_battery", 1796654456.0)
    assert "18.5 %" in alert.message
    assert (tmp_path / "pulse.db").stat().st_mode & 0o077 == 0
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pulse.db*") if p.is_file())
    assert SECRET.encode() not in stored  # the signing secret is kept sealed
