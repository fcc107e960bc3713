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
import signal
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
# The resolver that writes the lock, itself pinned so its output does not drift.
PIP_TOOLS = ["pip==26.3", "pip-tools==7.7.0"]
PIP_COMPILE = [
    "--generate-hashes",
    "--extra=test",
    "--allow-unsafe",  # setuptools is pinned too
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


def _build_requires() -> list[str]:
    """pyproject's [build-system] requires: locked, and installed first, so that an sdist in the
    lock (openapi-ui-bundles publishes no wheel) and voltgate itself build without isolation,
    which would fetch a backend the lock does not pin."""
    import tomllib  # after the version check: 3.11+

    requires: list[str] = tomllib.loads(PYPROJECT.read_text())["build-system"]["requires"]
    return requires


def _locked(requirement: str) -> str:
    """One package's entry in the lock (its pin and hashes), a requirements file of its own."""
    name = re.sub(r"[-_.]+", "-", re.split(r"[^A-Za-z0-9._-]", requirement)[0]).lower()
    found = re.search(rf"^{re.escape(name)}==.*?(?=^\S|\Z)", LOCK.read_text(), re.M | re.S)
    if found is None:
        sys.exit(f"{LOCK.name} does not pin {name}: run python3 dev.py lock")
    return found.group()


def ensure_venv() -> None:
    lock, project = _digest(LOCK), _digest(PYPROJECT)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if installed == [lock, project]:
        return
    if installed[:1] != [lock]:
        # Afresh, so a package the lock no longer names does not linger.
        print("creating .venv from requirements.lock …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        with tempfile.TemporaryDirectory(prefix="voltgate-") as tmp:
            backend = Path(tmp) / "build-requires.txt"
            backend.write_text("".join(_locked(r) for r in _build_requires()))
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
        compile_ += [f"--output-file={out}", PYPROJECT.name, "-"]
        # From stdin (`-r -`): the build backend, and async-timeout, which redis needs on Python
        # 3.11.0-3.11.2 (its marker drops it when resolving on a later 3.11).
        also = "".join(f"{r}\n" for r in [*_build_requires(), "async-timeout>=4.0.3"])
        env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 dev.py lock"}  # for its header
        done = subprocess.run(compile_, cwd=ROOT, env=env, input=also, text=True, check=False)
        if done.returncode:
            return done.returncode
        made = (
            "# voltgate's runtime, test and dev tools, pinned with a hash for every file of each\n"
            "# release; dev.py installs exactly these into .venv (pyproject.toml keeps ranges for\n"
            f"# library users). Resolved by {' and '.join(PIP_TOOLS)} on\n"
            f"# {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}; for Python 3.11+ on Linux x86_64.\n"
            "# `-r -`: the build backend, and async-timeout for redis on Python 3.11.0-3.11.2.\n"
        )
        LOCK.write_text(made + out.read_text())
    return 0


def run(argv: list[str]) -> int:
    """The command in the foreground. Ctrl-C reaches it directly (same process group), so this
    wrapper ignores SIGINT and waits while the command stops in its own time (subprocess.call
    would kill it 0.25 s later, mid-shutdown); a SIGTERM is passed on."""
    os.chdir(ROOT)
    child = subprocess.Popen(argv)
    # Set after the child started: an ignored signal would be inherited across exec.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: child.terminate())
    return child.wait()


def main() -> int:
    if sys.version_info < (3, 11):
        sys.exit("voltgate needs Python 3.11 or newer")
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
