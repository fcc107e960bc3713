"""Alerts voltgate evaluates for pulse, delivered as signed webhooks: pulse registers its
endpoint (`POST /v1/webhooks`) and a low-battery rule (`POST /v1/alerts/rules`) with the app's
own token (client credentials, through the SDK), then verifies each delivery's signature and
takes each delivery id once."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from voltgate.pulse import http
from voltgate.pulse.store import Alert, PulseStore
from voltgate.sdk.profiles import Profile, load_profile
from voltgate.sdk.vault import AsyncApiClient

log = logging.getLogger("voltgate.pulse")
RULE_NAME = "pulse low battery"
TOLERANCE = 300  # seconds a signature's timestamp may be off (a replayed capture is older)


def app_profile() -> Profile:
    """voltgate's profile for the app's own token: client credentials again, not a refresh."""
    return dataclasses.replace(load_profile("voltgate"), refresh="credentials")


def signed(header: str, body: bytes, secret: str, now: float) -> bool:
    pairs = [item.strip().partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in pairs if key == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > TOLERANCE:
        return False
    wanted = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(wanted, v) for key, _, v in pairs if key == "v1")


async def subscribe(app: AsyncApiClient, store: PulseStore, url: str, low_battery: float) -> None:
    """The endpoint (once; its secret is shown once) and the rule (once, by name)."""
    if store.webhook() is None:
        answer = await app.request(
            "POST", "/v1/webhooks", json={"url": url, "description": "voltgate pulse"}
        )
        answer.raise_for_status()
        made = answer.json()
        store.save_webhook(str(made["id"]), str(made["secret"]))
    listed = await app.request("GET", "/v1/alerts/rules")
    listed.raise_for_status()
    if not any(rule.get("name") == RULE_NAME for rule in listed.json()["items"]):
        rule = {"kind": "threshold", "name": RULE_NAME, "field": "Soc", "op": "below",
                "value": low_battery, "hysteresis": 2}  # fmt: skip
        (await app.request("POST", "/v1/alerts/rules", json=rule)).raise_for_status()
    log.info("webhook and alert rule in place: %s", url)


def receive(store: PulseStore, request: http.Request) -> http.Response:
    held = store.webhook()
    header = request.headers.get("voltgate-signature", "")
    if held is None or not signed(header, request.body, held[1], time.time()):
        return http.Response(401, b"bad signature", "text/plain")
    delivery: dict[str, Any] = json.loads(request.body)
    if store.first_delivery(str(delivery["id"])) and delivery.get("type") == "alert.fired":
        alert = delivery["alert"]
        value = alert.get("value")
        shown = f"{value:.1f} %" if isinstance(value, int | float) else "low"
        message = f"state of charge {shown} (voltgate's rule {alert.get('rule_id')})"
        store.alert(Alert(float(alert["fired_at"]), str(alert["subject"]), "low_battery", message))
    return http.Response(204)
