"""The web reader (`cqnews serve`, cqnews.web) over HTTP: the real uvicorn server on a free loopback port, on an
archive built once per backend (tests/helpers.py ``web_archive``: synthetic articles, a second version, a title
holding a script tag, three runs), read through the JSON API, the pages, /metrics, the downloads; bad requests
are 4xx with their reason; a token guards every request. The browser's view is tests/test_web_browser.py."""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cqnews.cli.parser import build_parser
from cqnews.cli.serve import reader_of
from cqnews.web.app import create_app

from helpers import BACKENDS, HOSTILE_TITLE, assert_one_line_error, cqnews, postgres_database, web_database

TOKEN = "t0ken-for-tests"


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a thread; its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The reader of one archive per backend, served twice: open (``url``) and with a token (``guarded``)."""
    with contextlib.ExitStack() as stack:
        database, ids = stack.enter_context(web_database(request.param, tmp_path_factory.mktemp("web")))
        reader = reader_of(build_parser().parse_args(["--database-url", database, "serve"]))
        stack.callback(reader.engine.dispose)
        guarded = reader_of(build_parser().parse_args(["--database-url", database, "serve", "--token", TOKEN]))
        stack.callback(guarded.engine.dispose)
        url = stack.enter_context(serving(create_app(reader)))
        yield {"url": url, "guarded": stack.enter_context(serving(create_app(guarded))), "database": database,
               "backend": request.param, **ids}


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """(status, headers, body) of a GET, 4xx and 5xx included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def get_json(url: str) -> Any:
    status, headers, body = fetch(url)
    assert status == 200, body[:500]
    assert headers["content-type"].startswith("application/json")
    return json.loads(body)


def q(text: str) -> str:
    return urllib.parse.quote(text)


def test_search_api_finds_every_article_that_holds_the_words_with_the_total_and_facets(site: dict[str, Any]) -> None:
    found = get_json(f"{site['url']}/api/search?q={q('重庆')}")
    assert found["total"] == 6 and not found["more"] and found["pages"] == 1
    assert {h["site"] for h in found["hits"]} == {"cbg", "cq_people"}
    assert found["facets"]["sites"] == [["cbg", 4], ["cq_people", 2]]
    assert found["facets"]["counted"] == 6 and found["facets"]["partial"] is False
    assert dict(found["facets"]["months"]) == {"2020-06": 2, "2020-05": 4}
    assert all("重" in h["snippet"] + h["title"] for h in found["hits"])
    assert sum("重庆" in h["snippet"] for h in found["hits"]) == 5  # b1 has it in its title alone
    assert all(h["published_at"].endswith("+08:00") for h in found["hits"])
    second = get_json(f"{site['url']}/api/search?q={q('重庆')}&per_page=3&page=2&site=cbg")
    assert (second["total"], second["pages"], len(second["hits"])) == (4, 2, 1)
    narrowed = get_json(f"{site['url']}/api/search?q={q('重庆 -大学')}&site=cbg&since=2020-05-01&until=2020-06-01")
    assert [h["title"] for h in narrowed["hits"]] == ["雙城經濟圈：重慶與成都攜手"]
    not_crawled_yet = get_json(f"{site['url']}/api/search?q={q('重庆')}&site=cq_gov")  # a spider's site, no article
    assert (not_crawled_yet["total"], not_crawled_yet["hits"]) == (0, [])


def test_search_page_marks_the_words_pages_through_the_total_and_escapes_titles(site: dict[str, Any]) -> None:
    status, _, body = fetch(f"{site['url']}/search?q={q('重庆')}&per_page=4")
    page = body.decode()
    assert status == 200
    assert "results 1–4 of 6 · page 1 of 2" in page
    assert "<mark>重庆</mark>" in page
    assert "page=2" in page and "q=%E9%87%8D%E5%BA%86" in page  # the next page's link holds the query
    assert "site=cbg" in page  # the site facet narrows the same search
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>市民</b>" not in page


def test_article_api_gives_fields_versions_and_aliases_in_shanghai_time(site: dict[str, Any]) -> None:
    article = get_json(f"{site['url']}/api/article/{site['changed']}")
    assert article["title"] == "渝北:努力成为新动力源（更新）"
    assert article["site"] == "cq_people" and article["author"] == "胡虹"
    assert article["published_at"] == "2020-05-08T09:00:00+08:00"
    assert [v["version"] for v in article["versions"]] == [1, 2]
    assert article["versions"][1]["changed"] == ["title", "text"]
    versions = get_json(f"{site['url']}/api/article/{site['changed']}/versions")
    assert [v["content_hash"] for v in versions["versions"]] == [v["content_hash"] for v in article["versions"]]


def test_diff_between_two_versions_as_json_and_as_side_by_side_and_inline_pages(site: dict[str, Any]) -> None:
    d = get_json(f"{site['url']}/api/article/{site['changed']}/diff?a=1&b=2")
    assert d["fields"]["title"] == ["渝北:努力成为新动力源", "渝北:努力成为新动力源（更新）"]
    assert d["title_marked"] == {"old": [["渝北:努力成为新动力源", ""]],
                                 "new": [["渝北:努力成为新动力源", ""], ["（更新）", "ins"]]}
    assert [p["kind"] for p in d["paragraphs"]] == ["replace", "equal", "insert"]
    assert d["paragraphs"][2]["new"] == ["记者从渝北区获悉，新区规划已获批复。"]
    _, _, side = fetch(f"{site['url']}/article/{site['changed']}/diff?a=1&b=2")
    assert "<ins>，加快建设临空经济示范区</ins>" in side.decode()
    assert ('<tr id="title-diff"><td>title</td><td>渝北:努力成为新动力源</td>'
            '<td>渝北:努力成为新动力源<ins>（更新）</ins></td></tr>') in side.decode()  # the title's change, marked
    assert '<tr class="added"><td></td><td><ins>记者从渝北区获悉，新区规划已获批复。</ins>' in side.decode()
    _, _, inline = fetch(f"{site['url']}/article/{site['changed']}/diff?a=1&b=2&view=inline")
    assert ('<p class="changed">渝北区将对标“两中心两地”战略目标<ins>，加快建设临空经济示范区</ins>。</p>'
            in inline.decode())


def test_downloads_give_the_stored_page_as_an_attachment_and_a_warc_of_the_article(site: dict[str, Any]) -> None:
    from warcio.archiveiterator import ArchiveIterator

    status, headers, body = fetch(f"{site['url']}/article/{site['changed']}/raw?v=1")
    assert status == 200 and headers["content-disposition"].startswith("attachment")
    assert headers["content-security-policy"] == "sandbox"
    assert "渝北区将对标" in body.decode() and "临空经济" not in body.decode()
    status, headers, body = fetch(f"{site['url']}/article/{site['changed']}/warc")
    assert status == 200 and headers["content-type"] == "application/warc"
    gzip.decompress(body)  # a gzipped WARC
    records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
               for r in ArchiveIterator(io.BytesIO(body))]
    responses = [r for r in records if r[0] == "response"]
    assert [url for _, url, _ in responses] == ["http://cq_people.example.cn/a1.html"] * 2
    assert any("临空经济".encode() in payload for _, _, payload in responses)


def test_sites_judge_like_cqnews_status_and_plot_each_site(site: dict[str, Any]) -> None:
    sites = {s["site"]: s for s in get_json(f"{site['url']}/api/sites")["sites"]}
    result = cqnews(["status", "--format", "json"], site["database"], Path.cwd())
    status = {s["site"]: s["verdict"] for s in json.loads(result.stdout)["sites"]}
    assert {name: s["verdict"] for name, s in sites.items()} == status
    assert sites["cbg"]["verdict"] == "errors: the last crawl failed (killed)" and not sites["cbg"]["ok"]
    assert sites["cq_people"]["ok"] and sites["cq_people"]["articles"] == 3
    assert sites["cq_people"]["runs"][0]["failure_rate"] == round(1 / 13, 4)
    assert sum(d["updated"] for d in sites["cq_people"]["days"]) == 1
    _, _, body = fetch(f"{site['url']}/sites")
    page = body.decode()
    assert page.count('<svg class="plot"') == 2 * len(sites)
    assert "errors: the last crawl failed (killed)" in page


def test_runs_show_recent_and_running_crawls_with_their_counters(site: dict[str, Any]) -> None:
    listed = get_json(f"{site['url']}/api/runs")
    assert [r["status"] for r in listed["runs"]] == ["running", "failed", "finished"]
    assert [r["site"] for r in listed["running"]] == ["cbg"]
    assert listed["runs"][2] | {"pages": 12, "new": 3, "updated": 1, "errors": 1} == listed["runs"][2]
    _, _, body = fetch(f"{site['url']}/runs")
    assert '<meta http-equiv="refresh" content="10">' in body.decode()  # live while a crawl runs, without script


def test_metrics_in_prometheus_text_format(site: dict[str, Any]) -> None:
    status, headers, body = fetch(f"{site['url']}/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
               for line in body.decode().splitlines() if line and not line.startswith("#")}
    assert samples['cqnews_articles{site="cbg"}'] == 4 and samples['cqnews_articles{site="cq_people"}'] == 3
    assert samples['cqnews_runs{status="running"}'] == 1 and samples['cqnews_runs{status="failed"}'] == 1
    assert samples['cqnews_last_success_timestamp_seconds{site="cq_people"}'] > time.time() - 3600
    assert samples['cqnews_site_healthy{site="cq_people"}'] == 1 and samples['cqnews_site_healthy{site="cbg"}'] == 0


BAD_REQUESTS = [
    ("/search?q=%22", 400, "bad query: unbalanced"),
    ("/search?q=x&page=-1", 400, "page must be from 1 to 1000000, not -1"),
    ("/search?q=x&page=abc", 400, "page must be an integer"),
    ("/search?q=x&since=2020-13-01", 400, "since must be a date"),
    ("/search?q=x&site=nowhere", 400, "unknown site nowhere; known: cbg, cq_gov, cq_people, cqcb, cqnews, xinhua_cq"),
    ("/search?q=x&sort=best", 400, "sort must be one of relevance, date"),
    ("/article/999", 404, "no article with id 999"),
    ("/article/99999999999", 400, "id must be from 1 to 2147483647"),
    ("/article/1/diff?a=1&b=9", 404, "has no version 9"),
    ("/article/1/diff?a=1", 400, "give both versions"),
    ("/article/1/diff?view=sideways", 400, "view must be side or inline"),
    ("/article/1/raw?v=5", 404, "has no version 5"),
    ("/nowhere", 404, "Not Found"),
]


@pytest.mark.parametrize(("path", "code", "reason"), BAD_REQUESTS, ids=[p for p, _, _ in BAD_REQUESTS])
def test_a_bad_request_gets_a_4xx_page_with_its_reason(site: dict[str, Any], path: str, code: int,
                                                        reason: str) -> None:
    status, headers, body = fetch(site["url"] + path)
    assert (status, headers["content-type"]) == (code, "text/html; charset=utf-8")
    assert reason in body.decode()


def test_api_errors_are_json_with_the_reason(site: dict[str, Any]) -> None:
    status, _, body = fetch(f"{site['url']}/api/search?q=%22")
    assert status == 400 and json.loads(body)["error"].startswith("bad query")
    status, _, body = fetch(f"{site['url']}/api/article/999")
    assert status == 404 and json.loads(body) == {"error": "no article with id 999", "status": 404}
    status, _, body = fetch(f"{site['url']}/api/search")
    assert status == 400 and "q (the query) is required" in json.loads(body)["error"]


def test_every_page_forbids_scripts_of_others_and_leaks_no_address(site: dict[str, Any]) -> None:
    _, headers, body = fetch(f"{site['url']}/article/{site['hostile']}")
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["referrer-policy"] == "no-referrer"
    assert HOSTILE_TITLE not in body.decode() and "&lt;script&gt;alert(1)&lt;/script&gt;" in body.decode()


def test_with_a_token_every_request_needs_it(site: dict[str, Any]) -> None:
    base = site["guarded"]
    for path in ("/", "/api/sites", "/api/status", "/metrics", "/static/style.css", f"/article/{site['changed']}/raw"):
        status, headers, _ = fetch(base + path)
        assert status == 401 and headers["www-authenticate"] == "Bearer", path
    assert fetch(base + "/api/runs", {"Authorization": "Bearer wrong"})[0] == 401
    assert fetch(base + "/api/runs", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert fetch(base + "/api/status", {"Authorization": f"Bearer {TOKEN}"})[0] == 503  # cbg's crawl was killed
    status, headers, _ = fetch(f"{base}/sites?token={TOKEN}")
    assert status == 200 and headers["set-cookie"].endswith("; HttpOnly; SameSite=Strict; Path=/")
    cookie = headers["set-cookie"].split(";")[0]
    assert TOKEN not in cookie  # the browser keeps a digest, not the token
    assert fetch(base + "/metrics", {"Cookie": cookie})[0] == 200
    assert fetch(base + "/metrics", {"Cookie": f"cqnews_token={TOKEN}"})[0] == 401


@pytest.mark.parametrize("backend", BACKENDS)
def test_api_status_is_what_cqnews_status_prints_with_503_where_it_exits_1(backend: str, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An uptime monitor's view: a healthy archive (a good crawl of cq_people, nothing scheduled) is 200; the same
    archive judged against a schedule file that names cq_people, with no daemon to crawl it, is 503. Either way the
    body is the JSON `cqnews status --format json` prints, judged from the same folder and file."""
    from cqnews.db import runs as run_rows
    from cqnews.db.migrate import upgrade
    from cqnews.db.session import make_engine
    from cqnews.stats import REQUESTS

    monkeypatch.chdir(tmp_path)  # the server and the CLI judge the same schedule files, from the same folder
    (tmp_path / "unscheduled.toml").write_text('default = "off"\n', "utf-8")
    (tmp_path / "scheduled.toml").write_text('default = "off"\n[sites.cq_people]\ncron = "7 */3 * * *"\n', "utf-8")
    with contextlib.ExitStack() as stack:
        database = f"sqlite:///{tmp_path / 'archive.db'}" if backend == "sqlite" else stack.enter_context(
            contextlib.contextmanager(postgres_database)())
        engine = make_engine(database)
        stack.callback(engine.dispose)
        upgrade(engine)
        run = run_rows.start_run(engine, "cq_people", run_rows.RunTrigger.MANUAL, 4242)
        run_rows.finish_run(engine, run, run_rows.RunStatus.FINISHED, "finished",
                            {"pages_fetched": 12, "articles_new": 3, "errors": 0}, {REQUESTS: 12})
        for config, code, exit_code in ((["--config", "unscheduled.toml"], 200, 0),
                                        (["--config", "scheduled.toml"], 503, 1)):
            reader = reader_of(build_parser().parse_args(["--database-url", database, "serve", *config]))
            stack.callback(reader.engine.dispose)
            url = stack.enter_context(serving(create_app(reader)))
            status, headers, body = fetch(f"{url}/api/status")
            printed = cqnews(["status", *config, "--format", "json"], database, tmp_path)
            assert (status, printed.returncode) == (code, exit_code), printed.stdout
            assert headers["content-type"].startswith("application/json")
            assert json.loads(body) == json.loads(printed.stdout)
            answer = json.loads(body)
            assert [(s["site"], s["ok"]) for s in answer["sites"]] == [("cq_people", True)]
            assert answer["unattended"] == ([] if code == 200 else ["cq_people"])


def test_serve_refuses_a_network_address_without_a_token(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'archive.db'}"
    result = cqnews(["serve", "--host", "0.0.0.0"], database, tmp_path, env={"CQNEWS_SERVE_TOKEN": ""})
    line = assert_one_line_error(result, 2)
    assert "refusing to serve the archive on 0.0.0.0 without a token" in line
    assert not (tmp_path / "archive.db").exists()  # refused before anything was opened


def test_an_archive_that_goes_away_is_a_503_not_a_crash(tmp_path: Path) -> None:
    with web_database("sqlite", tmp_path) as (database, _):
        reader = reader_of(build_parser().parse_args(["--database-url", database, "serve"]))
        try:
            with serving(create_app(reader)) as url:
                assert fetch(url + "/runs")[0] == 200
                reader.engine.dispose()
                for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
                    (tmp_path / name).unlink(missing_ok=True)
                status, _, body = fetch(url + "/api/runs")
                assert status == 503 and "the archive cannot be read right now" in json.loads(body)["error"]
                assert fetch(url + "/runs")[0] == 503
        finally:
            reader.engine.dispose()


def test_serve_on_a_port_in_use_is_one_line(site: dict[str, Any], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cqnews(["serve", "--port", str(port)], site["database"], tmp_path)
    assert f"cannot listen on 127.0.0.1 port {port}: Address already in use" in assert_one_line_error(result, 1)


def test_the_sites_page_counts_its_month_through_the_first_seen_indexes_of_0010(database_url: str) -> None:
    """0010 indexes ``first_seen`` so the sites page's month is read by range, not by reading every article;
    the indexes go down and up again with the archive kept, and SQLite uses them for the page's own queries."""
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy import event, inspect
    from sqlalchemy.orm import Session

    from cqnews.db import migrate, timeline
    from cqnews.db.archive import Archive
    from cqnews.db.session import make_engine

    from helpers import URL, make_record

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    Archive(engine).record(make_record(URL, at=datetime.now(UTC) - timedelta(days=1)))
    wanted = {("articles", "ix_articles_first_seen"), ("article_versions", "ix_article_versions_first_seen")}

    def indexes() -> set[tuple[str, str]]:
        found = inspect(engine)
        return {(t, i["name"]) for t in ("articles", "article_versions") for i in found.get_indexes(t)} & wanted

    assert indexes() == wanted
    migrate.downgrade(engine, "0009_daemon_control")
    assert indexes() == set()
    migrate.upgrade(engine)
    assert indexes() == wanted
    command.check(migrate.alembic_config(engine))

    statements: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((sql, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    with Session(engine) as session:
        days = timeline.articles_per_day(session, datetime.now(UTC) - timedelta(days=30))
    event.remove(engine, "before_cursor_execute", keep)
    assert sum(d.new for counts in days.values() for d in counts) == 1
    if engine.dialect.name == "sqlite":  # PostgreSQL's planner rightly prefers a scan of one row (bench/README.md)
        with engine.connect() as conn:
            plans = [" ".join(str(r) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters))
                     for sql, parameters in statements if "first_seen" in sql]
        assert len(plans) == 2
        assert "ix_articles_first_seen" in plans[0] and "ix_article_versions_first_seen" in plans[1], plans
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_search_page_warns_while_the_index_needs_a_reindex(backend: str, tmp_path: Path) -> None:
    """An index made by another tokenisation (an upgrade changed OpenCC or the n-grams) may miss articles: the
    search page and its API say so, as `cqnews search` does, until `cqnews reindex` has run."""
    from sqlalchemy import text, update

    from cqnews.db.models import SearchDoc
    from cqnews.db.session import make_engine

    with web_database(backend, tmp_path) as (database, _):
        engine = make_engine(database, create=False)
        with engine.begin() as conn:  # the oldest row, as an index made before the upgrade would hold
            first = conn.execute(text("SELECT min(article_id) FROM search_docs")).scalar_one()
            conn.execute(update(SearchDoc).where(SearchDoc.article_id == first).values(segmenter="ngram 1-2 v0"))
        engine.dispose()
        reader = reader_of(build_parser().parse_args(["--database-url", database, "serve"]))
        try:
            with serving(create_app(reader)) as url:
                warned = cqnews(["search", "重庆"], database, tmp_path)
                assert "cqnews reindex" in warned.stderr
                assert get_json(f"{url}/api/search?q={q('重庆')}")["index_outdated"] is True
                _, _, body = fetch(f"{url}/search?q={q('重庆')}")
                assert 'id="index-outdated"' in body.decode() and "cqnews reindex" in body.decode()
                assert cqnews(["reindex"], database, tmp_path).returncode == 0
                assert get_json(f"{url}/api/search?q={q('重庆')}")["index_outdated"] is False
                _, _, body = fetch(f"{url}/search?q={q('重庆')}")
                assert 'id="index-outdated"' not in body.decode() and "<mark>重庆</mark>" in body.decode()
        finally:
            reader.engine.dispose()


def test_facets_of_more_matches_than_they_count_say_so(site: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Facets count the first FACET_CAP matches (10,000: a common word's all would take seconds): past it, the
    page says how many it counted. Here the cap is 4 of the 6 matches of 重庆."""
    from cqnews.web import reading

    monkeypatch.setattr(reading, "FACET_CAP", 4)
    found = get_json(f"{site['url']}/api/search?q={q('重庆')}")
    assert found["total"] == 6 and found["facets"]["partial"] is True and found["facets"]["counted"] == 4
    assert sum(n for _, n in found["facets"]["months"]) == 4
    _, _, body = fetch(f"{site['url']}/search?q={q('重庆')}")
    assert '<p class="hint" id="facets-partial">counted over the first 4 matches only: there are more</p>' in (
        body.decode())
