"""An operator integration's client, as much as the simulator and the tests need: a Tellus
client-credentials token kept fresh by `TokenManager`, connector commands and their status,
and the operator's views of its chargers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from voltgate.sdk.session import Session
from voltgate.sdk.signer import Signer
from voltgate.sdk.tokens import Token, TokenManager


class OperatorClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        sign: bool = False,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._base = base_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._sign = sign
        self.tokens = TokenManager(self._obtain_token)
        self._session = Session(self.http, self.tokens, self._signer)

    def _signer(self) -> Signer | None:
        return Signer(self._secret) if self._sign else None

    async def _obtain_token(self) -> Token:
        body = {
            "client_id": self.client_id,
            "client_secret": self._secret,
            "grant_type": "client_credentials",
        }
        data = await self._session.call(
            "POST", self._base + "/v1/operator/oauth/token", body, authenticated=False
        )
        return Token(str(data["access_token"]), float(data["expires_in"]))

    async def _command(
        self, device_id: str, connector: int, action: str, body: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        path = f"/v1/operator/devices/{quote(device_id, safe='')}/connectors/{connector}/{action}"
        data = await self._session.call(
            "POST", self._base + path, dict(body) if body is not None else None
        )
        return dict(data)

    async def start(
        self,
        device_id: str,
        connector: int,
        *,
        charge_power: float,
        duration: int,
        target_soc: float,
        transaction_id: str | None = None,
    ) -> dict[str, Any]:
        """`{command_id, status: "queued", device_online, expires_at}`."""
        body: dict[str, Any] = {
            "charge_power": charge_power,
            "duration": duration,
            "target_soc": target_soc,
        }
        if transaction_id is not None:
            body["transaction_id"] = transaction_id
        return await self._command(device_id, connector, "start", body)

    async def stop(self, device_id: str, connector: int) -> dict[str, Any]:
        return await self._command(device_id, connector, "stop", {})

    async def discharge(
        self,
        device_id: str,
        connector: int,
        *,
        discharge_power: float,
        duration: int,
        min_soc: float,
    ) -> dict[str, Any]:
        body = {"discharge_power": discharge_power, "duration": duration, "min_soc": min_soc}
        return await self._command(device_id, connector, "discharge", body)

    async def schedule(
        self, device_id: str, connector: int, schedule: Mapping[str, Any]
    ) -> dict[str, Any]:
        return await self._command(device_id, connector, "schedule", schedule)

    async def command(self, command_id: str) -> dict[str, Any]:
        """`{command_id, status, …}`: where the command is in its lifecycle."""
        path = f"/v1/operator/commands/{quote(command_id, safe='')}"
        return dict(await self._session.call("GET", self._base + path))

    async def devices(self, page: int = 1, size: int = 20) -> dict[str, Any]:
        """`{items, page, size, total}`: a page of the operator's chargers."""
        params = {"page": page, "size": size}
        return dict(
            await self._session.call("GET", self._base + "/v1/operator/devices", params=params)
        )

    async def device(self, device_id: str) -> dict[str, Any]:
        path = f"/v1/operator/devices/{quote(device_id, safe='')}"
        return dict(await self._session.call("GET", self._base + path))

    async def latest_telemetry(self, device_id: str) -> dict[str, Any]:
        path = f"/v1/operator/devices/{quote(device_id, safe='')}/telemetry/latest"
        return dict(await self._session.call("GET", self._base + path))

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> OperatorClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
