"""The vehicles' stored signals fed to the alert rules: only the fields some rule reads, decoded
from the stored payloads only then (most batches, with no vehicle rule, cost one look)."""

from __future__ import annotations

from collections.abc import Sequence

from voltgate.alerts.evaluator import Engine
from voltgate.alerts.signals import VEHICLES
from voltgate.fleettelemetry.ingest.store import Committed, Message, signals_of


def rules_feed(engine: Engine) -> Committed:
    def committed(stored: Sequence[Message]) -> None:
        fields = engine.fields(VEHICLES)
        if fields:
            engine.submit([s for m in stored for s in signals_of(m, fields)])

    return committed
