"""SQL for webhooks (statements built once; SQLite and PostgreSQL alike)."""

from __future__ import annotations

from voltgate.db.engine import Database
from voltgate.db.statements import Row, Statement
from voltgate.webhooks.store import Delivery, DeliveryState, Endpoint, Outgoing

_ALL_ENDPOINTS = Statement(
    """SELECT id, client_id, url, description, secret_sealed, previous_sealed, previous_until,
       created_at, rotated_at FROM webhook_endpoints"""
)
_ENDPOINT = Statement(
    """SELECT id, client_id, url, description, secret_sealed, previous_sealed, previous_until,
       created_at, rotated_at FROM webhook_endpoints WHERE id = ?"""
)
_ADD_ENDPOINT = Statement(
    """INSERT INTO webhook_endpoints (id, client_id, url, description, secret_sealed,
       previous_sealed, previous_until, created_at, rotated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""
)
_ROTATE = Statement(
    """UPDATE webhook_endpoints SET secret_sealed = ?, previous_sealed = ?, previous_until = ?,
       rotated_at = ? WHERE id = ?"""
)
_DELETE_DELIVERIES = Statement(
    """DELETE FROM webhook_deliveries WHERE endpoint_id IN
       (SELECT id FROM webhook_endpoints WHERE id = ? AND client_id = ?)"""
)
_DELETE_LEASE = Statement(
    """DELETE FROM webhook_leases WHERE endpoint_id IN
       (SELECT id FROM webhook_endpoints WHERE id = ? AND client_id = ?)"""
)
_DELETE_ENDPOINT = Statement("DELETE FROM webhook_endpoints WHERE id = ? AND client_id = ?")

_DUE = Statement(
    """SELECT DISTINCT endpoint_id FROM webhook_deliveries
       WHERE state = 'pending' AND next_at <= ? LIMIT ?"""
)
_HEAD = Statement(
    """SELECT d.id, d.endpoint_id, d.alert_id, d.state, d.attempts, d.next_at, d.last_status,
       d.last_error, d.created_at, d.delivered_at,
       a.rule_id, a.subject, a.kind, a.fired_at, a.value, a.details
       FROM webhook_deliveries d JOIN alerts a ON a.id = d.alert_id
       WHERE d.endpoint_id = ? AND d.state = 'pending' ORDER BY d.id LIMIT 1"""
)
_DELIVERED = Statement(
    """UPDATE webhook_deliveries SET state = 'delivered', attempts = ?, last_status = ?,
       last_error = NULL, delivered_at = ? WHERE id = ? AND state = 'pending'"""
)
_FAILED = Statement(
    """UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, last_status = ?,
       last_error = ? WHERE id = ? AND state = 'pending'"""
)
_PAGE = Statement(
    """SELECT d.id, d.endpoint_id, d.alert_id, d.state, d.attempts, d.next_at, d.last_status,
       d.last_error, d.created_at, d.delivered_at
       FROM webhook_deliveries d WHERE d.endpoint_id = ? AND d.id > ? ORDER BY d.id LIMIT ?"""
)
_PAGE_IN_STATE = Statement(
    """SELECT d.id, d.endpoint_id, d.alert_id, d.state, d.attempts, d.next_at, d.last_status,
       d.last_error, d.created_at, d.delivered_at
       FROM webhook_deliveries d WHERE d.endpoint_id = ? AND d.state = ? AND d.id > ?
       ORDER BY d.id LIMIT ?"""
)
_DELIVERY = Statement(
    """SELECT d.id, d.endpoint_id, d.alert_id, d.state, d.attempts, d.next_at, d.last_status,
       d.last_error, d.created_at, d.delivered_at
       FROM webhook_deliveries d WHERE d.endpoint_id = ? AND d.id = ?"""
)
_REPLAY = Statement(
    """UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = 0,
       last_error = NULL WHERE endpoint_id = ? AND id = ? AND state IN ('dead', 'delivered')"""
)
_REPLAY_DEAD = Statement(
    """UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = 0,
       last_error = NULL WHERE endpoint_id = ? AND state = 'dead'"""
)
_CLAIM = Statement(
    """INSERT INTO webhook_leases (endpoint_id, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (endpoint_id)
       DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE webhook_leases.expires_at < ? OR webhook_leases.owner = excluded.owner"""
)
_RELEASE = Statement("DELETE FROM webhook_leases WHERE endpoint_id = ? AND owner = ?")


def _endpoint(row: Row) -> Endpoint:
    return Endpoint(*row)


def _delivery(row: Row) -> Delivery:
    return Delivery(*row[:10])


class SqlWebhookStore:
    """Endpoints and deliveries (the read model of endpoints wraps the first half)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- endpoints ---------------------------------------------------------------------

    async def all_endpoints(self) -> list[Endpoint]:
        return [_endpoint(row) for row in await self._db.reader.scan(_ALL_ENDPOINTS)]

    async def endpoint(self, endpoint_id: str) -> Endpoint | None:
        row = await self._db.reader.one(_ENDPOINT, endpoint_id)
        return None if row is None else _endpoint(row)

    async def add(self, endpoint: Endpoint) -> None:
        e = endpoint
        await self._db.run(
            _ADD_ENDPOINT,
            e.id,
            e.client_id,
            e.url,
            e.description,
            e.secret_sealed,
            e.previous_sealed,
            e.previous_until,
            e.created_at,
            e.rotated_at,
        )

    async def rotate(
        self, endpoint_id: str, sealed: str, previous: str, until: float, at: float
    ) -> bool:
        return await self._db.run(_ROTATE, sealed, previous, until, at, endpoint_id) == 1

    async def delete(self, client_id: str, endpoint_id: str) -> bool:
        owned = (endpoint_id, client_id)
        counts = await self._db.run_together(
            (_DELETE_DELIVERIES, owned), (_DELETE_LEASE, owned), (_DELETE_ENDPOINT, owned)
        )
        return counts[-1] == 1

    # -- deliveries --------------------------------------------------------------------

    async def due_endpoints(self, now: float, limit: int) -> list[str]:
        return [str(row[0]) for row in await self._db.reader.all(_DUE, now, limit)]

    async def head(self, endpoint_id: str) -> Outgoing | None:
        row = await self._db.reader.one(_HEAD, endpoint_id)
        if row is None:
            return None
        rule_id, subject, kind, fired_at, value, details = row[10:]
        return Outgoing(_delivery(row), rule_id, subject, kind, fired_at, value, details)

    async def delivered(self, delivery_id: int, attempts: int, status: int, at: float) -> None:
        await self._db.run(_DELIVERED, attempts, status, at, delivery_id)

    async def failed(
        self,
        delivery_id: int,
        attempts: int,
        next_at: float,
        status: int | None,
        error: str,
        dead: bool,
    ) -> None:
        state = "dead" if dead else "pending"
        await self._db.run(_FAILED, state, attempts, next_at, status, error[:200], delivery_id)

    async def page(
        self, endpoint_id: str, state: DeliveryState | None, after_id: int, limit: int
    ) -> list[Delivery]:
        if state is None:
            rows = await self._db.reader.all(_PAGE, endpoint_id, after_id, limit)
        else:
            rows = await self._db.reader.all(_PAGE_IN_STATE, endpoint_id, state, after_id, limit)
        return [_delivery(row) for row in rows]

    async def get(self, endpoint_id: str, delivery_id: int) -> Delivery | None:
        row = await self._db.reader.one(_DELIVERY, endpoint_id, delivery_id)
        return None if row is None else _delivery(row)

    async def replay(self, endpoint_id: str, delivery_id: int) -> bool:
        return await self._db.run(_REPLAY, endpoint_id, delivery_id) == 1

    async def replay_dead(self, endpoint_id: str) -> int:
        return await self._db.run(_REPLAY_DEAD, endpoint_id)

    async def claim(self, endpoint_id: str, owner: str, until: float, now: float) -> bool:
        return await self._db.run(_CLAIM, endpoint_id, owner, until, now) == 1

    async def release(self, endpoint_id: str, owner: str) -> None:
        await self._db.run(_RELEASE, endpoint_id, owner)
