"""A server's process tree from /proc: its processes, their CPU time and peak resident sets.

`voltgate serve` runs on granian: the process the bench starts is granian's main process, and
the application runs in worker processes it forks. Every number the bench reports about "the
server" is therefore taken over the whole tree (the main process and all its descendants).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

_CLK_TCK = os.sysconf("SC_CLK_TCK")
# Direct children of granian's main process that are not workers (only with spawn/forkserver).
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


def _scan_children(pid: int) -> list[int]:
    """Children by scanning every process's parent pid: for kernels without `…/children`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (of any of its threads), in pid order."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            text = (task / "children").read_text()
        except FileNotFoundError:
            if not (task / "stat").exists():
                continue  # the thread ended while we looked
            return sorted(_scan_children(pid))  # no CONFIG_PROC_CHILDREN
        except OSError:
            continue
        found.update(int(p) for p in text.split())
    return sorted(found)


def tree(root: int) -> list[int]:
    """`root` and every live descendant, root first (empty when root is gone)."""
    if not Path(f"/proc/{root}").exists():
        return []
    out, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        if pid in out:
            continue
        out.append(pid)
        todo.extend(children(pid))
    return out


def cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def workers(root: int) -> list[int]:
    """granian's worker processes: the direct children of its main process, minus helpers."""
    return [pid for pid in children(root) if not any(h in cmdline(pid) for h in _HELPERS)]


def cpu_seconds(pid: int, *, reaped_children: bool = True) -> float:
    """User + system CPU of every thread of `pid` so far; 0 when it is gone.

    With `reaped_children`, plus the CPU of the children it has waited for (cutime, cstime): a
    worker that exits and is reaped moves its CPU into its parent's, so a sum over the tree
    counts every CPU second once whether its process is still alive or not.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLK_TCK


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two `cpu_by_pid` snapshots by the processes alive at the second one
    (a process that started in between counts from zero)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


def status_kib(pid: int, key: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmHWM, VmRSS), 0 when absent or the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def matching(predicate: Callable[[str], bool]) -> list[int]:
    """Every process on the machine whose command line satisfies `predicate`."""
    return [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and predicate(cmdline(int(entry.name)))
    ]
