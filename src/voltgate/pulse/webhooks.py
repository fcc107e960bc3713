"""Alerts voltgate evaluates for pulse, delivered as signed webhooks: pulse registers its
endpoint (`POST /v1/webhooks`) and a low-battery rule (`POST /v1/alerts/rules`) with the app's
own token (client credentials, through the SDK), then verifies each delivery's signature and
takes each delivery id once. A permanent refusal (`refusal`) turns webhooks off; pulse's own
rules keep running from the live stream."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx

from voltgate.pulse import http
from voltgate.pulse.store import Alert, PulseStore
from voltgate.sdk.profiles import Profile, load_profile
from voltgate.sdk.vault import AsyncApiClient, TokenEndpointError

log = logging.getLogger("voltgate.pulse")
RULE_NAME = "pulse low battery"
TOLERANCE = 300  # seconds a signature's timestamp may be off (a replayed capture is older)
TRANSIENT_4XX = (408, 425, 429)  # a 4xx that asks to come back later
_NO_CLIENT_CREDENTIALS = (
    "voltgate does not give this app a token of its own (unauthorized_client: an app registered "
    "in the developer portal has no client-credentials grant), and {needs} needs one; an app "
    "made with `voltgate clients create` has it"
)
NO_CLIENT_CREDENTIALS = _NO_CLIENT_CREDENTIALS.format(needs="registering a webhook")


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


def refusal(
    exc: Exception, needs: str = "registering a webhook", asked: str = "the webhook"
) -> str | None:
    """Why `needs` cannot be done, when voltgate's answer is final (a 4xx other than "later");
    None for what a retry may fix (5xx, the network, a rate limit)."""
    if isinstance(exc, TokenEndpointError):
        status = exc.status
        if exc.error == "unauthorized_client":
            return _NO_CLIENT_CREDENTIALS.format(needs=needs)
        said = f"{exc.error or ''} {exc.description or ''}".strip()
        why = f"voltgate refused the app's own token (HTTP {status}: {said})"
    elif isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        why = f"voltgate refused {asked} (HTTP {status}: {_message(exc.response)})"
    else:
        return None
    return why if 400 <= status < 500 and status not in TRANSIENT_4XX else None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        for key in ("message", "error_description", "detail", "error"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return response.text[:200]


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
