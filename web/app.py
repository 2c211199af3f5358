"""The Starlette application of `cqnews serve`: routes, the token check, error pages, JSON encoding.

Handlers are plain functions (Starlette runs them in its thread pool: the database calls block). Every
request opens its own session and only reads. Bad requests are 4xx pages (or JSON under /api/) with the reason.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cqnews.web import reading
from cqnews.web.present import iso_time, local_time, month_after

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
COOKIE = "cqnews_token"
# Archived pages are third-party HTML: nothing but our own files may run or load, and no URL (which may
# hold ?token=) leaves in a Referer.
SECURITY_HEADERS = {"content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                    "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                    "x-frame-options": "DENY"}


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["local"] = local_time
    env.filters["month_after"] = month_after
    return env


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_time(value)
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    raise TypeError(f"not JSON: {value!r}")


class JSON(JSONResponse):
    """JSON with Chinese as is and datetimes in ISO 8601, Asia/Shanghai."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_json_ready, indent=1).encode("utf-8")


class Guard:
    """Security headers on every response; with a token, every request needs it (``Authorization: Bearer``,
    ``?token=``, which also sets a cookie for the pages that follow, or that cookie), else 401."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token
        # The cookie holds a digest of the token, not the token: any character works in it, and the browser
        # never stores the token itself.
        self.cookie = hashlib.sha256(f"cqnews serve {token}".encode()).hexdigest() if token else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        from_query = request.query_params.get("token")
        if self.token is not None:
            header = request.headers.get("authorization", "")
            given = [header[7:].strip() if header.lower().startswith("bearer ") else None, from_query]
            cookie = request.cookies.get(COOKIE, "")
            if not (any(g and hmac.compare_digest(g.encode(), self.token.encode()) for g in given)
                    or (cookie and hmac.compare_digest(cookie.encode(), self.cookie.encode()))):
                page = _ENV.get_template("error.html").render(status=401, reason="this archive needs its token: "
                                                              "add ?token=… to the address, or send "
                                                              "Authorization: Bearer …", token_form=True)
                response = HTMLResponse(page, 401, headers={"www-authenticate": "Bearer", **SECURITY_HEADERS})
                await response(scope, receive, send)
                return
        set_cookie = self.token is not None and from_query is not None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if set_cookie:
                    headers.append("set-cookie", f"{COOKIE}={self.cookie}; HttpOnly; SameSite=Strict; Path=/")
            await send(message)

        await self.app(scope, receive, send_with_headers)


_ENV = templates()


def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(name).render(request=request, **context), code)


def _reader(request: Request) -> reading.Reader:
    reader: reading.Reader = request.app.state.reader
    return reader


# -- pages -----------------------------------------------------------------------------------------------

def search_page(request: Request) -> Response:
    asked = reading.search_request(request.query_params)
    reader = _reader(request)
    with reader.session() as session:
        found = reading.search_results(session, asked, reader.spiders)
    base = {k: v for k, v in request.query_params.items() if k not in ("page", "token") and v}

    def link(**changes: Any) -> str:
        """This search's address with ``changes`` (a facet, another page): the URL holds the whole search."""
        return "?" + urlencode(base | {k: str(v) for k, v in changes.items()})

    return page(request, "search.html", asked=asked, found=found, link=link)


def article_page(request: Request) -> Response:
    with _reader(request).session() as session:
        article = reading.article_of(session, request.path_params["id"])
        return page(request, "article.html", a=reading.article_record(session, article))


def diff_page(request: Request) -> Response:
    with _reader(request).session() as session:
        article = reading.article_of(session, request.path_params["id"])
        d = reading.diff_record(article, request.query_params)
        versions = [v.version_no for v in article.versions]
    view = request.query_params.get("view", "side")
    if view not in ("side", "inline"):
        raise HTTPException(400, f"view must be side or inline, not {view!r}")
    return page(request, "diff.html", d=d, versions=versions, view=view)


def raw_download(request: Request) -> Response:
    """The stored bytes of a version's capture, as an attachment (never rendered in our origin)."""
    from cqnews.db.pages import raw_page

    with _reader(request).session() as session:
        article = reading.article_of(session, request.path_params["id"])
        number = reading.params.integer(request.query_params, "v", article.version_count, 1, reading.params.MAX_ID)
        version = next((v for v in article.versions if v.version_no == number), None)
        if version is None:
            raise HTTPException(404, f"article {article.id} has no version {number}")
        raw = raw_page(session, version.page_id) if version.page_id is not None else None
    if raw is None:
        raise HTTPException(404, f"version {number} of article {article.id} has no stored page")
    return Response(raw.body, media_type="application/octet-stream", headers={
        "content-disposition": f'attachment; filename="article-{article.id}-v{number}.html"',
        "x-cqnews-original-content-type": str(raw.headers.get("content-type", raw.headers.get("Content-Type", ""))),
        "content-security-policy": "sandbox"})


def warc_download(request: Request) -> Response:
    """Every stored capture of the article (its versions' pages, its URL's and aliases'), as one gzipped WARC."""
    from cqnews.db import export

    out = io.BytesIO()
    with _reader(request).session() as session:
        article = reading.article_of(session, request.path_params["id"])
        name = f"article-{article.id}.warc.gz"
        export.write_warc(session, export.page_ids(session, [article.id]), out, gzip=True, filename=name)
    return Response(out.getvalue(), media_type="application/warc",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


def sites_page(request: Request) -> Response:
    return page(request, "sites.html", sites=reading.sites_record(_reader(request)))


def runs_page(request: Request) -> Response:
    return page(request, "runs.html", **reading.runs_record(_reader(request), request.query_params))


def metrics(request: Request) -> Response:
    from cqnews.web.metrics import metrics_text

    return PlainTextResponse(metrics_text(_reader(request)), media_type="text/plain; version=0.0.4")


# -- the JSON API ----------------------------------------------------------------------------------------

def api_search(request: Request) -> Response:
    asked = reading.search_request(request.query_params)
    if not asked["q"]:
        raise HTTPException(400, "q (the query) is required")
    reader = _reader(request)
    with reader.session() as session:
        found = reading.search_results(session, asked, reader.spiders)
    for hit in found["hits"]:
        hit["snippet"] = "".join(text for text, _ in hit["snippet"])
    return JSON({"query": asked} | found)


def api_article(request: Request) -> Response:
    with _reader(request).session() as session:
        return JSON(reading.article_record(session, reading.article_of(session, request.path_params["id"])))


def api_versions(request: Request) -> Response:
    with _reader(request).session() as session:
        article = reading.article_of(session, request.path_params["id"])
        return JSON({"id": article.id, "versions": [reading.version_record(v) for v in article.versions]})


def api_diff(request: Request) -> Response:
    with _reader(request).session() as session:
        d = reading.diff_record(reading.article_of(session, request.path_params["id"]), request.query_params)
    d.pop("rows")
    return JSON(d)


def api_sites(request: Request) -> Response:
    sites = reading.sites_record(_reader(request))
    for site in sites:
        site.pop("articles_plot")
        site.pop("runs_plot")
    return JSON({"sites": sites})


def api_runs(request: Request) -> Response:
    return JSON(reading.runs_record(_reader(request), request.query_params))


def api_status(request: Request) -> Response:
    """What `cqnews status --format json` prints, with 503 where it exits 1: a load balancer or an uptime monitor
    polls this instead of running the CLI."""
    from datetime import UTC

    text, failing = _reader(request).status(datetime.now(UTC))
    return Response(text + "\n", 503 if failing else 200, media_type="application/json",
                    headers={"cache-control": "no-store"})


# -- errors ----------------------------------------------------------------------------------------------

def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        return JSON({"error": exc.detail, "status": exc.status_code}, exc.status_code)
    return page(request, "error.html", exc.status_code, status=exc.status_code, reason=exc.detail)


async def archive_unreachable(request: Request, exc: Exception) -> Response:
    """The database went away, stopped answering or lost its tables: the archive's trouble, not the request's."""
    log.warning("%s %s: the archive cannot be read: %s", request.method, request.url.path, exc)
    reason = "the archive cannot be read right now (its database does not answer, or is not there)"
    if _wants_json(request):
        return JSON({"error": reason, "status": 503}, 503)
    return page(request, "error.html", 503, status=503, reason=reason)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    reason = "the server failed to answer this request (see its log)"
    if _wants_json(request):
        return JSON({"error": reason, "status": 500}, 500)
    return page(request, "error.html", 500, status=500, reason=reason)


def create_app(reader: reading.Reader) -> Starlette:
    int_id = "{id:int}"
    app = Starlette(routes=[
        Route("/", search_page), Route("/search", search_page),
        Route(f"/article/{int_id}", article_page), Route(f"/article/{int_id}/diff", diff_page),
        Route(f"/article/{int_id}/raw", raw_download), Route(f"/article/{int_id}/warc", warc_download),
        Route("/sites", sites_page), Route("/runs", runs_page), Route("/metrics", metrics),
        Route("/api/search", api_search), Route(f"/api/article/{int_id}", api_article),
        Route(f"/api/article/{int_id}/versions", api_versions), Route(f"/api/article/{int_id}/diff", api_diff),
        Route("/api/sites", api_sites), Route("/api/runs", api_runs), Route("/api/status", api_status),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ], exception_handlers={HTTPException: http_error, OperationalError: archive_unreachable,
                           Exception: server_error})
    app.state.reader = reader
    app.add_middleware(Guard, token=reader.token)
    return app
