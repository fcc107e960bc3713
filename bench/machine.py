"""The machine the bench runs on: its description, and how busy it is with other work."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.loadgen import LoadSettings


def host_busy_seconds() -> float:
    """Non-idle CPU time of the whole machine since boot (all cores), from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit(root: Path) -> str:
    def git(*args: str) -> str:
        proc = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
        )
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    # Read-only: uncommitted changes in src/ mean the numbers are not exactly this commit's.
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src")
    return commit + (" (+ uncommitted changes in src/)" if dirty else "")


def describe(root: Path, wrk: str, settings: LoadSettings) -> list[tuple[str, str]]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", f"{_cpu_model()}, nproc {cores}"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", sys.version.split()[0]),
        ("voltgate commit", _git_commit(root)),
        (
            "load generator",
            f"{wrk}, -t{settings.threads} -c{settings.connections}, {settings.warmup:g} s warm-up "
            f"then {settings.duration:g} s measured, keep-alive, 127.0.0.1, same box as the server",
        ),
    ]


def wait_quiet(threshold_pct: float, timeout: float) -> float:
    """Wait until the machine's CPU use (other than ours) stays under `threshold_pct` of one core
    for a second, at most `timeout` seconds; return the last reading.

    Server and wrk share the cores with whatever else runs (a test suite, a build): a run that
    starts while those use a core measures them as much as the server.
    """
    deadline = time.monotonic() + timeout
    while True:
        before = host_busy_seconds()
        time.sleep(1.0)
        busy_pct = 100 * (host_busy_seconds() - before)
        if busy_pct <= threshold_pct or time.monotonic() >= deadline:
            return busy_pct
