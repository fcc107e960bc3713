"""Statements as writes (`Database.run`) on both backends: writes waiting together share a
commit, a run of the same single-row insert goes in one pipelined trip on PostgreSQL, and a
failing one fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Backend, make_settings
from voltgate.db.engine import Database
from voltgate.db.statements import Statement

_PUT = Statement("INSERT INTO kv (k, v) VALUES (?, ?)")
_SET = Statement("UPDATE kv SET v = ? WHERE k = ?")
_ALL = Statement("SELECT k, v FROM kv ORDER BY k")


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    database = Database(make_settings(backend))

    def create(conn: object) -> None:
        conn.exec_driver_sql("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")  # type: ignore[attr-defined]

    await database.write(create)
    yield database
    await database.dispose()


def test_only_a_plain_single_row_insert_counts_as_one() -> None:
    assert _PUT.one_row_insert
    assert not _SET.one_row_insert
    assert not Statement("INSERT INTO kv (k) VALUES (?) ON CONFLICT DO NOTHING").one_row_insert
    assert not Statement("INSERT INTO kv (k, v) VALUES (?, ?), (?, ?)").one_row_insert
    assert not Statement("INSERT INTO kv (k) SELECT k FROM kv").one_row_insert


async def test_inserts_waiting_together_each_get_their_row(db: Database) -> None:
    counts = await asyncio.gather(*(db.run(_PUT, f"k{n:03}", "v") for n in range(100)))
    assert counts == [1] * 100
    assert len(await db.reader.all(_ALL)) == 100


async def test_a_duplicate_fails_alone_and_the_others_of_its_batch_are_stored(
    db: Database,
) -> None:
    await db.run(_PUT, "k050", "first")
    outcomes = await asyncio.gather(
        *(db.run(_PUT, f"k{n:03}", "v") for n in range(100)), return_exceptions=True
    )
    failed = [n for n, o in enumerate(outcomes) if isinstance(o, Exception)]
    assert failed == [50]
    assert [o for o in outcomes if not isinstance(o, Exception)] == [1] * 99
    rows = {row[0]: row[1] for row in await db.reader.all(_ALL)}
    assert len(rows) == 100 and rows["k050"] == "first"


async def test_updates_in_a_batch_of_inserts_keep_their_own_counts(db: Database) -> None:
    await db.run(_PUT, "a", "1")
    runs = [db.run(_PUT, "b", "2"), db.run(_SET, "9", "a"), db.run(_SET, "9", "zz")]
    runs += [db.run(_PUT, "c", "3"), db.run(_PUT, "d", "4")]
    assert await asyncio.gather(*runs) == [1, 1, 0, 1, 1]


async def test_statements_together_commit_all_or_none_beside_the_others_of_their_batch(
    db: Database,
) -> None:
    await db.run(_PUT, "taken", "first")
    together_ok, together_bad, alone = await asyncio.gather(
        db.run_together((_PUT, ("a", "1")), (_SET, ("2", "a"))),
        db.run_together((_PUT, ("b", "1")), (_PUT, ("taken", "again"))),
        db.run(_PUT, "c", "1"),
        return_exceptions=True,
    )
    assert together_ok == [1, 1] and alone == 1
    assert isinstance(together_bad, Exception)
    rows = {row[0]: row[1] for row in await db.reader.all(_ALL)}
    # "b" went with the failed duplicate; the rest of the batch is stored.
    assert rows == {"taken": "first", "a": "2", "c": "1"}
