"""Bad input and faults at the command line: one line on stderr, no traceback, the documented exit code
(1: the job failed, 2: bad usage, a bad setting or an archive that is not ready), and nothing left behind."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cqnews.commands import cqnews_command

from helpers import assert_one_line_error, cqnews, silent_server

HUGE = "99999999999999999999"


@pytest.fixture
def archive(tmp_path: Path) -> str:
    """An empty archive at the schema head, made as a user makes one."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    assert cqnews(["db", "upgrade"], url, tmp_path).returncode == 0
    return url


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["db", "upgrade", "nosuchrev"], 2, "nosuchrev"),
        (["db", "downgrade", "nosuchrev", "--yes"], 2, "nosuchrev"),
        (["search", "重庆", "--page", HUGE], 2, "--page"),
        (["search", "重庆", "--limit", HUGE], 2, "--limit"),
        (["search", "重庆", "--offset", "-1"], 2, "--offset"),
        (["show", HUGE], 2, "out of range"),
        (["diff", HUGE], 2, "out of range"),
        (["diff", "1", "1", HUGE], 2, "out of range"),
        (["runs", "--limit", HUGE], 2, "--limit"),
        (["search", "重庆", "--until", "0001-01-01"], 2, "date out of range"),
        (["export", "--format", "jsonl", "--since", "9999-12-31", "-o", "x.jsonl"], 2, "date out of range"),
        (["export", "--format", "jsonl", "-o", "."], 2, "is a folder"),
        (["export", "--format", "jsonl", "-o", "/proc/x.jsonl"], 1, "cannot write /proc/x.jsonl"),
        (["export", "--format", "csv", "-o", "/dev/full"], 1, "cannot write /dev/full"),
        (["export", "--format", "warc", "-o", "/dev/full"], 1, "cannot write /dev/full"),
        (["export", "--format", "jsonl", "-o", "no/such/folder/x.jsonl"], 2, "no such folder"),
        (["export", "--format", "jsonl", "-o", "x.jsonl", "--site", "nosuch"], 2, "unknown site nosuch; known: cbg"),
        (["runs", "--site", "nosuch"], 2, "unknown site nosuch; known: cbg"),
        (["reindex", "--batch", "0"], 2, "--batch"),
        (["reindex", "--workers", HUGE], 2, "--workers"),
        (["db", "downgrade", "base"], 2, "--yes"),
        (["status", "-s", "CQNEWS_HEALTH_RUNS=many"], 2, "-s CQNEWS_HEALTH_RUNS='many'"),
        (["status", "-s", "novalue"], 2, "KEY=VALUE"),
        (["db", "backup", "/proc/copy.db"], 1, "/proc/copy.db"),
        (["db", "backup", "no/such/folder/copy.db"], 2, "no such folder"),
        (["--database-url", "", "runs"], 2, "--database-url ''"),
    ],
)
def test_bad_input_is_one_line(archive: str, tmp_path: Path, args: list[str], code: int, says: str) -> None:
    result = cqnews(args, archive, tmp_path)
    assert says in assert_one_line_error(result, code)
    assert cqnews(["db", "current"], archive, tmp_path).returncode == 0  # the archive is untouched, at head


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("CQNEWS_MAX_PAGES", "abc", "integer"),
        ("CQNEWS_LOG_LEVEL", "bogus", "DEBUG"),
        ("CQNEWS_REVISIT_LADDER", "1y", "1h,6h,1d,3d"),
        ("CQNEWS_DOWNLOAD_DELAY", "nan", "number"),
        ("CQNEWS_AUTOTHROTTLE", "maybe", "1 or 0"),
        ("CQNEWS_TIMEZONE", "Mars/Olympus", "time zone"),
        ("CQNEWS_HEALTH_ERROR_RATE", "2", "0 to 1"),
    ],
)
def test_a_bad_variable_names_itself_its_value_and_what_is_allowed(tmp_path: Path, variable: str, value: str,
                                                                   allowed: str) -> None:
    result = cqnews(["sites"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path, env={variable: value})
    line = assert_one_line_error(result, 2)
    assert f"{variable}={value!r}" in line and allowed in line
    assert result.stdout == ""  # checked before any work


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["crawl", "cbg", "--base-url", "not-a-url"], {}, "not-a-url"),
        (["crawl", "cbg", "--base-url", "http://127.0.0.1:9", "-s", "CONCURRENT_REQUESTS=abc"], {},
         "-s CONCURRENT_REQUESTS='abc'"),
        (["crawl", "cbg", "--base-url", "http://127.0.0.1:9"], {"CQNEWS_REVISIT_LADDER": "1y"},
         "CQNEWS_REVISIT_LADDER='1y'"),
        (["crawl", "nosuch"], {}, "unknown site nosuch; known: cbg"),
    ],
)
def test_a_crawl_with_bad_settings_stops_before_it_starts(archive: str, tmp_path: Path, args: list[str],
                                                          env: dict[str, str], says: str) -> None:
    result = cqnews(args, archive, tmp_path, timeout=60, env=env)
    assert says in assert_one_line_error(result, 2)
    assert result.stdout == ""


def test_an_error_in_a_crawl_component_is_printed_not_lost(archive: str, tmp_path: Path) -> None:
    broken = '{"cqnews.no_such_module.Extension": 1}'  # fails while Scrapy builds the crawl's components
    result = cqnews(["crawl", "cbg", "--base-url", "http://127.0.0.1:9", "-s", f"EXTENSIONS={broken}"], archive,
                    tmp_path, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cbg: the crawl was not recorded in the archive (it failed: ModuleNotFoundError: No module named " \
           "'cqnews.no_such_module')" in result.stderr


def test_downgrade_asks_for_yes_and_stops_cleanly_at_base(archive: str, tmp_path: Path) -> None:
    emptied = cqnews(["db", "downgrade", "base", "--yes"], archive, tmp_path)
    assert emptied.returncode == 0 and "base" in emptied.stdout
    assert "nothing to downgrade" in assert_one_line_error(cqnews(["db", "downgrade", "-1", "--yes"], archive,
                                                                  tmp_path), 2)


@pytest.fixture
def future_archive(database_url: str, tmp_path: Path) -> str:
    """An archive whose schema a newer cqnews wrote: a revision this code has no migration for."""
    assert cqnews(["db", "upgrade"], database_url, tmp_path).returncode == 0
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    return database_url


@pytest.mark.parametrize(("args", "code"), [(["db", "current"], 1), (["db", "upgrade"], 2),
                                            (["db", "downgrade", "-1", "--yes"], 2), (["search", "重庆"], 2)])
def test_an_archive_of_a_newer_cqnews_is_named_so(future_archive: str, tmp_path: Path, args: list[str],
                                                   code: int) -> None:
    line = assert_one_line_error(cqnews(args, future_archive, tmp_path), code)
    assert "9999_from_the_future" in line and "newer cqnews" in line


@pytest.mark.parametrize("args", [["search", "重庆"], ["status"], ["show", "1"], ["diff", "1"], ["runs"],
                                  ["history", "http://cbg.example/a.html"], ["reindex"], ["db", "check"],
                                  ["export", "--format", "jsonl", "-o", "out.jsonl"]])
def test_read_only_commands_never_create_an_archive(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "typo" / "archive.db"
    result = cqnews(args, f"sqlite:///{missing}", tmp_path)
    assert "cqnews db upgrade" in assert_one_line_error(result, 2)
    assert not missing.parent.exists()


def test_db_current_on_a_missing_archive_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "archive.db"
    result = cqnews(["db", "current"], f"sqlite:///{missing}", tmp_path)
    assert result.returncode == 1 and "cqnews db upgrade" in result.stdout
    assert not missing.parent.exists()


def test_a_mistyped_revision_creates_no_archive(tmp_path: Path) -> None:
    missing = tmp_path / "new" / "archive.db"
    assert "nosuchrev" in assert_one_line_error(cqnews(["db", "upgrade", "nosuchrev"], f"sqlite:///{missing}",
                                                       tmp_path), 2)
    assert not missing.parent.exists()


@pytest.mark.parametrize("args", [["runs"], ["db", "current"], ["search", "重庆"]])
def test_a_database_that_never_answers_is_one_line_within_seconds(tmp_path: Path, args: list[str]) -> None:
    with silent_server() as port:
        started = time.monotonic()
        result = cqnews(args, f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", tmp_path,
                        env={"CQNEWS_DB_CONNECT_TIMEOUT": "2"})
        elapsed = time.monotonic() - started
    assert "cannot be reached" in assert_one_line_error(result, 1)
    assert elapsed < 15


def test_a_file_that_is_not_an_archive(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database, a shopping list\n" * 100)
    result = cqnews(["runs"], f"sqlite:///{tmp_path / 'notes.db'}", tmp_path)
    assert_one_line_error(result, 1)


def test_export_to_standard_output(archive: str, tmp_path: Path) -> None:
    result = cqnews(["export", "--format", "csv", "-o", "-"], archive, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("id,site,url") and "standard output" in result.stderr
    assert not (tmp_path / "-").exists()


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(archive: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from cqnews.cli import query

    def broken(_args: object) -> int:  # a bug in a command, injected: no real input reaches one on purpose
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(query, "cmd_show", broken)
    line = assert_one_line_error(cqnews(["show", "1"], archive, tmp_path), 1)
    assert "ZeroDivisionError" in line and "--debug" in line
    debug = cqnews(["show", "1", "--debug"], archive, tmp_path)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`cqnews sites | head -0`: the reader is gone before the first write (a real pipe: needs a process)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(cqnews_command("sites"), stdout=write_end, stderr=subprocess.PIPE, text=True,
                                cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        os.close(write_end)
    assert result.returncode == 1 and result.stderr == ""


def test_page_text_cannot_drive_the_terminal(tmp_path: Path) -> None:
    body = "".join(f"<p>重庆市渝北区第{n}段新闻内容，记者在现场采访了许多市民和相关负责人。</p>" for n in range(8))
    page = tmp_path / "page.html"
    page.write_text(f"<html><head><meta charset='utf-8'><title>\x1b]0;owned\x07重庆\x9b2J新闻</title></head>"
                    f"<body><h1>\x1b[2J重庆新闻\x1b[31m</h1>{body}</body></html>", encoding="utf-8")
    for fmt in ("text", "jsonl"):
        result = cqnews(["extract", str(page), "--format", fmt], f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
        assert result.returncode == 0, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\x9b"), repr(result.stdout[:300])
        assert "重庆" in result.stdout


def test_an_archive_locked_by_another_writer_is_one_line_within_seconds(archive: str, tmp_path: Path) -> None:
    import sqlite3

    holder = sqlite3.connect(archive.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a crawl in the middle of a write
    try:
        started = time.monotonic()
        result = cqnews(["reindex"], archive, tmp_path, env={"CQNEWS_DB_BUSY_TIMEOUT": "1"})
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked by another process" in assert_one_line_error(result, 1)
    assert elapsed < 15


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_statement_held_up_by_a_lock_is_one_line_within_the_statement_timeout(database_url: str,
                                                                              tmp_path: Path) -> None:
    """PostgreSQL answers the connection, then another session's lock holds the query: the server cancels it
    after CQNEWS_DB_STATEMENT_TIMEOUT, and the command says so in one line."""
    assert cqnews(["db", "upgrade"], database_url, tmp_path).returncode == 0
    holder = create_engine(database_url)
    with holder.connect() as connection:
        connection.execute(text("LOCK TABLE crawl_runs IN ACCESS EXCLUSIVE MODE"))  # a transaction left open
        started = time.monotonic()
        result = cqnews(["runs"], database_url, tmp_path, env={"CQNEWS_DB_STATEMENT_TIMEOUT": "1"})
        elapsed = time.monotonic() - started
        connection.rollback()
    holder.dispose()
    assert "CQNEWS_DB_STATEMENT_TIMEOUT" in assert_one_line_error(result, 1)
    assert elapsed < 10
