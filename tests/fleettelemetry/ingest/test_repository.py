"""The ingest's storage on its own: a message and its resend in one batch are stored once and
their signals counted once, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Backend, make_settings
from voltgate.db.engine import Database
from voltgate.db.statements import Statement
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.store import Message

VIN = "5YJ3E1EA7KF000001"
_COUNTS = Statement("SELECT field, count FROM vehicle_signal_rollups ORDER BY field")
_MESSAGES = Statement("SELECT count(*) FROM vehicle_messages")


async def test_a_message_and_its_resend_in_one_batch_count_once(
    backend: Backend, tmp_path: Path
) -> None:
    db = Database(make_settings(backend))
    try:
        store = SqlIngestStore(db)
        await store.prepare(1_765_000_000.0)
        at = 1_765_000_000.25
        original = Message(VIN, "V", b"tx-1", at, at + 1, b"payload")
        resend = original._replace(received_at=at + 11)  # not acknowledged in time: sent again
        other = Message(VIN, "V", b"tx-2", at + 1, at + 2, b"payload")
        soc = (("Soc",), (50.0,))
        fresh = await store.append([original, resend, other], [soc, soc, (("Soc",), (51.0,))])
        assert fresh == [True, False, True]
        assert (await db.reader.all(_MESSAGES))[0][0] == 2
        assert [(r[0], int(r[1])) for r in await db.reader.all(_COUNTS)] == [("Soc", 2)]
        # Sent once more, in a later batch: known, not new.
        assert await store.append([resend], [soc]) == [False]
        assert [(r[0], int(r[1])) for r in await db.reader.all(_COUNTS)] == [("Soc", 2)]
    finally:
        await db.dispose()
