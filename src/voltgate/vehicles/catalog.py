"""Every vehicle command by name, each with the scopes that may send it (built once)."""

from __future__ import annotations

from typing import Any

from voltgate.errors import InvalidRequest
from voltgate.vehicles import cabin, charging, schedules
from voltgate.vehicles.commands import Command

COMMANDS: dict[str, Command[Any]] = {
    command.name: command for command in (*charging.COMMANDS, *cabin.COMMANDS, *schedules.COMMANDS)
}
_KNOWN = ", ".join(sorted(COMMANDS))


def find(name: str) -> Command[Any]:
    command = COMMANDS.get(name)
    if command is None:
        raise InvalidRequest(f"unknown vehicle command {name[:64]!r}; the commands are: {_KNOWN}")
    return command
