#!/usr/bin/env python3
"""Set-up and entry points that need nothing but python3 (3.11+).

    python3 dev.py sandbox [voltgate sandbox options]   start a sandbox and print how to use it
    python3 dev.py test [pytest options]                run the whole test suite
    python3 dev.py bench [options]                      run the benchmarks
    python3 dev.py lint                                 ruff + mypy --strict
    python3 dev.py lock [pip-compile options]           resolve requirements.lock again

Each creates .venv with exactly the versions in requirements.lock (hashes checked) on first use,
afresh when the lock changes; voltgate itself is installed editable, again when pyproject.toml
changes. `lock` keeps every pin that still fits pyproject.toml; `--upgrade` or
`--upgrade-package NAME` moves them.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".voltgate-installed"
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
# pyproject's [build-system] backend, in the lock; it also builds the lock's one sdist
# (openapi-ui-bundles publishes no wheel).
BUILD_BACKEND = "setuptools"
# The resolver that writes the lock, itself pinned so its output does not drift.
PIP_TOOLS = ["pip==26.3", "pip-tools==7.7.0"]
PIP_COMPILE = [
    "--generate-hashes",
    "--extra=test",
    "--build-deps-for=editable",  # setuptools, for the editable install without isolation
    "--allow-unsafe",
    "--strip-extras",
    "--no-emit-index-url",
    "--no-emit-find-links",
    "--quiet",
]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pip(*args: str) -> None:
    command = [str(BIN / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*command, *args], check=True, cwd=ROOT)


def _locked(name: str) -> str:
    """One package's entry in the lock (its pin and hashes), a requirements file of its own."""
    found = re.search(rf"^{name}==.*?(?=^\S|\Z)", LOCK.read_text(), re.M | re.S)
    if found is None:
        sys.exit(f"{LOCK.name} does not pin {name}: run python3 dev.py lock")
    return found.group()


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit("voltgate needs Python 3.11 or newer")
    lock, project = _digest(LOCK), _digest(PYPROJECT)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if installed == [lock, project]:
        return
    if installed[:1] != [lock]:
        # Afresh, so a package the lock no longer names does not linger.
        print("creating .venv from requirements.lock …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        # The locked backend first, so that an sdist in the lock is built without isolation:
        # an isolated build would fetch a backend the lock does not pin.
        with tempfile.TemporaryDirectory(prefix="voltgate-") as tmp:
            backend = Path(tmp) / "backend.txt"
            backend.write_text(_locked(BUILD_BACKEND))
            _pip("--require-hashes", "--no-deps", "-r", str(backend))
        _pip("--require-hashes", "--no-deps", "--no-build-isolation", "-r", str(LOCK))
    print("installing voltgate (editable) into .venv …", file=sys.stderr)
    _pip("--no-deps", "--no-build-isolation", "-e", str(ROOT))
    STAMP.write_text(f"{lock} {project}\n")


def lock(options: list[str]) -> int:
    """pip-compile in a throwaway venv; the lock's first lines say how it was made."""
    with tempfile.TemporaryDirectory(prefix="voltgate-lock-") as tmp:
        tools = Path(tmp) / "venv"
        venv.EnvBuilder(with_pip=True).create(tools)
        python = str(tools / BIN.name / "python")
        subprocess.run([python, "-m", "pip", "install", "-q", *PIP_TOOLS], check=True)
        out = Path(tmp) / LOCK.name
        if LOCK.exists():  # pip-compile keeps the pins it finds in its output file
            out.write_bytes(LOCK.read_bytes())
        compile_ = [python, "-m", "piptools", "compile", *PIP_COMPILE, *options]
        env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 dev.py lock"}  # for its header
        compile_ += [f"--output-file={out}", PYPROJECT.name]
        code = subprocess.call(compile_, cwd=ROOT, env=env)
        if code:
            return code
        made = (
            "# voltgate's runtime, test and dev tools, pinned with a hash for every file of each\n"
            "# release; dev.py installs exactly these into .venv (pyproject.toml keeps ranges for\n"
            f"# library users). Resolved by {' and '.join(PIP_TOOLS)} on\n"
            f"# {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; for Python 3.11+ on Linux x86_64.\n"
        )
        LOCK.write_text(made + out.read_text())
    return 0


def run(argv: list[str]) -> int:
    os.chdir(ROOT)
    return subprocess.call(argv)


def main() -> int:
    commands = {"sandbox", "test", "bench", "lint", "serve", "lock"}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "lock":
        return lock(rest)
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
