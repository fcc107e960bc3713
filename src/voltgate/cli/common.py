"""Shared CLI plumbing: settings, a started runtime, JSON output and errors without tracebacks."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

import orjson
import typer
from rich.console import Console

from voltgate.config import Settings
from voltgate.errors import VoltgateError
from voltgate.runtime import Runtime, SchemaOutdated

T = TypeVar("T")
console = Console(stderr=False)
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


@asynccontextmanager
async def started_runtime(config: Settings | None = None) -> AsyncIterator[Runtime]:
    rt = Runtime(config or settings())
    await rt.start(serve=False)
    try:
        yield rt
    finally:
        await rt.stop()


def run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def main() -> T:
        async with started_runtime() as rt:
            return await work(rt)

    try:
        return asyncio.run(main())
    except VoltgateError as exc:
        fail(exc.description)
    except SchemaOutdated as exc:
        fail(str(exc))


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def emit_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode() + "\n")
