"""requirements.lock: it pins everything pyproject.toml asks for, and the project's .venv (made
by dev.py) holds exactly the locked versions, nothing more."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
# The venv's installer (from the interpreter's ensurepip) and the project itself (editable).
UNLOCKED = {"pip", "voltgate"}


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _pins() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", LOCK.read_text(), re.MULTILINE)
    return {_name(name): version for name, version in found}


def _installed() -> dict[str, str]:
    seen: dict[str, str] = {}
    for dist in distributions():  # in sys.path order: the first of a name is the one imported
        seen.setdefault(_name(dist.metadata["Name"]), dist.version)
    return seen


def test_the_lock_pins_every_requirement_of_pyproject_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["test"],
        *project["build-system"]["requires"],
    ]
    pins = _pins()
    stale = []
    for line in wanted:
        requirement = Requirement(line)
        pinned = pins.get(_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
            stale.append(f"{line}: locked {pinned}")
    assert not stale, f"run `python3 dev.py lock`: {stale}"


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != ROOT / ".venv",
    reason="checks the project's .venv, which dev.py installs from the lock",
)
def test_the_project_venv_holds_exactly_the_locked_versions() -> None:
    pins = _pins()
    installed = {k: v for k, v in _installed().items() if k not in UNLOCKED}
    differ = {
        name: (pins.get(name), installed.get(name))
        for name in pins.keys() | installed.keys()
        if pins.get(name) != installed.get(name)
    }
    assert not differ, f"(locked, installed), None for absent: {differ}"
