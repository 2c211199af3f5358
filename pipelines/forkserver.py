"""Imported by the extraction pool's forkserver only (``set_forkserver_preload``): it ends with its crawl.

The forkserver is the one process of the pool that the crawl starts itself (the workers are its children), so
the crawl names itself in ``CQNEWS_POOL_PARENT`` while it starts it (and only then), and this module, run as the
forkserver starts, asks the kernel to kill the forkserver when that crawl ends
(:func:`cqnews.lifetime.die_with_parent`). Each worker then does the same against the forkserver
(:data:`SERVER_PID`, inherited through the fork): a crawl killed by any signal takes its whole pool with it.

The forkserver then imports the workers' code and warms the extractor up (pipelines/extract_worker.py): done
once here, it is in every worker it forks, instead of once in each.
"""
from __future__ import annotations

import os

from cqnews.lifetime import POOL_PARENT_ENV, die_with_parent


def _tie_to_the_crawl() -> int | None:
    parent = os.environ.get(POOL_PARENT_ENV, "")
    if not parent.isdigit():
        return None
    die_with_parent(int(parent))
    return os.getpid()


SERVER_PID: int | None = _tie_to_the_crawl()  # the forkserver's pid, as its workers see it

if SERVER_PID is not None:  # in the forkserver (anywhere else this module only names it)
    from cqnews.pipelines.extract_worker import warm_up

    warm_up()
