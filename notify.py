"""Operator notifications from the daemon, through apprise (mail, webhooks, Telegram, Slack, ntfy ...).

The URLs come from ``notify = [...]`` in cqnews.toml (apprise's URL forms: ``mailto://``, ``json://host/path``,
``tgram://``, ``slack://`` ...), checked when the file is read. A message goes out when a site turns unhealthy,
when it recovers, and when the daemon cannot start a crawl (and when it can again): on a *transition* only, as
recorded in the archive (db/notices.py), so a flapping check or a restarted daemon never repeats itself. A
site's first verdict is recorded without a message when it is healthy.

apprise is imported only when URLs are configured (it costs ~0.3 s and some MB to import, and the idle daemon
stays small without it). Sending is best effort: a failure is logged, and the state stays recorded.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

from cqnews.db import notices

log = logging.getLogger(__name__)

HEALTHY, UNHEALTHY = "healthy", "unhealthy"
STARTS, CANNOT_START = "starts", "cannot_start"


class NotifyError(ValueError):
    """A notification URL that apprise cannot use; the message names its place in the list, never its secrets."""


def check_urls(urls: Any, where: str) -> list[str]:
    """``urls`` as a list of notification URLs apprise accepts (NotifyError otherwise)."""
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise NotifyError(f"{where}: notify must be a list of URLs (e.g. notify = [\"json://host:8080/hook\"])")
    if not urls:
        return []
    import apprise

    for n, url in enumerate(urls, 1):
        if apprise.Apprise.instantiate(url) is None:
            scheme = url.partition("://")[0] if "://" in url else url[:20]
            raise NotifyError(f"{where}: notify URL {n} ({scheme}://...) is not one apprise can send to "
                              "(see https://github.com/caronc/apprise/wiki for the URL forms)")
    return list(urls)


class Notifier:
    """Sends the daemon's notices to ``urls``; ``words`` puts a site's health problems into a sentence."""

    def __init__(self, urls: Sequence[str], engine: Engine, words: Callable[[list[Any]], str]) -> None:
        self.engine = engine
        self.words = words
        self.apprise: Any = None
        if urls:
            import apprise

            self.apprise = apprise.Apprise()
            for url in urls:
                self.apprise.add(url)

    def site_health(self, site: str, problems: list[Any]) -> None:
        """A site's verdict after a crawl: a message if it turned unhealthy or recovered."""
        state = UNHEALTHY if problems else HEALTHY
        changed, previous = notices.transition(self.engine, f"health:{site}", state)
        if not changed:
            return
        if state == UNHEALTHY:
            self._send(f"cqnews: {site} is unhealthy", f"{site}: {self.words(problems)}", "failure")
        elif previous == UNHEALTHY:
            self._send(f"cqnews: {site} recovered", f"{site}: OK again", "success")

    def crawl_start(self, site: str, error: str | None) -> None:
        """The daemon tried to start a crawl of ``site``: ``error`` says why it could not (None: it started)."""
        changed, previous = notices.transition(self.engine, f"start:{site}", CANNOT_START if error else STARTS)
        if not changed:
            return
        if error:
            self._send(f"cqnews: cannot start a crawl of {site}", f"{site}: the daemon cannot start a crawl: {error}",
                       "failure")
        elif previous == CANNOT_START:
            self._send(f"cqnews: crawls of {site} start again", f"{site}: the daemon started a crawl again",
                       "success")

    def _send(self, title: str, body: str, kind: str) -> None:
        log.info("notice: %s", body)
        if self.apprise is None:
            return
        if not self.apprise.notify(body=body, title=title, notify_type=kind):
            log.error("notice not delivered to every notification URL: %s", title)
