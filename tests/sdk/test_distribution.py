"""`voltgate-sdk` is a distribution of its own: built from sdk/pyproject.toml into a wheel,
installed alone into a fresh virtual environment with no voltgate server in it, and every
module of `voltgate.sdk` imports there without touching the server's packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the wheel may name as a requirement: the SDK's own, never a server package.
ALLOWED = {"httpx", "cryptography", "protobuf", "asyncpg", "redis"}
SERVER_ONLY = ("starlette", "sqlalchemy", "granian", "pydantic", "structlog", "jinja2", "typer")

PROBE = f"""
import importlib, json, pkgutil, sys
import voltgate.sdk
names = [m.name for m in pkgutil.walk_packages(voltgate.sdk.__path__, "voltgate.sdk.")]
for name in names:
    importlib.import_module(name)
from voltgate.sdk.profiles import load_profile
try:
    import voltgate.app
    server = True
except ModuleNotFoundError:
    server = False
print(json.dumps({{
    "file": voltgate.sdk.__file__,
    "modules": names,
    "server": server,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in {SERVER_ONLY!r}),
    "others": sorted(m for m in sys.modules
                     if m.startswith("voltgate.") and not m.startswith("voltgate.sdk")),
    "tesla": load_profile("tesla").token_url,
}}))
"""


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    # Without PYTHONPATH: the tests' own (src/) would put the server back in reach.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_sdk_wheel_installs_and_imports_without_the_server(tmp_path: Path) -> None:
    # A copy of the two folders the build reads, so the build leaves nothing in the checkout.
    (tmp_path / "sdk").mkdir()
    shutil.copy(ROOT / "sdk" / "pyproject.toml", tmp_path / "sdk")
    shutil.copytree(
        ROOT / "src" / "voltgate" / "sdk",
        tmp_path / "src" / "voltgate" / "sdk",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    # No network: the build backend is the one installed here, the wheel goes in without deps.
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         tmp_path / "sdk", "-w", tmp_path / "dist")  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("voltgate_sdk-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    assert all(n.startswith(("voltgate/sdk/", "voltgate_sdk-")) for n in names), names
    assert "voltgate/__init__.py" not in names  # `voltgate` stays a namespace for the SDK alone
    assert "voltgate/sdk/profiles/tesla.json" in names
    required = {
        line.split(":", 1)[1].split(";")[0].strip().split(">")[0].split("=")[0].split("[")[0]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert required <= ALLOWED, required

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    _run(*pip, "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index",
         "-q", wheel)  # fmt: skip
    # The SDK's own dependencies come from this environment's site-packages as a plain path:
    # its .pth files (the server's editable install among them) are not processed there.
    site = Path(sysconfig.get_paths()["purelib"])
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    target = Path(_run(venv / "bin" / "python", "-c", where).strip())
    (target / "deps.pth").write_text(f"{site}\n")
    out = _run(venv / "bin" / "python", "-c", PROBE, cwd=tmp_path)
    seen = json.loads(out)
    assert seen["file"].startswith(str(venv)), seen["file"]
    assert seen["server"] is False
    assert seen["loaded"] == [] and seen["others"] == [], seen
    assert "voltgate.sdk.vault" in seen["modules"] and "voltgate.sdk.profiles" in seen["modules"]
    assert seen["tesla"] == "/oauth2/v3/token"
