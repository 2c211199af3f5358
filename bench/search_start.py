"""How long ``cqnews search`` takes from the shell: process start, imports, the schema check, the query, exit.

Usage: python bench/search_start.py --database-url URL [--starts 10] [--query 重庆]

Runs ``cqnews search QUERY`` (the ``cqnews`` installed beside this Python) ``--starts`` times as fresh processes
against the archive at URL and prints the median and worst wall time, and the median CPU time (user + system,
of the child: on a machine shared with other jobs, wall time is mostly waiting for a core). Then runs it once
more under ``python -X importtime`` and prints how many modules it imports, their import time summed, and the
packages among them beyond the standard library (a search should need SQLAlchemy and OpenCC alone). The
issue's floor: median wall <= 0.5 s on the demo archive (``cqnews demo``).

The starts run with Python's bytecode cache, as an installed cqnews has it (pip compiles it on install): where
the environment sets ``PYTHONDONTWRITEBYTECODE`` (this machine does) and no cache was ever written, every start
would compile cqnews's sources again (~0.05–0.1 s more), so the variable is dropped for the children and one
unmeasured start first writes the cache.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)")


def timed_starts(command: list[str], env: dict[str, str], starts: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each start."""
    walls, cpus = [], []
    for _ in range(starts):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def imported(query: str, env: dict[str, str]) -> list[tuple[str, int]]:
    """(module, its own import time in µs) of every module a search imports, read from ``-X importtime``."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-P", "-m", "cqnews", "search", query], env=env,
                            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return [(m.group(3), int(m.group(1))) for m in map(_IMPORT_LINE.match, result.stderr.splitlines()) if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--query", default="重庆")
    args = parser.parse_args()
    env = dict(os.environ) | {"CQNEWS_DATABASE_URL": args.database_url}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [str(Path(sys.executable).with_name("cqnews")), "search", args.query]
    timed_starts(command, env, 1)  # writes the bytecode cache if there is none (not measured)
    walls, cpus = timed_starts(command, env, args.starts)
    print(f"`cqnews search {args.query}`: {args.starts} process starts, wall median "
          f"{statistics.median(walls) * 1000:.0f} ms, max {max(walls) * 1000:.0f} ms; CPU median "
          f"{statistics.median(cpus) * 1000:.0f} ms (load average {os.getloadavg()[0]:.1f})")
    modules = imported(args.query, env)
    packages = sorted({name.split(".")[0] for name, _ in modules} - set(sys.stdlib_module_names))
    # (not the interpreter's start-up hooks, nor ``org``: the standard library's probe for Jython, not found)
    packages = [p for p in packages if not p.startswith("_") and p not in ("site", "sitecustomize", "org")]
    print(f"imports {len(modules)} modules ({sum(us for _, us in modules) / 1000:.0f} ms under -X importtime); "
          f"beyond the standard library: {' '.join(packages)}")


if __name__ == "__main__":
    main()
