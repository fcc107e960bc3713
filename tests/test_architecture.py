"""The shape of src/voltgate: no package import cycles, no module over 400 lines, no framework
dependency injection left on any route."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "voltgate"
MAX_LINES = 400


def _modules() -> Iterator[Path]:
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _node(module: str) -> str | None:
    """The package a module belongs to (`voltgate.devices.service` → `devices`); a top-level
    module is a node of its own (`voltgate.errors` → `errors`)."""
    parts = module.split(".")
    if parts[0] != "voltgate" or len(parts) < 2:
        return None
    return parts[1]


def _own_node(path: Path) -> str:
    relative = path.relative_to(SRC).with_suffix("")
    return relative.parts[0]


def _imports(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        own = _own_node(path)
        if own in ("__init__", "__main__"):
            continue
        edges = graph.setdefault(own, set())
        for module in _imports(path):
            target = _node(module)
            if target is None or target == own:
                continue
            if (SRC / target).is_dir() or (SRC / f"{target}.py").exists():
                edges.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_package_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], f"package import cycles: {cycles}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(SRC)): n
        for path in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: {long}"


def test_no_route_uses_framework_dependency_injection() -> None:
    users = [
        str(path.relative_to(SRC))
        for path in _modules()
        if any(m.split(".")[0] == "fastapi" for m in _imports(path))
    ]
    assert users == [], f"modules importing FastAPI: {users}"
