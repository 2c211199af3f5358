"""Notifications (notify.py): one message per transition, recorded in the archive, to a real local webhook."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from cqnews.cli.render import verdict
from cqnews.health import FetchedNothing
from cqnews.notify import Notifier
from cqnews.runner import project_settings
from cqnews.scheduler import ScheduleError, load_config

from helpers import webhook_receiver


def test_one_message_per_transition_even_after_a_restart(archive_engine: Engine) -> None:
    with webhook_receiver() as (url, received):
        daemon = Notifier([url], archive_engine, verdict)
        daemon.site_health("cbg", [])  # a first verdict, healthy: recorded, nothing to say
        assert received == []
        daemon.site_health("cbg", [FetchedNothing(4)])
        daemon.site_health("cbg", [FetchedNothing(5)])  # still unhealthy: no second message
        restarted = Notifier([url], archive_engine, verdict)  # a new daemon reads what was sent from the archive
        restarted.site_health("cbg", [FetchedNothing(6)])
        assert [(m["title"], m["type"]) for m in received] == [("cqnews: cbg is unhealthy", "failure")]
        assert received[0]["message"] == "cbg: errors: the last crawl fetched no page (4 errors); is the site up?"
        restarted.site_health("cbg", [])
        restarted.site_health("cbg", [])
        restarted.crawl_start("cbg", "[Errno 13] Permission denied: 'data/logs/cbg'")
        restarted.crawl_start("cbg", "[Errno 13] Permission denied: 'data/logs/cbg'")
        restarted.crawl_start("cbg", None)
        restarted.crawl_start("cbg", None)
        restarted.site_health("cq_people", [FetchedNothing(1)])  # another site: its own state
    assert [(m["title"], m["type"]) for m in received] == [
        ("cqnews: cbg is unhealthy", "failure"), ("cqnews: cbg recovered", "success"),
        ("cqnews: cannot start a crawl of cbg", "failure"), ("cqnews: crawls of cbg start again", "success"),
        ("cqnews: cq_people is unhealthy", "failure")]
    assert "Permission denied" in received[2]["message"]


def test_notification_urls_are_checked_when_the_schedule_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cqnews.toml"

    def load(text: str) -> object:
        path.write_text(text + '\n[sites.cbg]\nevery = "1h"\n', "utf-8")
        return load_config(project_settings(), ["cbg"], str(path))

    assert load('notify = ["json://127.0.0.1:9/hook", "mailto://u:p@example.com"]').notify == [  # type: ignore
        "json://127.0.0.1:9/hook", "mailto://u:p@example.com"]
    assert load("").notify == []  # type: ignore[attr-defined]
    with pytest.raises(ScheduleError, match=r"notify URL 2 \(nosuch://...\) is not one apprise can send to") as bad:
        load('notify = ["json://127.0.0.1:9/hook", "nosuch://secret-token@host"]')
    assert "secret-token" not in str(bad.value)  # a URL's credentials never reach a log or a terminal
    with pytest.raises(ScheduleError, match="notify must be a list of URLs"):
        load('notify = "json://127.0.0.1:9/hook"')
