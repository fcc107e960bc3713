"""Statements built once: one text, both dialects' placeholders."""

from __future__ import annotations

from voltgate.db.statements import Statement, postgres_dsn


def test_placeholders_are_numbered_for_postgresql() -> None:
    statement = Statement(
        """SELECT id FROM devices
           WHERE operator_id = ? AND id > ? ORDER BY id LIMIT ?"""
    )
    assert (
        statement.sqlite
        == "SELECT id FROM devices WHERE operator_id = ? AND id > ? ORDER BY id LIMIT ?"
    )
    assert statement.postgres.endswith("operator_id = $1 AND id > $2 ORDER BY id LIMIT $3")


def test_the_asyncpg_dsn_drops_the_driver() -> None:
    assert (
        postgres_dsn("postgresql+asyncpg://u@127.0.0.1:5432/db")
        == "postgresql://u@127.0.0.1:5432/db"
    )
