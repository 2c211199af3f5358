"""Subcommands that read the archive: search, show, history, diff, export; and extract, which reads files."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cqnews.cli.common import (
    CliError,
    engine_of,
    known_site_or_error,
    ready_engine,
    settings_of,
    site_without_articles,
)
from cqnews.cli.render import (
    diff_lines,
    iso_time,
    json_text,
    local_time,
    page_summary,
    print_table,
    say,
    snippet,
    version_dict,
)

SHANGHAI_OFFSET = timedelta(hours=8)


def _filters(args: argparse.Namespace) -> Any:
    from cqnews.db.search import Filters

    return Filters(site=args.site, since=args.since, until=args.until, dates=args.dates, author=args.author,
                   source=args.source)


def _search_engine(args: argparse.Namespace) -> Any:
    """The archive's engine for a search, checked to be at the schema head (``require_head``: no Alembic unless the
    revision differs). With its settings from ``checked_settings`` a search starts without loading Scrapy either."""
    from cqnews.db.migrate import require_head

    engine = engine_of(args)
    require_head(engine)
    return engine


def _next_page_command(args: argparse.Namespace) -> str:
    """The command line that shows the page after this one."""
    import shlex

    words = ["cqnews", "search", args.text]
    for option in ("site", "author", "source"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option)]
    for option in ("since", "until"):
        value: datetime | None = getattr(args, option)
        if value is not None:
            plain = value.timetz().replace(tzinfo=None) == datetime.min.time() and value.utcoffset() == SHANGHAI_OFFSET
            words += [f"--{option}", value.date().isoformat() if plain else value.isoformat()]
    defaults = {"dates": "published", "sort": "relevance", "limit": 20, "offset": 0, "format": "table"}
    for option, default in defaults.items():
        if getattr(args, option) != default:
            words += [f"--{option}", str(getattr(args, option))]
    return shlex.join([*words, "--page", str(args.page + 1)])


def cmd_search(args: argparse.Namespace) -> int:
    import csv

    from cqnews.db.fulltext import QuerySyntaxError, outdated
    from cqnews.db.search import MatchCount, SearchIndexMissing, UnknownSite, page_total, search

    if args.limit < 1 or args.offset < 0 or args.page < 1:
        raise CliError("--limit and --page must be at least 1, --offset at least 0", 2)
    engine = _search_engine(args)
    skip = args.offset + (args.page - 1) * args.limit
    filters = _filters(args)
    with engine.connect() as session:  # Core, not an ORM session: a search never imports the ORM (start-up)
        try:
            hits = search(session, args.text, filters, sort=args.sort, limit=args.limit, offset=skip)
            total = page_total(session, args.text, filters, skip + args.limit)
        except QuerySyntaxError as exc:
            raise CliError(f"bad query: {exc}", 2) from None
        except UnknownSite as exc:
            site_without_articles(args, exc)
            hits, total = [], MatchCount(0)
        except SearchIndexMissing as exc:
            raise CliError(str(exc), 2) from None
        if outdated(session):
            print("cqnews: the search index was made by another version of its tokenisation (OpenCC or the "
                  "n-grams): results may miss articles until `cqnews reindex`", file=sys.stderr)
    records = [{"id": h.article_id, "site": h.site, "url": h.url, "title": h.title,
                "published_at": iso_time(h.published_at), "archived_at": iso_time(h.first_seen), "author": h.author,
                "source": h.source, "versions": h.version_count, "title_matches": h.score, "snippet": snippet(h.match)}
               for h in hits]
    if args.format == "json":
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]) if records else ["id"])
        writer.writeheader()
        writer.writerows(records)
    else:
        print_table([[str(h.article_id), local_time(h.published_at), h.site, (h.title or "")[:40], h.url]
                      for h in hits], ["id", "published", "site", "title", "url"])
    more_pages = total.more or skip + len(hits) < total.count
    print(page_summary(skip + 1, len(hits), total.count, total.more, args.page, args.limit,
                       _next_page_command(args) if more_pages and hits else None), file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from cqnews.db.search import get_article, paragraph_changes, version_pair
    from cqnews.db.session import make_sessionmaker

    if (args.v1 is None) != (args.v2 is None):
        raise CliError("give two versions to compare (V1 V2), or none for the last two", 2)
    engine = ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = get_article(session, args.id)
        if article is None or not article.versions:
            raise CliError(f"no article with id {args.id}")
        try:
            old, new = version_pair(article, args.v1, args.v2)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        fields = [(f, getattr(old, f), getattr(new, f)) for f in ("title", "published_at", "author", "source",
                                                                  "editor") if getattr(old, f) != getattr(new, f)]
        lines = diff_lines(paragraph_changes(old.text, new.text), context=args.context)
        if args.format == "json":
            say(json_text({"id": article.id, "url": article.url, "from": version_dict(old),
                            "to": version_dict(new),
                            "fields": {f: [iso_time(a) if isinstance(a, datetime) else a,
                                           iso_time(b) if isinstance(b, datetime) else b] for f, a, b in fields},
                            "paragraphs": [{"kind": x.kind, "text": x.text} for x in lines]}, indent=1))
            return 0
        say(f"article {article.id}: {article.url}")
        say(f"--- v{old.version_no}  {local_time(old.first_seen)}  {old.content_hash[:12]}")
        say(f"+++ v{new.version_no}  {local_time(new.first_seen)}  {new.content_hash[:12]}")
        for name, a, b in fields:
            show = local_time if name == "published_at" else (lambda v: v or "-")
            say(f"{name}: {show(a)} → {show(b)}")
        if old.version_no == new.version_no:
            say(f"(article {article.id} has one version: nothing to compare)")
        elif not any(x.kind != " " for x in lines):
            say("(the text is the same)")
        else:
            for line in lines:
                say(f"{line.kind} {line.text}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from cqnews.db import export
    from cqnews.db.fulltext import QuerySyntaxError
    from cqnews.db.search import SearchIndexMissing, UnknownSite, select_articles
    from cqnews.db.session import make_sessionmaker

    known_site_or_error(settings_of(args), args.site)
    filters = _filters(args)
    engine = ready_engine(args)
    binary = args.format == "warc"
    to_stdout = args.output == "-"
    shown = "standard output" if to_stdout else args.output
    with make_sessionmaker(engine)() as session, ExitStack() as stack:
        out = _output(stack, args.output, binary)  # opened first: an unwritable path fails before the query
        try:
            ids = select_articles(session, filters, args.query)
        except QuerySyntaxError as exc:
            raise CliError(f"bad query: {exc}", 2) from None
        except UnknownSite as exc:
            site_without_articles(args, exc)
            ids = []
        except SearchIndexMissing as exc:
            raise CliError(str(exc), 2) from None
        unfiltered = not args.query and filters == type(filters)()
        try:
            if binary:
                pages = export.page_ids(session, None if unfiltered else ids)
                count = export.write_warc(session, pages, out, gzip=args.output.endswith(".gz"),
                                          filename="cqnews.warc" if to_stdout else Path(args.output).name)
                what = "response record(s)"
            else:
                if args.format == "jsonl":
                    count = export.write_jsonl(session, ids, out)
                else:
                    count = export.write_csv(session, ids, out, escape_formulas=args.escape_formulas)
                what = "article(s)"
            out.flush()
            if not to_stdout:
                stack.close()  # closed here, so that a full disk is reported as such
        except BrokenPipeError:
            raise
        except OSError as exc:
            with suppress(OSError):
                stack.close()  # closing flushes the rest of the buffer, and fails again
            raise CliError(f"cannot write {shown}: {exc.strerror or exc}") from None
    say(f"wrote {count:,} {what} to {shown}", file=sys.stderr)
    return 0


def _output(stack: ExitStack, path: str, binary: bool) -> Any:
    """The export's output: standard output for "-", else the file, opened (or one line saying why not)."""
    if path == "-":
        return sys.stdout.buffer if binary else sys.stdout
    target = Path(path)
    if target.is_dir():
        raise CliError(f"{path} is a folder: give the name of a file to write (or - for standard output)", 2)
    if not target.parent.is_dir():
        raise CliError(f"{target.parent}: no such folder", 2)
    try:
        if binary:
            return stack.enter_context(target.open("wb"))
        return stack.enter_context(target.open("w", encoding="utf-8", newline=""))
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_show(args: argparse.Namespace) -> int:
    from cqnews.db.search import get_article
    from cqnews.db.session import make_sessionmaker

    engine = ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = get_article(session, args.id)
        if article is None:
            raise CliError(f"no article with id {args.id}")
        latest = article.versions[-1]
        if args.format == "json":
            say(json_text({"id": article.id, "site": article.site.name, "url": article.url,
                            "aliases": [a.url for a in article.aliases], "duplicate_of": article.duplicate_of,
                            "text": latest.text,
                            "versions": [version_dict(v) for v in article.versions]}, indent=1))
            return 0
        say(f"# {latest.title or '(untitled)'}")
        say(f"id {article.id} · {article.site.name} · {article.url}")
        for alias in article.aliases:
            say(f"also at {alias.url}")
        if article.duplicate_of:
            say(f"near-duplicate of article {article.duplicate_of} (the same story, first archived there)")
        say(f"published {local_time(latest.published_at)} · author {latest.author or '-'} · "
              f"source {latest.source or '-'} · editor {latest.editor or '-'}")
        say(f"archived {local_time(article.first_seen)} · last seen {local_time(article.last_seen)} · "
              f"{article.version_count} version(s)\n")
        say(latest.text)
        say()
        for v in article.versions:
            say(f"v{v.version_no}  {local_time(v.first_seen)} → {local_time(v.last_seen)}  {v.text_length} chars  "
                  f"{v.content_hash[:12]}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from cqnews.db.search import find_article_by_url, history
    from cqnews.db.session import make_sessionmaker

    engine = ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = find_article_by_url(session, args.url)
        if article is None:
            raise CliError(f"{args.url} is not in the archive")
        changes = history(article)
        if args.format == "json":
            for c in changes:
                say(json_text(version_dict(c.version) | {"changed": c.changed_fields,
                               "paragraphs_added": c.paragraphs_added,
                               "paragraphs_removed": c.paragraphs_removed}))
            return 0
        say(f"article {article.id}: {article.url}")
        rows = []
        for c in changes:
            what = "first capture" if c.version.version_no == 1 else (
                f"{', '.join(c.changed_fields) or 'metadata'}: +{c.paragraphs_added}/-{c.paragraphs_removed} ¶")
            rows.append([f"v{c.version.version_no}", local_time(c.version.first_seen), local_time(c.version.last_seen),
                         str(c.version.seen_count), c.version.content_hash[:12], str(c.version.text_length), what])
        print_table(rows, ["version", "first seen", "last seen", "seen", "hash", "chars", "changed"])
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from cqnews.extraction.article import extract_file

    failed = 0
    for path in args.files:
        if not Path(path).is_file():
            say(f"cqnews: {path}: {'a folder, not a page file' if Path(path).is_dir() else 'no such file'}",
                file=sys.stderr)
            failed += 1
            continue
        record = extract_file(path)
        if args.format == "jsonl":
            say(json_text(record), flush=True)
        else:
            say(f"== {path}\ntitle: {record.get('title')}\npublished: {record.get('published_at')}\n"
                  f"author: {record.get('author')}  source: {record.get('source')}  "
                  f"editor: {record.get('editor')}\n\n{record.get('text') or record.get('error')}\n")
    return 1 if failed else 0


