"""/metrics in the Prometheus text format (version 0.0.4): articles, runs by status, last successful crawl and
health per site."""
from __future__ import annotations

from datetime import UTC, datetime

from cqnews.db import runs, timeline
from cqnews.web.reading import Reader


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics_text(reader: Reader) -> str:
    with reader.session() as session:
        totals = timeline.article_totals(session)
    statuses = runs.runs_by_status(reader.engine)
    finished = runs.last_finished(reader.engine)
    health = reader.health(datetime.now(UTC))
    lines = ["# HELP cqnews_articles Articles in the archive, per site.", "# TYPE cqnews_articles gauge"]
    lines += [f'cqnews_articles{{site="{_label(s)}"}} {n}' for s, n in sorted(totals.items())]
    lines += ["# HELP cqnews_runs Crawl runs recorded, per status.", "# TYPE cqnews_runs gauge"]
    lines += [f'cqnews_runs{{status="{_label(s)}"}} {n}' for s, n in sorted(statuses.items())]
    lines += ["# HELP cqnews_last_success_timestamp_seconds When the site's last crawl that finished normally "
              "ended (Unix time).", "# TYPE cqnews_last_success_timestamp_seconds gauge"]
    lines += [f'cqnews_last_success_timestamp_seconds{{site="{_label(s)}"}} {t.timestamp():.3f}'
              for s, t in sorted(finished.items())]
    lines += ["# HELP cqnews_site_healthy 1 if `cqnews status` finds the site healthy, else 0.",
              "# TYPE cqnews_site_healthy gauge"]
    lines += [f'cqnews_site_healthy{{site="{_label(h.site)}"}} {int(h.ok)}' for h in health]
    return "\n".join(lines) + "\n"
