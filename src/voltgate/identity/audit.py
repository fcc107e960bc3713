"""The audit trail: an event is committed before the action it records is answered.

An event joins the group commit of the moment's other writes (a batch's cost is shared), and
an action that is one write can carry its event in the same transaction (`event`), so the
trail has no hole when the process dies between the two.
"""

from __future__ import annotations

from typing import Any

from voltgate.clock import Clock
from voltgate.identity.stores import AuditEvent, AuditStore


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def event(
        self,
        event: str,
        *,
        client_id: str | None = None,
        request_id: str | None = None,
        address: str | None = None,
        **detail: Any,
    ) -> AuditEvent:
        """An event to write with an action's own write. Identifiers only, never a secret."""
        return AuditEvent(self._clock.now(), event, client_id, request_id, address, detail)

    async def record(
        self,
        event: str,
        *,
        client_id: str | None = None,
        request_id: str | None = None,
        address: str | None = None,
        **detail: Any,
    ) -> None:
        """Write an event; returns once it is committed. Identifiers only, never a secret."""
        await self._store.append(
            [
                self.event(
                    event, client_id=client_id, request_id=request_id, address=address, **detail
                )
            ]
        )
