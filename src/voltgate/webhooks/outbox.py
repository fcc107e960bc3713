"""The outbox's one write from outside: a delivery of an alert to each endpoint its app has,
run in the alert's own transaction (so an alert stored is an alert that will be delivered).

A delivery is made only if the alert row with that id exists, i.e. was inserted by the same
transaction (an alert seen before inserts nothing, and so enqueues nothing). Arguments: alert id,
now, client id, alert id.
"""

from __future__ import annotations

from voltgate.db.statements import Statement

ENQUEUE = Statement(
    """INSERT INTO webhook_deliveries (endpoint_id, alert_id, state, attempts, next_at, created_at)
       SELECT e.id, CAST(? AS VARCHAR(40)), 'pending', 0, 0, CAST(? AS DOUBLE PRECISION)
       FROM webhook_endpoints e
       WHERE e.client_id = ? AND EXISTS (SELECT 1 FROM alerts a WHERE a.id = ?)"""
)
