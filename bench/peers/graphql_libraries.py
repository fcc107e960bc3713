"""`python -m bench.peers.graphql_libraries`: the measurement behind be.ENERGISED's GraphQL
library — graphql-core (what voltgate uses, with its own document cache) against
strawberry-graphql's default pipeline, executing the same charge-point answer in one process.
Installs the pinned libraries into bench/.peers/graphql-libraries/ on first use."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.peers.pyvenv import ensure_venv
from bench.servers import ROOT

APP_DIR = Path(__file__).resolve().with_suffix("")  # bench/peers/graphql_libraries/
VENV = ROOT / "bench" / ".peers" / "graphql-libraries"


def main() -> None:
    bin_dir = ensure_venv(VENV, APP_DIR / "requirements.txt", "GraphQL libraries")
    subprocess.run([str(bin_dir / "python"), str(APP_DIR / "compare.py")], check=True, timeout=600)


if __name__ == "__main__":
    main()
