"""Processes that end with the process that started them, however it ends (Linux's parent-death signal).

A crawl killed with SIGKILL cannot stop its children, and its extraction pool does not notice on its own: the
pool's workers hold the pipe by which the forkserver would see the crawl go, so forkserver and workers wait
forever (and the resource tracker with them, as they hold its pipe). ``PR_SET_PDEATHSIG`` makes the kernel send
SIGKILL to a process when its parent *thread* ends, whatever the signal that ended it.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POOL_PARENT_ENV = "CQNEWS_POOL_PARENT"  # set only while a crawl starts its extraction forkserver: the crawl's pid


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent ends; exit now if ``parent``, its parent when it was started, has
    already ended (the signal would never come). A no-op off Linux."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(0)
