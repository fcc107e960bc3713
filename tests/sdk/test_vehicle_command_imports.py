"""The SDK's vehicle command package stands alone: it imports the standard library,
`cryptography`, `protobuf` and itself, nothing of voltgate's server."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import voltgate.sdk.vehicle_command as package

ALLOWED = {"cryptography", "google"}


def test_it_imports_nothing_of_the_server() -> None:
    outside: set[str] = set()
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                own = name.startswith("voltgate.sdk.vehicle_command")
                if not own and top not in ALLOWED and top not in sys.stdlib_module_names:
                    outside.add(f"{path.name}: {name}")
    assert outside == set()
