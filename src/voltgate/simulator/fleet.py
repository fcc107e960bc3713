"""A fleet of simulated chargers in one process: registered (or re-used from a state file),
run concurrently over one shared HTTP connection pool, counted in one `Stats`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from voltgate.sdk.device import DeviceClient
from voltgate.sdk.errors import ApiError
from voltgate.simulator.charger import Behaviour, SimulatedCharger
from voltgate.simulator.physics import HOME_MODEL, MODELS, Model
from voltgate.simulator.stats import Stats

REGISTER_AT_ONCE = 16
FIRMWARE = "sim-1.0.0"


@dataclass(frozen=True)
class FleetConfig:
    server: str
    count: int
    enrollment_token: str | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)
    # Where the chargers' credentials are kept between runs (a charger keeps its secret in
    # its own storage too); None: register new chargers every run.
    state: Path | None = None
    seed: int | None = None
    sign: bool = False


class Fleet:
    def __init__(self, config: FleetConfig, stats: Stats | None = None) -> None:
        self.config = config
        self.stats = stats or Stats()
        self.rng = random.Random(config.seed)  # noqa: S311 - a simulation, not secrets
        self.chargers: list[SimulatedCharger] = []
        # Each charger holds up to three requests at once (long-poll, telemetry, heartbeat).
        connections = max(10, config.count * 3)
        self.http = httpx.AsyncClient(
            timeout=15.0,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        self._tasks: list[asyncio.Task[None]] = []

    def _client(self, device_id: str | None = None, secret: str | None = None) -> DeviceClient:
        return DeviceClient(
            self.config.server,
            device_id=device_id,
            device_secret=secret,
            sign=self.config.sign,
            http=self.http,
        )

    def _charger(self, client: DeviceClient, model: Model) -> SimulatedCharger:
        rng = random.Random(self.rng.random())  # noqa: S311 - a simulation
        return SimulatedCharger(client, model, self.stats, self.config.behaviour, rng)

    async def register(self) -> None:
        """Re-use the chargers in the state file that still work, register the rest."""
        kept = await self._load()
        tag = secrets.token_hex(3)
        gate = asyncio.Semaphore(REGISTER_AT_ONCE)

        async def one(index: int) -> SimulatedCharger | None:
            model = self.rng.choices(MODELS, weights=[m.weight for m in MODELS])[0]
            client = self._client()
            async with gate:
                try:
                    await client.register(
                        sn=f"SIM-{tag}-{index:05d}",
                        model=model.name,
                        manufacturer="voltgate simulator",
                        firmware_version=FIRMWARE,
                        connectors=[{"type": t, "max_power_kw": kw} for t, kw in model.connectors],
                        enrollment_token=self.config.enrollment_token,
                    )
                except Exception as exc:
                    self.stats.failed("register", exc)
                    return None
            self.stats.ok["register"] += 1
            return self._charger(client, model)

        missing = range(len(kept), self.config.count)
        made = await asyncio.gather(*(one(i) for i in missing))
        self.chargers = kept + [c for c in made if c is not None]
        self._save()

    async def _load(self) -> list[SimulatedCharger]:
        path = self.config.state
        if path is None or not path.exists():
            return []
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            return []
        if saved.get("server") != self.config.server:
            return []
        models = {m.name: m for m in (*MODELS, HOME_MODEL)}
        entries = [e for e in saved.get("chargers", []) if e.get("model") in models]
        candidates = [
            (self._client(e["device_id"], e["device_secret"]), models[e["model"]])
            for e in entries[: self.config.count]
        ]

        async def works(client: DeviceClient) -> bool:
            try:
                await client.tokens.token()
            except ApiError as exc:
                return exc.status != 401  # unknown now (a fresh database): register anew
            return True

        usable = await asyncio.gather(*(works(c) for c, _ in candidates))
        return [self._charger(c, m) for (c, m), ok in zip(candidates, usable, strict=True) if ok]

    def _save(self) -> None:
        path = self.config.state
        if path is None:
            return
        entries: list[dict[str, Any]] = [
            {
                "device_id": c.client.device_id,
                "device_secret": c.client.device_secret,
                "model": c.model.name,
            }
            for c in self.chargers
        ]
        body = json.dumps({"server": self.config.server, "chargers": entries}, indent=2)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The chargers' secrets: readable by this user only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(body)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(c.run(), name=f"sim-{c.device_id}") for c in self.chargers
        ]

    async def run(
        self,
        duration: float | None,
        progress: Callable[[Stats], None] | None = None,
        every: float = 10.0,
    ) -> Stats:
        """Run every charger for `duration` seconds (None: until cancelled)."""
        self.start()
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration
        try:
            while deadline is None or loop.time() < deadline:
                left = every if deadline is None else min(every, deadline - loop.time())
                await asyncio.sleep(max(0.0, left))
                if progress is not None:
                    progress(self.stats)
        finally:
            await self.stop()
        return self.stats

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def aclose(self) -> None:
        await self.stop()
        await self.http.aclose()

    async def __aenter__(self) -> Fleet:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()
