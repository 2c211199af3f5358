"""An idle daemon's footprint: its CPU share and memory while it waits for crawls that are not due.

Usage: python bench/daemon_idle.py [--database-url URL] [--seconds 330] [--warmup 20] [-s KEY=VALUE ...]

Without ``--database-url`` the archive is a fresh SQLite file in a temporary folder (`cqnews db upgrade`); with
one (e.g. a PostgreSQL database) that archive is used as is, and must hold no other daemon. Every site is
scheduled on 29 February at midnight (none falls due), and `cqnews daemon --config FILE` runs as its own process,
as an operator starts it. After ``--warmup`` seconds (start-up: imports, migrations check, first jobs) the script
reads the daemon's /proc/PID/stat (utime + stime, its own and its reaped children's) and /proc/PID/status
(VmRSS, VmHWM, Threads), then again every 10 s for ``--seconds``; it prints the CPU seconds over the wall seconds
between the first and the last reading (so other jobs on a shared machine do not count, only the daemon's own
work), and the RSS at the end and the largest seen. Targets of issue 16: at most 110 MB RSS and 0.05 % CPU.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cqnews.commands import cqnews_command

NEVER_DUE = 'default = "cron: 0 0 29 2 *"\n'  # every site scheduled, on a day that comes every four years
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user + system time of ``pid`` and its reaped children (/proc/PID/stat fields 14-17)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in KiB, and the thread count, from /proc/PID/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            out[name] = int(value.split()[0])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="archive to use (default: a new SQLite file)")
    parser.add_argument("--seconds", type=float, default=330, help="measured span after the warm-up")
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for the daemon (e.g. CQNEWS_CONTROL_SECONDS=5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cqnews-idle-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'archive.db'}"
        env = dict(os.environ) | {"CQNEWS_DATABASE_URL": url, "CQNEWS_LOG_DIR": str(folder / "logs")}
        subprocess.run(cqnews_command("db", "upgrade"), cwd=folder, env=env, check=True, stdout=subprocess.DEVNULL)
        (folder / "schedule.toml").write_text(NEVER_DUE, "utf-8")
        overrides = [arg for kv in args.set for arg in ("-s", kv)]
        log = (folder / "daemon.log").open("wb")
        daemon = subprocess.Popen(cqnews_command("daemon", "--config", "schedule.toml", *overrides), cwd=folder,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(args.warmup)
            if daemon.poll() is not None:
                sys.exit(f"the daemon ended at once (exit {daemon.returncode}): "
                         f"{(folder / 'daemon.log').read_text()[-2000:]}")
            start_wall, start_cpu, first = time.monotonic(), cpu_seconds(daemon.pid), memory(daemon.pid)
            peak_rss = first["VmRSS"]
            deadline = start_wall + args.seconds
            while time.monotonic() < deadline:
                time.sleep(min(10, max(deadline - time.monotonic(), 0)))
                peak_rss = max(peak_rss, memory(daemon.pid)["VmRSS"])
            wall, cpu, last = time.monotonic() - start_wall, cpu_seconds(daemon.pid) - start_cpu, memory(daemon.pid)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
            log.close()
        backend = url.split(":", 1)[0].split("+", 1)[0]
        print(f"idle daemon ({backend}, {' '.join(args.set) or 'default settings'}), measured {wall:.0f} s after "
              f"a {args.warmup:.0f} s warm-up:")
        print(f"  CPU {cpu:.2f} s = {100 * cpu / wall:.3f} %")
        print(f"  RSS {last['VmRSS'] / 1024:.1f} MiB at the end (at the start {first['VmRSS'] / 1024:.1f}, "
              f"largest sampled {peak_rss / 1024:.1f}), peak (VmHWM) {last['VmHWM'] / 1024:.1f} MiB, "
              f"{last['Threads']} threads")
        print(f"  load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
