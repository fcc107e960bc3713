"""`python -m bench.pyspy FILE…`: where a profiled server spends its time, from py-spy raw output.

The bench records with `py-spy record --threads --format raw` (`--profile DIR`): one line per
distinct stack, `thread (TID): NAME;frame;…;leaf COUNT`. This sums the samples per leaf frame
(self time), for the main thread (the event loop: the application) apart from the other threads
(aiosqlite's connection thread, granian's runtime threads). Several files (one per worker)
are added up.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# py-spy's sampling rate for --profile (a prime, so it does not beat with periodic work).
PROFILE_RATE = 997

NO_FRAME = "(no Python frame: native code of this thread)"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?):(?P<line>\d+)\)$")
_THREAD = re.compile(r"^thread \((?P<tid>[0-9a-fA-Fx]+)\)(?:: (?P<name>.*))?$")


@contextlib.contextmanager
def recording(workers: list[int], out: Path | None, seconds: float) -> Iterator[list[Path]]:
    """py-spy on each worker process (the app runs there; granian's main process only
    supervises), one raw file per worker, with thread ids so the event loop stands apart.

    --nonblocking: py-spy's default stops the whole process for every sample, which at this
    rate cut token throughput ~15x (to ~200 req/s) and broke its idle detection (every thread,
    the waiting aiosqlite threads included, counted as busy in every sample). Unpaused, the
    server keeps ~80 % of its throughput and idle threads drop out of the samples; a sample
    may now and then tear (a stack read while it changes), which is noise at these counts.
    """
    if out is None:
        yield []
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [
        out if len(workers) == 1 else out.with_name(f"{out.stem}-worker{i}{out.suffix}")
        for i in range(1, len(workers) + 1)
    ]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for pid, path in zip(workers, paths, strict=True):
            procs.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "-d",
                        f"{max(1, int(seconds))}",
                        "-r",
                        str(PROFILE_RATE),
                        "--nonblocking",
                        "--threads",
                        "--format",
                        "raw",
                        "-o",
                        str(path),
                        "-p",
                        str(pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield paths
    except BaseException:
        for proc in procs:
            proc.terminate()
        raise
    finally:
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                proc.kill()
                proc.wait()


@dataclass
class Profile:
    samples: int = 0
    per_thread: Counter[str] = field(default_factory=Counter)
    main: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)


def _function(frame: str, lines: bool) -> str:
    if lines:
        return frame
    m = _FRAME.match(frame)
    return f"{m['func']} ({m['file']})" if m else frame


def parse(paths: list[Path], lines: bool = False) -> Profile:
    prof = Profile()
    for path in paths:
        for raw in path.read_text(errors="replace").splitlines():
            stack, _, count_text = raw.rstrip().rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            frames = stack.split(";")
            while frames and frames[0].startswith("process "):
                frames.pop(0)  # --subprocesses prefixes the process
            thread = "thread ?"
            is_main = False
            if frames and (m := _THREAD.match(frames[0])):
                frames.pop(0)
                name = m["name"]
                thread = f"{name} ({m['tid']})" if name else f"thread {m['tid']} (no name)"
                is_main = name == "MainThread"
            leaf = _function(frames[-1], lines) if frames else NO_FRAME
            prof.samples += count
            prof.per_thread[thread] += count
            (prof.main if is_main else prof.other)[leaf] += count
    return prof


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    - "


def report(prof: Profile, top: int = 20, rate: float | None = None) -> str:
    out = [
        f"{prof.samples:,} samples"
        + (f" (≈ {prof.samples / rate:.1f} s of busy thread time at {rate:g} Hz)" if rate else "")
    ]
    out.append("threads (samples, share of all):")
    out += [
        f"  {_pct(n, prof.samples)}  {n:>7,}  {name}" for name, n in prof.per_thread.most_common()
    ]
    for title, counts in (("main thread", prof.main), ("other threads", prof.other)):
        total = sum(counts.values())
        out.append("")
        out.append(
            f"{title}: self time by leaf frame, top {top} "
            f"(share of {title} samples | of all samples), {total:,} samples"
        )
        out += [
            f"  {_pct(n, total)} | {_pct(n, prof.samples)}  {frame}"
            for frame, n in counts.most_common(top)
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pyspy", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, help="py-spy raw output (one per worker)")
    parser.add_argument("--top", type=int, default=20, help="rows per thread group")
    parser.add_argument("--lines", action="store_true", help="per line, not per function")
    parser.add_argument("--rate", type=float, default=None, help="the sampling rate, for seconds")
    args = parser.parse_args(argv)
    print(report(parse(args.files, args.lines), args.top, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
