"""voltgate pulse is an app on the public APIs: its package imports nothing of voltgate but the
SDK (in the style of tests/test_architecture.py), and the CLI imports it only when it runs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "voltgate"


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.append("<relative>")
    return names


def test_pulse_imports_only_the_sdk_of_voltgate() -> None:
    found: dict[str, list[str]] = {}
    for path in sorted((SRC / "pulse").rglob("*.py")):
        for name in _imports(path):
            own = name == "voltgate.pulse" or name.startswith("voltgate.pulse.")
            sdk = name == "voltgate.sdk" or name.startswith("voltgate.sdk.")
            if name == "<relative>" or (name.split(".")[0] == "voltgate" and not (own or sdk)):
                found.setdefault(path.name, []).append(name)
    assert found == {}


def test_the_cli_imports_pulse_only_when_it_runs() -> None:
    tree = ast.parse((SRC / "cli" / "pulse.py").read_text())
    top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all("voltgate" not in (getattr(n, "module", None) or "") for n in top)
    probe = (
        "import sys, voltgate.cli.main; "
        "print(sorted(m for m in sys.modules if m.startswith('voltgate.pulse')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pulse_loaded_alone_brings_no_server_module() -> None:
    probe = (
        "import sys, voltgate.pulse.service; "
        "print(sorted(m for m in sys.modules if m.startswith('voltgate.') "
        "and not m.startswith(('voltgate.sdk', 'voltgate.pulse'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
