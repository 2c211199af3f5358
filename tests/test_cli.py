"""The command line as a user meets it: the demo, queries, and clear one-line errors."""
from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cqnews.demo import SITES

from helpers import BACKENDS, cqnews, free_ports, postgres_database, runs


@pytest.fixture(scope="module", params=BACKENDS)
def demo_archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An archive filled by `cqnews demo` (which also migrates it), once per backend for the read-only tests."""
    work = tmp_path_factory.mktemp("demo")
    urls = iter([f"sqlite:///{work / 'archive.db'}"]) if request.param == "sqlite" else postgres_database()
    database_url = next(urls)
    result = cqnews(["demo", "--port", "0"], database_url, work)
    assert result.returncode == 0, result.stderr[-3000:]
    yield database_url
    next(urls, None)  # drops the PostgreSQL database


def test_demo_fills_the_default_sqlite_archive_and_summarises(tmp_path: Path) -> None:
    default = "sqlite:///data/archive.db"  # relative: the user's working directory
    ports = ["--port", str(free_ports(6))]  # the same URLs on both runs, whatever else listens on this machine
    first = cqnews(["demo", *ports], default, tmp_path, env={"CQNEWS_DATABASE_URL": default})
    assert first.returncode == 0, first.stderr[-3000:]
    assert (tmp_path / "data" / "archive.db").is_file()
    # The file alone is the archive (the write-ahead log folded in): a plain copy is a backup.
    shutil.copyfile(tmp_path / "data" / "archive.db", tmp_path / "copy.db")
    archived = _count_articles(tmp_path / "data" / "archive.db")
    assert archived > 0 and _count_articles(tmp_path / "copy.db") == archived
    header = first.stdout.splitlines()[0].split()
    assert header[:4] == ["site", "status", "pages", "new"]
    lines = {line.split()[0]: line.split() for line in first.stdout.splitlines()[1:]}
    assert {"cbg", "cq_people"} <= set(lines)  # every site with a fixture; at least the two seed sites
    assert all(int(cols[4]) > 0 for cols in lines.values())  # new articles on the first run
    second = cqnews(["demo", *ports], default, tmp_path, env={"CQNEWS_DATABASE_URL": default})
    assert second.returncode == 0, second.stderr[-3000:]
    again = {line.split()[0]: line.split() for line in second.stdout.splitlines()[1:]}
    assert all(cols[4] == "0" and int(cols[9]) > 0 for cols in again.values())  # nothing new; not due again


def _count_articles(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        connection.close()


def test_db_backup_is_a_whole_consistent_copy(demo_archive: str, tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    result = cqnews(["db", "backup", str(target)], demo_archive, tmp_path)
    if not demo_archive.startswith("sqlite"):
        assert result.returncode == 2 and "pg_dump" in result.stderr and not target.exists()
        return
    assert result.returncode == 0, result.stderr
    connection = sqlite3.connect(target)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    assert _count_articles(target) == _count_articles(Path(demo_archive.removeprefix("sqlite:///"))) > 0
    again = cqnews(["db", "backup", str(target)], demo_archive, tmp_path)  # never over an existing file
    assert again.returncode == 2 and "exists" in again.stderr


def _json_lines(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_search_filters_and_show(demo_archive: str, tmp_path: Path) -> None:
    hits = _json_lines(cqnews(["search", "渝北", "--format", "json"], demo_archive, tmp_path).stdout)
    assert any("渝北" in (h["title"] or "") for h in hits)
    assert all(h["published_at"].endswith("+08:00") for h in hits)

    everything = _json_lines(cqnews(["search", "重庆", "--format", "json", "--limit", "100"], demo_archive,
                                     tmp_path).stdout)
    assert {"cbg", "cq_people"} <= {h["site"] for h in everything}
    only_cbg = _json_lines(cqnews(["search", "重庆", "--site", "cbg", "--format", "json"], demo_archive,
                                  tmp_path).stdout)
    assert only_cbg and {h["site"] for h in only_cbg} == {"cbg"}
    recent = _json_lines(cqnews(["search", "重庆", "--since", "2020-05-12", "--format", "json"], demo_archive,
                                tmp_path).stdout)
    assert recent and all(h["published_at"] >= "2020-05-12" for h in recent)
    assert len(recent) < len(everything)

    # Wildcards are not patterns ("重%庆" would match most articles): they are text to find, found nowhere here.
    assert _json_lines(cqnews(["search", "重%庆", "--format", "json"], demo_archive, tmp_path).stdout) == []
    assert _json_lines(cqnews(["search", "重_", "--format", "json"], demo_archive, tmp_path).stdout) == []
    assert _json_lines(cqnews(["search", "重", "--format", "json"], demo_archive, tmp_path).stdout)
    # Traditional finds simplified; a broken query is one line and exit 2.
    traditional = _json_lines(cqnews(["search", "重慶", "--format", "json", "--limit", "100"], demo_archive,
                                     tmp_path).stdout)
    assert {h["id"] for h in traditional} == {h["id"] for h in everything}
    bad = cqnews(["search", '"渝北'], demo_archive, tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("cqnews: bad query: unbalanced")
    assert "Traceback" not in bad.stderr

    shown = cqnews(["show", str(hits[0]["id"]), "--format", "json"], demo_archive, tmp_path)
    article = json.loads(shown.stdout)
    assert article["url"] == hits[0]["url"] and article["versions"][0]["version"] == 1
    assert "渝北" in article["text"]


def test_show_unknown_id_is_a_clear_error(demo_archive: str, tmp_path: Path) -> None:
    result = cqnews(["show", "999999"], demo_archive, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "cqnews: no article with id 999999"


def test_history_of_unknown_url(demo_archive: str, tmp_path: Path) -> None:
    result = cqnews(["history", "http://nowhere.example/a.html"], demo_archive, tmp_path)
    assert result.returncode == 1 and "not in the archive" in result.stderr


def test_runs_lists_the_demo_crawls(demo_archive: str, tmp_path: Path) -> None:
    result = cqnews(["runs"], demo_archive, tmp_path)
    assert result.returncode == 0
    assert "cq_people" in result.stdout and "cbg" in result.stdout and "finished" in result.stdout
    assert {"cbg", "cq_people"} <= {r.site for r in runs(demo_archive)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search"], "the following arguments are required: text"),
        (["search", "x", "--since", "yesterday"], "not a date"),
        (["crawl", "no_such_site"], "unknown site no_such_site"),
        (["crawl"], "name at least one site"),
        (["show", "abc"], "not an integer"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = cqnews(args, f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    from cqnews import __version__

    version = cqnews(["--version"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f"cqnews {__version__}")
    assert __version__ != "0+unknown"  # read from the installed package's metadata
    helped = cqnews(["search", "--help"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert helped.returncode == 0 and "--since" in helped.stdout and "traditional" in helped.stdout


def test_db_current_and_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    behind = cqnews(["db", "current"], url, tmp_path)
    assert behind.returncode == 1 and "cqnews db upgrade" in behind.stdout
    assert cqnews(["db", "upgrade"], url, tmp_path).returncode == 0
    current = cqnews(["db", "current"], url, tmp_path)
    assert current.returncode == 0 and "up to date" in current.stdout
    assert cqnews(["db", "check"], url, tmp_path).returncode == 0
    assert cqnews(["search", "重庆"], url, tmp_path).returncode == 0


def test_bad_database_url(tmp_path: Path) -> None:
    result = cqnews(["db", "current"], "nosuchdb://x", tmp_path)
    assert result.returncode == 2 and "cannot open" in result.stderr and "Traceback" not in result.stderr


def test_extract_prints_the_scorer_contract(tmp_path: Path) -> None:
    page = SITES / "cq_people" / "n2" / "2020" / "0508" / "c365401-33998868.html"
    result = cqnews(["extract", str(page), str(tmp_path / "missing.html"), "--format", "jsonl"],
                    f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert result.returncode == 1  # one file was missing, and said so
    assert "missing.html: no such file" in result.stderr
    (record,) = _json_lines(result.stdout)
    assert {"path", "url", "title", "author", "source", "published_at", "text", "encoding"} <= set(record)
    assert record["path"] == str(page)
    assert record["published_at"].startswith("2020-05-08T18:43") and record["published_at"].endswith("+08:00")
    assert "渝北" in record["title"] and "责编" not in record["text"]


def test_sites_lists_every_spider_with_its_discovery_sources(tmp_path: Path) -> None:
    result = cqnews(["sites", "--format", "json"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert result.returncode == 0, result.stderr
    sites = {s["site"]: s for s in _json_lines(result.stdout)}
    assert set(sites) == {"cbg", "cq_gov", "cq_people", "cqcb", "cqnews", "xinhua_cq"}
    assert all(s["listing_pages"] for s in sites.values())
    assert sites["xinhua_cq"]["feeds"] and sites["cqnews"]["sitemaps"]
    text = cqnews(["sites"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path).stdout
    assert "人民网重庆频道" in text and "sitemap " in text and "feed " in text
