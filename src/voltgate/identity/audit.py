"""The audit trail: events queued in memory and written in batches, durable within a second."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from voltgate.clock import Clock
from voltgate.identity.stores import AuditEvent, AuditStore

log = structlog.get_logger("voltgate.audit")


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock, interval: float) -> None:
        self._store = store
        self._clock = clock
        self._interval = interval
        self._pending: list[AuditEvent] = []
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        event: str,
        *,
        client_id: str | None = None,
        request_id: str | None = None,
        address: str | None = None,
        **detail: Any,
    ) -> None:
        """Queue an event. Callers pass identifiers only, never a secret or token."""
        self._pending.append(
            AuditEvent(self._clock.now(), event, client_id, request_id, address, detail)
        )

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            await self._store.append(batch)
        except Exception:
            self._pending[:0] = batch  # keep them for the next attempt rather than lose them
            log.exception("audit_flush_failed", events=len(batch))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="voltgate-audit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
