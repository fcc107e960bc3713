"""Vehicles that require Tesla's vehicle command protocol (`command_signing: required` in the
vehicle list): pulse signs their commands and their stream config with the app's key
(`--app-key`), through the SDK (`voltgate.sdk.commands.SignedCommands`: the session handshake,
the session kept, a resync when the vehicle's epoch changed; `sign_fleet_config` for the JWS).
Every other vehicle takes pulse's plain REST commands and unsigned config.

A vehicle that does not know the key (a config skipped as `missing_key`, a command refused
`UNKNOWN_KEY_ID`) is said once in the log and kept on the dashboard with the page where its
owner pairs the key, `<server>/_ak/<the app's domain>`; pulse sends the signed config again
every `retry` seconds until it is taken, so a pairing is noticed without a restart.

The app's domain is the one pulse is told (`--key-domain`), else its partner account's, read
with the app's own token; an app that voltgate refuses that token for good (a portal app has
no client-credentials grant) is not asked again, and the dashboard says to use `--key-domain`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from voltgate.pulse.webhooks import refusal
from voltgate.sdk.commands import KeyNotPaired, ProtocolUnsupported, SignedCommands, VehicleRefused
from voltgate.sdk.vault import AsyncApiClient
from voltgate.sdk.vehicle_command import Signer, VehicleCommandError
from voltgate.sdk.vehicle_command.jws import sign_fleet_config
from voltgate.sdk.vehicle_command.keys import PrivateKey

log = logging.getLogger("voltgate.pulse")
NOT_PAIRED = "key not paired"
RETRY = 5.0


class Signing:
    def __init__(
        self,
        key: PrivateKey | None,
        api: AsyncApiClient,
        app: AsyncApiClient,
        server: str,
        domain: str | None = None,
    ) -> None:
        self.key = key
        self._api, self._app, self._server = api, app, server
        self.commands = None if key is None else SignedCommands(Signer(key), self._post)
        self.modes: dict[str, str] = {}  # VIN → command_signing (off | allowed | required)
        self.names: dict[str, str] = {}
        self.unpaired: dict[str, str] = {}  # VIN → what the owner should do, shown
        self._domain = domain  # told (`--key-domain`), else read from the partner account
        self._ask = domain is None  # False after a final refusal: not asked again
        self._said = ""  # why the domain is unknown, logged once
        self.retry = RETRY

    def learn(self, listed: list[dict[str, Any]]) -> None:
        """The vehicle list's `command_signing` and names."""
        for vehicle in listed:
            vin = str(vehicle["vin"])
            self.modes[vin] = str(vehicle.get("command_signing") or "off")
            self.names[vin] = str(vehicle.get("display_name") or vin)

    def required(self) -> list[str]:
        return sorted(vin for vin, mode in self.modes.items() if mode == "required")

    def unsigned(self) -> list[str]:
        """The vehicles that take pulse's unsigned config (all of them without a key)."""
        if self.key is None:
            return sorted(self.modes)
        return sorted(vin for vin, mode in self.modes.items() if mode != "required")

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self._api.request("POST", path, json=body)

    async def send(self, vin: str, name: str, body: dict[str, Any]) -> str | None:
        """The outcome of command `name` signed, or None when it goes as a REST command."""
        if self.modes.get(vin) != "required":
            return None
        if self.commands is None:
            self._say(vin, "takes only signed commands: start pulse with --app-key (the app's "
                      "private key, from `voltgate keys app generate`)")  # fmt: skip
            return None  # sent plain, voltgate's 403 recorded as the outcome
        try:
            result, reason = await self.commands.send(vin, name, body)
        except ProtocolUnsupported:  # its list said otherwise: plain from now on
            self.modes[vin] = "allowed"
            return None
        except KeyNotPaired:
            await self.not_paired(vin)
            return NOT_PAIRED
        except VehicleRefused as exc:
            return f"refused: {exc}"
        except VehicleCommandError as exc:
            return f"failed: {exc}"
        except httpx.HTTPStatusError as exc:
            return f"HTTP {exc.response.status_code}"
        self.unpaired.pop(vin, None)
        return f"{result} {reason}".strip()

    async def configure(self, config: dict[str, Any]) -> None:
        """The stream config, signed (JWS), for the vehicles that require the protocol."""
        vins = self.required()
        if self.key is None or not vins:
            for vin in vins:
                self._say(vin, "takes only a signed stream config and signed commands: start "
                          "pulse with --app-key (the app's private key)")  # fmt: skip
            return
        token = sign_fleet_config(self.key, config)
        answer = await self._api.request(
            "POST",
            "/api/1/vehicles/fleet_telemetry_config_jws",
            json={"vins": vins, "token": token},
        )
        log.info("fleet_telemetry_config_jws: %s %s", answer.status_code, answer.text[:300])
        if answer.status_code != 200:  # logged; the other vehicles' stream goes on
            return
        skipped = answer.json()["response"]["skipped_vehicles"].get("missing_key") or []
        for vin in vins:
            if vin in skipped:
                await self.not_paired(vin)
            else:
                self.unpaired.pop(vin, None)

    async def watch(self, config: dict[str, Any]) -> None:
        """While a vehicle's owner has not paired the key: the signed config again, now and
        then, so the pairing is noticed (its stream starts) without a restart."""
        while True:
            await asyncio.sleep(self.retry)
            if self.key is not None and self.unpaired:
                try:
                    await self.configure(config)
                except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
                    log.warning("signed stream config: %s", exc)

    async def not_paired(self, vin: str) -> None:
        domain = await self.domain()
        if domain is None:
            self._say(vin, f"does not know pulse's key: its owner pairs it at {self._server}/_ak/"
                      "DOMAIN, DOMAIN being the app's public-key domain (start pulse with "
                      "--key-domain DOMAIN to show the link here)")  # fmt: skip
            return
        self._say(vin, f"does not know pulse's key: its owner pairs it at {self._server}/_ak/"
                  f"{domain} (sign in, tick the vehicle, Add key)")  # fmt: skip

    async def domain(self) -> str | None:
        """The app's domain, where its key is hosted: told, or its partner account's."""
        if self._domain is None and self._ask:
            try:
                answer = await self._app.request("GET", "/api/1/partner_accounts")
                answer.raise_for_status()
                self._domain = str(answer.json()["response"]["domain"])
            except Exception as exc:  # unknown domain: the dashboard says how to tell it
                final = refusal(exc, "reading its partner account", "the partner account")
                self._ask = final is None
                why = final or _transient(exc)
                if why != self._said:  # once, not every retry
                    self._said = why
                    again = "" if final is None else "; not asked again"
                    log.warning("the app's key domain is unknown (start pulse with --key-domain "
                                "DOMAIN): %s%s", why, again)  # fmt: skip
        return self._domain

    def _say(self, vin: str, what: str) -> None:
        text = f"{self.names.get(vin, vin)} ({vin}) {what}."
        if self.unpaired.get(vin) != text:  # once in the log, kept on the dashboard
            log.warning("%s", text)
            self.unpaired[vin] = text


def _transient(exc: Exception) -> str:
    """What went wrong reading the partner account, in words (a retry may fix it)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"GET /api/1/partner_accounts answered HTTP {exc.response.status_code}"
    if isinstance(exc, (KeyError, TypeError, ValueError)):
        return "voltgate's partner account answer has no domain"
    return f"voltgate could not be reached ({type(exc).__name__}: {exc})"
