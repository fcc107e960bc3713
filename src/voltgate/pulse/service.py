"""Pulse as one process: the sign-in (authorization code + PKCE, tokens in the SDK's vault),
the live stream of the owner's vehicles driving the rules, a clock for the time rules, and the
dashboard. Every call to voltgate goes through the SDK's client (fresh tokens, one refresh on
expiry); the stream is the Tesla dialect's `GET /api/1/vehicles/stream`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from voltgate.pulse import http, pages, webhooks
from voltgate.pulse.config import SCOPES, STREAM_FIELDS, Config
from voltgate.pulse.rules import Engine
from voltgate.pulse.signing import Signing
from voltgate.pulse.store import Action, PulseStore
from voltgate.sdk.vault import (
    AppCredentials,
    AsyncApiClient,
    SignIn,
    SignInError,
    TokenEndpointError,
    TokenVault,
)
from voltgate.sdk.vault.vault import VaultError
from voltgate.sdk.vehicle_command import load_private_key

log = logging.getLogger("voltgate.pulse")
OWNER = "owner"  # pulse serves one owner: its grant's user in the vault
RETRY_MAX = 10.0
# Sign-ins under way (`/login` visits not back yet): at most this many, each this long.
PENDING_MAX = 32
PENDING_SECONDS = 600.0


def _created_at(text: object, fallback: float) -> float:
    if not isinstance(text, str):
        return fallback
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    return fallback


STALE = (
    "a stale or unknown sign-in link (finished already, older than 10 minutes, or from "
    "another pulse)"
)


class Pulse:
    def __init__(self, config: Config) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.vault = TokenVault(path=config.data_dir / "vault.db")
        self.store = PulseStore(config.data_dir / "pulse.db", self.vault.keys)
        credentials = AppCredentials(config.client_id, config.client_secret)
        self.api = AsyncApiClient(
            "voltgate", self.vault, credentials, OWNER, base_url=config.server
        )
        self.app = AsyncApiClient(
            webhooks.app_profile(), self.vault, credentials, base_url=config.server
        )  # the app's own token, for its alert rules and webhook
        self.engine = Engine(config.rules, self.store, self.command)
        key = None if config.app_key is None else load_private_key(config.app_key.read_bytes())
        self.signing = Signing(key, self.api, self.app, config.server, config.key_domain)
        self.pending: OrderedDict[str, tuple[float, SignIn]] = OrderedDict()  # by state, oldest 1st
        self.monotonic = time.monotonic  # the pending sign-ins' clock (a test moves it)
        self.signed_in = asyncio.Event()
        self.streaming = False
        self.webhooks = "not registered yet"  # "on", or "off: <why>" after a final refusal
        self.retry_first = 0.5  # seconds before the first retry, doubled up to RETRY_MAX
        self.frames = 0
        self.vins: list[str] = []

    async def has_grant(self) -> bool:
        try:
            status = await self.api.status()
        except VaultError:
            return False
        return not status.needs_reauth

    # The sign-in.
    def authorize_url(self) -> str:
        """A new sign-in kept by its state: beyond PENDING_MAX the oldest is dropped, and one
        older than PENDING_SECONDS expires (anyone can visit /login: memory stays bounded)."""
        now = self.monotonic()
        while self.pending and (
            len(self.pending) >= PENDING_MAX
            or now - next(iter(self.pending.values()))[0] > PENDING_SECONDS
        ):
            self.pending.popitem(last=False)
        sign_in = self.api.start_sign_in(self.config.redirect_uri, SCOPES)
        self.pending[sign_in.state] = (now, sign_in)
        return sign_in.url

    async def callback(self, query: dict[str, str]) -> http.Response:
        state = query.get("state") or ""
        if not state and self.config.pasted and self.pending:
            state = next(reversed(self.pending))  # a pasted code without its state: the last
            query = {**query, "state": state}
        held = self.pending.pop(state, None)
        sign_in = None
        if held is not None and self.monotonic() - held[0] <= PENDING_SECONDS:
            sign_in = held[1]
        try:
            if sign_in is None:
                reason = query.get("error_description") or query.get("error")
                if reason is None and await self.has_grant():  # a link followed again
                    return http.Response(400, pages.stale_page(STALE))
                raise SignInError(reason or STALE)
            await self.api.finish_sign_in(sign_in, query)
        except (SignInError, TokenEndpointError, httpx.HTTPError) as exc:  # refused, no server
            page = pages.sign_in_page(
                self.config.server, f"Not signed in: {exc}", self.config.pasted
            )
            return http.Response(400, page)
        self.signed_in.set()
        return http.Response(302, headers={"Location": "/"})

    async def handle(self, request: http.Request) -> http.Response:
        if request.path == "/webhook" and request.method == "POST":
            return webhooks.receive(self.store, request)
        if request.method != "GET":
            return http.Response(405, b"GET", "text/plain")
        if request.path == "/healthz":
            return http.Response(body=b"ok", content_type="text/plain")
        if request.path == "/login":
            return http.Response(302, headers={"Location": self.authorize_url()})
        if request.path == "/callback":
            return await self.callback(request.query)
        if request.path == "/status.json":
            return http.Response(
                body=json.dumps(self.status()).encode(), content_type="application/json"
            )
        if request.path == "/":
            if not await self.has_grant():
                page = pages.sign_in_page(self.config.server, pasted=self.config.pasted)
                return http.Response(body=page)
            body = pages.dashboard(
                self.store, self.engine, self.streaming, time.time(), self.webhooks,
                list(self.signing.unpaired.values()),
            )  # fmt: skip
            return http.Response(body=body)
        return http.Response(404, b"not found", "text/plain")

    def status(self) -> dict[str, Any]:
        cars = {
            vin: {"charge_state": c.charge_state, "soc": c.soc, "limit": c.limit,
                  "near_home": c.near_home}
            for vin, c in self.engine.cars.items()
        }  # fmt: skip
        return {
            "signed_in": self.signed_in.is_set(), "streaming": self.streaming,
            "frames": self.frames, "vins": self.vins, "vehicles": cars,
            "webhooks": self.webhooks, "unpaired": sorted(self.signing.unpaired),
            "alerts": [a.kind for a in self.store.alerts()],
        }  # fmt: skip

    # Commands, the only writes pulse makes: signed for a vehicle that requires the protocol
    # (`signing.py`), plain REST for the rest.
    async def command(self, vin: str, name: str, body: dict[str, Any]) -> None:
        try:
            outcome = await self.signing.send(vin, name, body) or await self._plain(vin, name, body)
        except Exception as exc:  # a failed command is shown, never fatal
            outcome = f"failed: {type(exc).__name__}"
        log.info("command %s %s: %s", name, vin, outcome)
        self.store.action(Action(time.time(), vin, name, json.dumps(body), outcome))

    async def _plain(self, vin: str, name: str, body: dict[str, Any]) -> str:
        answer = await self.api.request("POST", f"/api/1/vehicles/{vin}/command/{name}", json=body)
        shown = answer.json().get("response") if answer.status_code == 200 else None
        if isinstance(shown, dict):
            return f"{shown.get('result')} {shown.get('reason') or ''}".strip()
        return f"HTTP {answer.status_code}"

    # The stream.
    def _stream_config(self) -> dict[str, Any]:
        return {"hostname": self.config.telemetry_host, "port": self.config.telemetry_port,
                "fields": STREAM_FIELDS}  # fmt: skip

    async def _configure(self) -> None:
        """Unsigned for the vehicles that take it, signed for those that require the protocol."""
        config = self._stream_config()
        if vins := self.signing.unsigned():
            answer = await self.api.request(
                "POST", "/api/1/vehicles/fleet_telemetry_config",
                json={"vins": vins, "config": config},
            )  # fmt: skip
            log.info("fleet_telemetry_config: %s %s", answer.status_code, answer.text[:300])
        await self.signing.configure(config)

    async def _stream_once(self) -> None:
        listed = (await self.api.request("GET", "/api/1/vehicles")).json()["response"]
        self.vins = [str(v["vin"]) for v in listed]
        self.signing.learn(listed)
        url = self.config.server.replace("http", "ws", 1) + "/api/1/vehicles/stream"
        headers = {"Authorization": f"Bearer {await self.api.access_token()}"}
        async with connect(url, additional_headers=headers, open_timeout=10) as socket:
            self.streaming = True
            watch = asyncio.create_task(self.signing.watch(self._stream_config()))
            try:
                await self._configure()  # after the socket opens: no first values missed
                async for message in socket:
                    frame = json.loads(message)
                    now = time.time()
                    at = _created_at(frame.get("created_at"), now)
                    await self.engine.frame(str(frame["vin"]), at, now, frame.get("data") or [])
                    self.frames += 1
            finally:
                self.streaming = False
                watch.cancel()

    async def stream(self) -> None:
        delay = self.retry_first
        while True:
            if not await self.has_grant():
                self.signed_in.clear()
                await self.signed_in.wait()
            try:
                await self._stream_once()
                delay = self.retry_first
            except (
                OSError,
                httpx.HTTPError,
                WebSocketException,
                InvalidStatus,
                VaultError,
                TokenEndpointError,
                KeyError,
                TypeError,
                ValueError,
            ) as exc:  # the server away, the token refused, an unexpected answer: try again
                log.warning("stream: %s; again in %.1f s", exc, delay)
            await asyncio.sleep(delay)  # a backoff before reconnecting, not a poll
            delay = min(delay * 2, RETRY_MAX)

    async def subscribe(self) -> None:
        """voltgate's own alerts for pulse, by webhook: retried with a backoff while voltgate
        is away or failing (the network, a 5xx); given up on a final refusal (a 4xx: a portal
        app's missing client-credentials grant, a URL voltgate will not deliver to), which is
        said once in the log and on the dashboard."""
        delay = self.retry_first
        url = f"{self.config.base_url}/webhook"
        while True:
            try:
                await webhooks.subscribe(self.app, self.store, url, self.config.rules.low_battery)
                self.webhooks = "on"
                return
            except (httpx.HTTPError, TokenEndpointError, VaultError, KeyError, ValueError) as exc:
                why = webhooks.refusal(exc)
                if why is not None:
                    self.webhooks = f"off: {why}"
                    log.warning("webhooks are off: %s. Pulse's own rules keep running from the "
                                "live stream.", why)  # fmt: skip
                    return
                log.warning("webhook registration: %s; again in %.1f s", exc, delay)
            await asyncio.sleep(delay)  # a backoff, not a poll
            delay = min(delay * 2, RETRY_MAX)

    async def clock(self) -> None:
        while True:
            await self.engine.tick(time.time())
            await asyncio.sleep(1.0)

    async def run(self, ready: asyncio.Event | None = None) -> None:
        server = await http.serve(self.config.host, self.config.port, self.handle)
        if await self.has_grant():
            self.signed_in.set()
        log.info("voltgate pulse on %s (voltgate: %s)", self.config.base_url, self.config.server)
        if ready is not None:
            ready.set()
        try:
            await asyncio.gather(self.stream(), self.clock(), self.subscribe())
        finally:
            server.close()
            await self.api.aclose()
            await self.app.aclose()
            await self.vault.close()
            self.store.close()
