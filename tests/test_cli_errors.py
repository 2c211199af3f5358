"""Bad input and faults at the command line: one line on stderr, no traceback, the documented exit code
(1: the job failed, 2: bad usage, a bad setting or an archive that is not ready), and nothing left behind."""
from __future__ import annotations

import argparse
import gc
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cqnews.cli.parser import build_parser
from cqnews.commands import cqnews_command
from cqnews.config import OPTIONS, Option

from helpers import assert_one_line_error, cqnews, in_process, silent_server

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
        (["db", "downgrade", "-1"], 2, "--yes"),
        (["search", "重庆", "--site", "nosuch"], 2, "unknown site nosuch; known: cbg"),
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
        (["crawl", "cbg", "--distributed", "--base-url", "http://127.0.0.1:9"], {"CQNEWS_REDIS_URL": "nope"},
         "CQNEWS_REDIS_URL='nope' is not a Redis URL"),
        (["worker", "cbg"], {"CQNEWS_REDIS_URL": "http://:secret@127.0.0.1:9/0"},
         "CQNEWS_REDIS_URL='http://:***@127.0.0.1:9/0' is not a Redis URL"),
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


@pytest.mark.parametrize("args", [["runs"], ["db", "current"], ["db", "upgrade"], ["search", "重庆"], ["status"],
                                  ["show", "1"], ["export", "--format", "jsonl", "-o", "out.jsonl"], ["reindex"],
                                  ["crawl", "cbg", "--base-url", "http://127.0.0.1:9"]])
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


@pytest.mark.parametrize(("args", "code"), [(["sites"], 1), (["sites", "--format", "json"], 1), (["runs"], 1),
                                            (["search", "重庆"], 1), (["db", "current"], 1), (["status"], 1),
                                            (["--help"], 0), (["search", "--help"], 0)])
def test_output_into_a_closed_pipe_ends_quietly(archive: str, tmp_path: Path, args: list[str], code: int) -> None:
    """`cqnews ... | head -0`: the reader is gone before the first write (a real pipe: needs a process); the
    command ends without a word (exit 1, as a failed write; 0 for --help, as argparse ends it)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(cqnews_command(*args), stdout=write_end, stderr=subprocess.PIPE, text=True,
                                cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL,
                                env=dict(os.environ) | {"CQNEWS_DATABASE_URL": archive})
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (code, "")


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


# -- every option, generated from the parser: a new option is covered without a new case ----------------------

def _commands() -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every (sub)command's words and parser, from cqnews.cli.parser."""
    found: list[tuple[list[str], argparse.ArgumentParser]] = []

    def walk(words: list[str], parser: argparse.ArgumentParser) -> None:
        subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subcommands:
            found.append((words, parser))
        for action in subcommands:
            for name, sub in action.choices.items():
                walk([*words, name], sub)

    walk([], build_parser())
    return found


# A valid value for each required argument, by its dest (a new required argument needs one here: the test says so).
VALID = {"text": "重庆", "site": "cbg", "sites": "cbg", "urls": "http://www.cbg.cn/a.html", "files": "page.html",
         "url": "http://cbg.example/a.html", "revision": "head", "file": "copy.db", "run": "1", "id": "1",
         "output": "out.jsonl", "format": None}
# Bad values of each class of input, by the name argparse knows the type by (cli.common's types).
BAD_BY_TYPE = {"integer": [HUGE, f"-{HUGE}", "abc", "1.5", ""],
               "seconds": ["nan", "inf", "-1", "1e400", "abc"],
               "parse_day": ["0001-01-01", "9999-12-31", "2020-13-01", "yesterday"],
               "http_url": ["not-a-url", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:99999"]}


def _valid_command(words: list[str], parser: argparse.ArgumentParser, replaced: argparse.Action,
                   value: str) -> list[str]:
    """``words`` with every required argument valid except ``replaced``, which gets ``value``."""
    argv, options = list(words), []
    for action in parser._actions:
        if action is replaced:
            given = value
        elif not action.required or isinstance(action, argparse._HelpAction):
            continue
        else:
            given = action.choices[0] if action.choices else VALID[action.dest]  # type: ignore[index]
        if action.option_strings:
            options += [action.option_strings[-1], given]
        else:
            argv.append(given)
    return argv + options


def _typed_cases() -> list[Any]:
    cases = []
    for words, parser in _commands():
        for action in parser._actions:
            kind = getattr(action.type, "__name__", None)
            bad = BAD_BY_TYPE.get(kind or "", []) + (["bogus"] if action.choices else [])
            name = action.option_strings[-1] if action.option_strings else action.dest
            cases += [pytest.param(_valid_command(words, parser, action, value), id=f"{' '.join(words)} {name}={value}")
                      for value in bad]
    return cases


@pytest.mark.parametrize("args", _typed_cases())
def test_every_typed_option_refuses_a_bad_value_in_one_line(tmp_path: Path, args: list[str]) -> None:
    """Usage errors: argparse stops before the command runs, so even crawl and daemon are safe in this process."""
    line = assert_one_line_error(in_process(args, tmp_path, {"CQNEWS_DATABASE_URL": f"sqlite:///{tmp_path}/a.db"}),
                                 2)
    assert "argument" in line and "--help" in line


def test_the_generated_cases_reach_every_kind_of_option() -> None:
    """A guard on the generator: it finds the options the issue named, of every type."""
    ids = {" ".join(case.values[0]) for case in _typed_cases()}
    for expected_case in (f"search 重庆 --page {HUGE}", f"runs --limit {HUGE}", f"show {HUGE}",
                          "search 重庆 --until 0001-01-01", "crawl cbg --base-url not-a-url",
                          "export --format bogus --output out.jsonl", "worker cbg --idle-timeout nan"):
        assert expected_case in ids, expected_case


def _site_cases() -> list[Any]:
    """Every command that takes a site, given one that does not exist."""
    cases = []
    for words, parser in _commands():
        for action in parser._actions:
            if action.dest in ("site", "sites"):
                cases.append(pytest.param(_valid_command(words, parser, action, "nosuch"), id=" ".join(words)))
    return cases


@pytest.mark.parametrize("args", _site_cases())
def test_every_site_argument_refuses_an_unknown_site(archive: str, tmp_path: Path, args: list[str]) -> None:
    line = assert_one_line_error(cqnews(args, archive, tmp_path, timeout=60), 2)
    assert "nosuch" in line and "known" in line  # and names the known sites


def _settings_cases() -> list[Any]:
    """Every command that takes -s, given a pair without a value and a setting with a bad one."""
    cases = []
    for words, parser in _commands():
        for action in parser._actions:
            if "--set" in action.option_strings:
                for pair, says in (("novalue", "KEY=VALUE"), ("CQNEWS_MAX_PAGES=abc", "(-s CQNEWS_MAX_PAGES)"),
                                   ("CONCURRENT_REQUESTS=0", "-s CONCURRENT_REQUESTS='0'")):
                    cases.append(pytest.param(_valid_command(words, parser, action, pair), says,
                                              id=f"{' '.join(words)} -s {pair}"))
    return cases


@pytest.mark.parametrize(("args", "says"), _settings_cases())
def test_every_set_option_refuses_a_bad_setting(archive: str, tmp_path: Path, args: list[str], says: str) -> None:
    result = cqnews(args, archive, tmp_path, timeout=60)
    assert says in assert_one_line_error(result, 2)
    assert result.stdout == ""


def _bad_value(option: Option) -> str:
    """A value of the wrong class for ``option``, by what it allows."""
    if option.allowed.startswith(("an integer", "a number")):
        return "abc"
    if option.allowed.startswith("1 or 0"):
        return "maybe"
    return "two\nlines"  # every other kind is one line of text at least


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.env], ids=lambda o: o.env)
def test_every_variable_refuses_a_bad_value_in_one_line(tmp_path: Path, option: Option) -> None:
    """Every CQNEWS_* variable cqnews reads (cqnews.config.OPTIONS), checked before any work."""
    value = _bad_value(option)
    result = cqnews(["sites"], f"sqlite:///{tmp_path / 'a.db'}", tmp_path, env={option.env: value})
    line = assert_one_line_error(result, 2)
    assert option.env in line and result.stdout == ""


# Every option that takes free text, a path, a site or a setting, by its dest: a new one must be put in a class
# here (test_every_text_option_has_a_class_of_bad_input), so that it gets that class's bad inputs.
WRITTEN_PATHS = {"output", "file"}
WRITTEN_FOLDERS = {"out"}  # made if missing (record writes SITE/ under it)
READ_PATHS = {"files", "config", "fixtures"}
OWN_CLASS = {"site", "sites", "set", "database_url"}  # the tests above: unknown sites, bad settings, bad URLs
FREE_TEXT = {"text", "author", "source", "query", "token", "host", "crawl_id", "url", "urls", "revision"}
# What a path argument must refuse in one line: a folder, a path under /proc (no file can be made there), a file
# in a folder that does not exist; read: a file that does not exist, a folder.
BAD_WRITTEN = [".", "/proc/cqnews/x", "no/such/folder/x"]
BAD_READ = ["no/such/file", "."]
BAD_FOLDER = ["/proc/cqnews/x", "archive.db"]  # cannot be made; a file (the archive of these tests)
# record fetches its URLs: from a closed port on this machine, never the site itself
EXTRA = {("record",): ["--base-url", "http://127.0.0.1:9"]}


def _text_actions() -> list[tuple[list[str], argparse.ArgumentParser, argparse.Action]]:
    return [(words, parser, action) for words, parser in _commands() for action in parser._actions
            if isinstance(action, argparse._StoreAction | argparse._AppendAction) and action.type is None
            and not action.choices]


def test_every_text_option_has_a_class_of_bad_input() -> None:
    unclassified = {f"{' '.join(words)} {action.dest}" for words, _parser, action in _text_actions()
                    if action.dest not in WRITTEN_PATHS | WRITTEN_FOLDERS | READ_PATHS | OWN_CLASS | FREE_TEXT}
    assert not unclassified, f"put these in a class of test_cli_errors: {unclassified}"


def _path_cases() -> list[Any]:
    cases = []
    for words, parser, action in _text_actions():
        bad = (BAD_WRITTEN if action.dest in WRITTEN_PATHS else BAD_READ if action.dest in READ_PATHS
               else BAD_FOLDER if action.dest in WRITTEN_FOLDERS else [])
        cases += [pytest.param(_valid_command(words, parser, action, value) + EXTRA.get(tuple(words), []),
                               id=f"{' '.join(words)} {action.dest}={value}") for value in bad]
    return cases


@pytest.mark.parametrize("args", _path_cases())
def test_every_path_argument_refuses_a_bad_path_in_one_line(archive: str, tmp_path: Path, args: list[str]) -> None:
    result = cqnews(args, archive, tmp_path, timeout=60)
    assert result.returncode in (1, 2), result.stderr
    line = assert_one_line_error(result, result.returncode)
    if "." in args and (args[0] == "extract" or "--config" in args):  # a folder for a file: said so
        assert "folder" in line, line
    assert not (tmp_path / "no").exists()  # no folder made on the way


HOSTILE_TEXT = "\x1b]0;owned\x07\x1b[2J" + "重庆" * 3000  # terminal control sequences, and long
# serve with a token of any text serves (until stopped): its token is no input error
NOT_AN_ERROR = {("serve", "token")}


def _text_cases() -> list[Any]:
    return [pytest.param(_valid_command(words, parser, action, HOSTILE_TEXT) + EXTRA.get(tuple(words), []),
                         id=f"{' '.join(words)} {action.dest}")
            for words, parser, action in _text_actions()
            if action.dest in FREE_TEXT and (words[0], action.dest) not in NOT_AN_ERROR]


@pytest.mark.parametrize("args", _text_cases())
def test_every_text_argument_takes_hostile_text_without_a_traceback(archive: str, tmp_path: Path,
                                                                    args: list[str]) -> None:
    """Control sequences and 6,000 characters: an answer or a one-line error, and nothing raw on the terminal."""
    result = cqnews(args, archive, tmp_path, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    if result.returncode:
        assert_one_line_error(result, result.returncode)
    assert not any(c in result.stdout + result.stderr for c in "\x1b\x07"), repr((result.stdout + result.stderr)[:300])


def test_every_command_leaves_the_garbage_collector_running(archive: str, tmp_path: Path) -> None:
    """``main`` pauses the cyclic collector while a command starts (cqnews/startup.py): however the command ends,
    even a crawl command stopped before its crawl, it collects again afterwards, in-process callers included."""
    assert gc.isenabled()
    for args, code in ((["crawl", "nosuch"], 2), (["sites"], 0), (["search", "重庆"], 0), (["db", "current"], 0)):
        result = in_process(args, tmp_path, {"CQNEWS_DATABASE_URL": archive})
        assert result.returncode == code, result.stderr
        assert gc.isenabled(), args
