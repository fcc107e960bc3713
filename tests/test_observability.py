"""Where the log goes: one stream by default (`voltgate serve`), or a file at the log's level and
a console at its own (`voltgate sandbox`)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import structlog

from voltgate.observability import access_log, configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    """configure_logging sets process-wide state: put it back afterwards."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    streams, enabled = access_log.streams[:], access_log.enabled
    yield
    configure_logging("info", io.StringIO())  # closes the file it opened
    structlog.configure(**saved)
    root.handlers, root.level = handlers, level
    access_log.streams, access_log.enabled = streams, enabled


def _log_everything() -> None:
    structlog.get_logger("voltgate.test").info("structlog_info", detail=1)
    structlog.get_logger("voltgate.test").warning("structlog_warning")
    logging.getLogger("granian.test").info("stdlib info")
    logging.getLogger("granian.test").error("stdlib error")
    access_log.write({"event": "request", "method": "GET", "path": "/healthz", "status": 200})
    access_log.flush()


EVERYTHING = ["structlog_info", "structlog_warning", "stdlib info", "stdlib error", "request"]


def _events(text: str) -> list[str]:
    return [orjson.loads(line)["event"] for line in text.splitlines()]


@pytest.mark.usefixtures("restored")
def test_by_default_everything_from_the_level_up_goes_to_the_one_stream() -> None:
    console = io.StringIO()
    configure_logging("info", console)
    _log_everything()
    assert _events(console.getvalue()) == EVERYTHING


@pytest.mark.usefixtures("restored")
@pytest.mark.parametrize(
    ("level", "shown"),
    [("warning", ["structlog_warning", "stdlib error"]), ("info", EVERYTHING)],
)
def test_with_a_file_the_console_shows_only_its_own_level(
    tmp_path: Path, level: str, shown: list[str]
) -> None:
    """The file has everything at the log's level; the console its own level up (a lower one
    shows requests there too)."""
    console, file = io.StringIO(), tmp_path / "server.log"
    configure_logging("info", console, file=file, console_level=level)
    _log_everything()
    assert _events(console.getvalue()) == shown
    assert _events(file.read_text()) == EVERYTHING
