"""`voltgate db upgrade|current`."""

from __future__ import annotations

import asyncio

import typer

from voltgate.cli.common import console, settings
from voltgate.db.engine import Database, head_revision

app = typer.Typer(help="Database schema.")


@app.command()
def upgrade() -> None:
    """Apply every migration (SQLite or PostgreSQL, from VOLTGATE_DATABASE_URL)."""

    async def work() -> str | None:
        db = Database(settings())
        try:
            await db.upgrade()
            return await db.current_revision()
        finally:
            await db.dispose()

    console.print(f"schema at {asyncio.run(work())} (head {head_revision()})")


@app.command()
def current() -> None:
    """Print the schema revision."""

    async def work() -> str | None:
        db = Database(settings())
        try:
            return await db.current_revision()
        finally:
            await db.dispose()

    console.print(f"schema at {asyncio.run(work())} (head {head_revision()})")
