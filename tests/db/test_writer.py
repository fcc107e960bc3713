"""Group commit on SQLite: writes waiting together share a transaction; each keeps its own
outcome."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from voltgate.db.statements import Statement
from voltgate.db.writer import Deferred, GroupWriter, Run, writer_engine


def _pragmas(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]


@pytest.fixture
def writer(tmp_path: Path) -> GroupWriter:
    url = sa.make_url(f"sqlite:///{tmp_path / 'w.db'}")
    engine = writer_engine(url, _pragmas)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    return GroupWriter(engine)


def _insert(value: str) -> object:
    def work(conn: sa.Connection) -> int:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (?)", (value,))
        return int(conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one())

    return work


def _values(writer: GroupWriter) -> list[str]:
    with writer._engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT v FROM t ORDER BY id")]


async def test_writes_waiting_together_commit_in_one_batch(writer: GroupWriter) -> None:
    gate = threading.Event()

    def held(conn: sa.Connection) -> None:
        gate.wait(10)  # keeps the writer thread busy while the others queue up

    first = asyncio.create_task(writer.write(held))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(writer.write(_insert(f"v{n}"))) for n in range(50)]
    await asyncio.sleep(0)
    gate.set()
    await first
    counts = await asyncio.gather(*queued)
    assert sorted(counts) == list(range(1, 51))  # each saw its own write in the batch
    assert writer.writes == 51 and writer.batches == 2
    assert len(_values(writer)) == 50
    await writer.close()


async def test_a_failing_write_is_undone_alone_and_reported_to_its_caller(
    writer: GroupWriter,
) -> None:
    gate = threading.Event()
    first = asyncio.create_task(writer.write(lambda conn: gate.wait(10)))
    await asyncio.sleep(0)
    ok = asyncio.create_task(writer.write(_insert("a")))
    duplicate = asyncio.create_task(writer.write(_insert("a")))  # the UNIQUE refuses it
    after = asyncio.create_task(writer.write(_insert("b")))
    await asyncio.sleep(0)
    gate.set()
    await first
    assert await ok == 1
    with pytest.raises(sa.exc.IntegrityError):
        await duplicate
    assert await after == 2
    assert _values(writer) == ["a", "b"]
    assert writer.batches == 2
    await writer.close()


async def test_an_idle_write_is_its_own_batch(writer: GroupWriter) -> None:
    assert await writer.write(_insert("x")) == 1
    assert await writer.write(_insert("y")) == 2
    assert writer.batches == 2
    await writer.close()


_PUT = Statement("INSERT INTO t (v) VALUES (?)")


def _put(value: str) -> Run:
    return Run(_PUT, (value,), returning=False)


async def test_statements_asked_for_in_one_turn_commit_together_on_the_loop(
    writer: GroupWriter,
) -> None:
    outcomes = await asyncio.gather(*(writer.write(_put(f"v{n}")) for n in range(40)))
    assert outcomes == [1] * 40
    assert writer.batches == 1 and writer.handed_over == 0
    assert await writer.write(_put("later")) == 1  # a later turn: a transaction of its own
    assert writer.batches == 2
    await writer.close()


async def test_a_deferred_write_is_built_as_its_turn_commits_and_a_failed_build_fails_alone(
    writer: GroupWriter,
) -> None:
    gathered: list[str] = []
    loop = asyncio.get_running_loop()
    taken = writer.submit(Deferred(lambda: _put(",".join(gathered))), loop.create_future())
    gathered += ["a", "b"]  # after the submit, before the turn commits: built in

    def broken() -> Run:
        raise ValueError("no rows")

    refused = writer.submit(Deferred(broken))
    others = writer.submit(_put("c"))
    assert await taken == 1 and await others == 1
    with pytest.raises(ValueError, match="no rows"):
        await refused
    assert _values(writer) == ["a,b", "c"] and writer.batches == 1
    await writer.close()


async def test_a_failed_statement_fails_alone_without_a_savepoint(writer: GroupWriter) -> None:
    outcomes = await asyncio.gather(
        writer.write(_put("a")),
        writer.write(_put("a")),
        writer.write(_put("b")),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 1
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert _values(writer) == ["a", "b"] and writer.batches == 1
    await writer.close()


async def test_a_taken_write_lock_hands_the_batch_to_the_thread_which_waits_for_it(
    writer: GroupWriter, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as a CLI writing the same file would
    pending = asyncio.gather(*(writer.write(_put(f"v{n}")) for n in range(5)))
    while writer.handed_over == 0:  # the loop's attempt finds the lock taken at once
        await asyncio.sleep(0)
    assert not pending.done()
    other.execute("COMMIT")
    assert await pending == [1] * 5
    assert _values(writer) == [f"v{n}" for n in range(5)]
    other.close()
    await writer.close()


async def test_the_thread_checkpoints_what_the_loop_commits(
    writer: GroupWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("voltgate.db.writer._CHECKPOINT_EVERY", 3)
    for n in range(7):
        await writer.write(_put(f"v{n}"))
    await writer.close()  # after the checkpoints queued on the thread
    assert writer.checkpoints == 2
