"""A charger's client: register, keep a device token fresh, report in, take commands.

    client = DeviceClient("https://voltgate.example")
    await client.register(sn="SN-1", model="M", manufacturer="Acme", firmware_version="1.0",
                          connectors=[{"type": "CCS2", "max_power_kw": 150}],
                          enrollment_token="vget_…")   # or none, in a sandbox
    await client.telemetry([{"connector": 1, "state": "charging", "power_kw": 50,
                             "energy_kwh": 3.2, "soc": 41}])
    for command in await client.commands(wait=30):     # long-poll
        await client.command_status(command.command_id, "accepted")

Every call after registration carries the device token (obtained with `device_id` and
`device_secret`, renewed by `TokenManager`); with `sign=True` every call is also signed with the
device secret (`X-Signature`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from voltgate.sdk.session import Session
from voltgate.sdk.signer import Signer
from voltgate.sdk.tokens import Token, TokenManager

DEFAULT_TIMEOUT = 10.0
# The server holds a long-poll up to `wait` seconds; the read may take that long and a bit.
POLL_SLACK = 10.0


@dataclass(frozen=True, slots=True)
class Command:
    command_id: str
    type: str  # start | stop | discharge | schedule | set_power_limit | pause_charging | …
    connector: int | None
    params: dict[str, Any]
    created_at: float
    expires_at: float

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Command:
        return cls(
            command_id=str(raw["command_id"]),
            type=str(raw["type"]),
            connector=raw.get("connector"),
            params=dict(raw.get("params") or {}),
            created_at=float(raw.get("created_at") or 0),
            expires_at=float(raw.get("expires_at") or 0),
        )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    server_time: float
    commands: list[Command] = field(default_factory=list)


class DeviceClient:
    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        device_secret: str | None = None,
        sign: bool = False,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """`http`: a shared client (many chargers, one pool); else one is made for this one,
        over `transport` if given (tests)."""
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            base_url=base_url, transport=transport, timeout=timeout
        )
        self._base = base_url.rstrip("/")
        self.device_id = device_id
        self.device_secret = device_secret
        self.sign = sign
        self.tokens = TokenManager(self._obtain_token)
        self._session = Session(self.http, self.tokens, self._signer)

    def _url(self, path: str) -> str:
        return self._base + path

    def _signer(self) -> Signer | None:
        return Signer(self.device_secret) if self.sign and self.device_secret else None

    async def _obtain_token(self) -> Token:
        if self.device_id is None or self.device_secret is None:
            raise RuntimeError("register first, or pass device_id and device_secret")
        body = {
            "device_id": self.device_id,
            "device_secret": self.device_secret,
            "grant_type": "client_credentials",
        }
        data = await self._session.call(
            "POST", self._url("/v1/device/token"), body, authenticated=False
        )
        return Token(str(data["access_token"]), float(data["expires_in"]))

    async def register(
        self,
        *,
        sn: str,
        model: str,
        manufacturer: str,
        firmware_version: str,
        mac: str | None = None,
        connectors: Sequence[Mapping[str, Any]] = (),
        enrollment_token: str | None = None,
    ) -> tuple[str, str]:
        """Register this charger; keeps and returns `(device_id, device_secret)`. Without an
        enrollment token only a sandbox server accepts it."""
        body: dict[str, Any] = {
            "sn": sn,
            "model": model,
            "manufacturer": manufacturer,
            "firmware_version": firmware_version,
            "connectors": [dict(c) for c in connectors],
        }
        if mac is not None:
            body["mac"] = mac
        headers = {"Authorization": f"Bearer {enrollment_token}"} if enrollment_token else None
        data = await self._session.call(
            "POST", self._url("/v1/device/register"), body, headers=headers, authenticated=False
        )
        self.device_id, self.device_secret = str(data["device_id"]), str(data["device_secret"])
        return self.device_id, self.device_secret

    async def heartbeat(
        self, status: str | None = None, connectors: Sequence[Mapping[str, Any]] = ()
    ) -> Heartbeat:
        body: dict[str, Any] = {"connectors": [dict(c) for c in connectors]}
        if status is not None:
            body["status"] = status
        data = await self._session.call("POST", self._url("/v1/device/heartbeat"), body)
        return Heartbeat(
            float(data.get("server_time") or 0),
            [Command.parse(c) for c in data.get("commands") or []],
        )

    async def telemetry(
        self, connectors: Sequence[Mapping[str, Any]], timestamp: float | None = None
    ) -> int:
        """Readings of one or more connectors; the number the server accepted."""
        body: dict[str, Any] = {"connectors": [dict(c) for c in connectors]}
        if timestamp is not None:
            body["timestamp"] = timestamp
        data = await self._session.call("POST", self._url("/v1/device/telemetry"), body)
        return int(data["accepted"])

    async def events(self, events: Sequence[Mapping[str, Any]]) -> int:
        body = {"events": [dict(e) for e in events]}
        data = await self._session.call("POST", self._url("/v1/device/events"), body)
        return int(data["accepted"])

    async def charging_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Report a session (at its start and again at its stop); the stored record."""
        data = await self._session.call(
            "POST", self._url("/v1/device/charging-records"), dict(record)
        )
        return dict(data)

    async def commands(self, wait: int = 30) -> list[Command]:
        """Long-poll: returns as soon as a command is queued, or empty after `wait` seconds."""
        data = await self._session.call(
            "GET",
            self._url("/v1/device/commands"),
            params={"wait": wait},
            timeout=wait + POLL_SLACK,
        )
        return [Command.parse(c) for c in data.get("commands") or []]

    async def command_status(
        self, command_id: str, status: str, reason: str | None = None
    ) -> dict[str, Any]:
        """Report a command `accepted`, `rejected`, `completed` or `failed`."""
        body: dict[str, Any] = {"command_id": command_id, "status": status}
        if reason is not None:
            body["reason"] = reason
        data = await self._session.call("POST", self._url("/v1/device/command-status"), body)
        return dict(data)

    async def rotate_secret(self) -> str:
        """A new device secret (the old one keeps working 24 h); kept for the next token."""
        data = await self._session.call("POST", self._url("/v1/device/secret/rotate"))
        self.device_secret = str(data["device_secret"])
        return self.device_secret

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> DeviceClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
