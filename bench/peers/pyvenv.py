"""A Python peer's own virtual environment under bench/.peers/, installed from a pinned
requirements file and reinstalled only when that file changes (one installer at a time)."""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import sys
from pathlib import Path

from bench.services import run_step


def pinned(requirements: Path) -> dict[str, str]:
    """The exact versions of a requirements file, by lower-cased name."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==(\S+)\s*(#.*)?", line)
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def ensure_venv(venv: Path, requirements: Path, label: str, timeout: float = 900) -> Path:
    """The venv's bin directory, (re)installed when missing or built from another file."""
    stamp = venv / ".requirements.sha256"
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f".{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two bench runs starting together install once
        want = hashlib.sha256(requirements.read_bytes()).hexdigest()
        if python.exists() and stamp.exists() and stamp.read_text().strip() == want:
            return venv / "bin"
        print(f"bench: installing the {label} peer (pinned) into {venv} …", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        run_step([sys.executable, "-m", "venv", str(venv)], timeout=300)
        run_step(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                "-r",
                str(requirements),
            ],
            timeout=timeout,
        )
        stamp.write_text(want + "\n")
    return venv / "bin"
