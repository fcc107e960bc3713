"""Group commit on SQLite: writes waiting together share a transaction; each keeps its own
outcome."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from voltgate.db.writer import GroupWriter, writer_engine


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
    writer.close()


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
    writer.close()


async def test_an_idle_write_is_its_own_batch(writer: GroupWriter) -> None:
    assert await writer.write(_insert("x")) == 1
    assert await writer.write(_insert("y")) == 2
    assert writer.batches == 2
    writer.close()
