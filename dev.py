#!/usr/bin/env python3
"""Set-up and entry points that need nothing but python3 (3.11+).

    python3 dev.py sandbox [voltgate sandbox options]   start a sandbox and print how to use it
    python3 dev.py test [pytest options]                run the whole test suite
    python3 dev.py bench [options]                      run the benchmarks
    python3 dev.py lint                                 ruff + mypy --strict

Each creates .venv and installs what it needs on first use (again when pyproject.toml changes).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".voltgate-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("voltgate needs Python 3.11 or newer")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    if not (BIN / "python").exists():
        print("creating .venv …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    print("installing voltgate and its test dependencies into .venv …", file=sys.stderr)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True, cwd=ROOT)
    STAMP.write_text(digest)


def run(argv: list[str]) -> int:
    os.chdir(ROOT)
    return subprocess.call(argv)


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in {"sandbox", "test", "bench", "lint", "serve"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_venv()
    python = str(BIN / "python")
    if command in ("sandbox", "serve"):
        return run([python, "-m", "voltgate", command, *rest])
    if command == "test":
        return run([python, "-m", "pytest", *rest])
    if command == "bench":
        return run([python, "-m", "bench", *rest])
    code = run([python, "-m", "ruff", "check", "src", "tests", "bench"])
    return code or run([python, "-m", "mypy", "src"])


if __name__ == "__main__":
    sys.exit(main())
