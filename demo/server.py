"""Serve a demo site from a folder on 127.0.0.1, so crawls run offline, for `cqnews demo` and the tests.

A fixture site is a folder whose files sit at their URL paths (``n2/2020/0508/c1-2.html`` answers
``/n2/2020/0508/c1-2.html``; a folder answers with its ``index.html``). An optional ``site.json`` declares what
the file system cannot say, per path::

    {"routes": {"/n2/gb.html": {"content_type": "text/html; charset=GB2312"},
                "/gone.html": {"status": 404},
                "/old.html": {"status": 301, "location": "/new.html"},
                "/copy.html": {"file": "n2/2020/0508/c1-2.html"}}}

Bodies are served as stored bytes with the declared Content-Type, plus ETag/Last-Modified, answering
conditional requests with 304 like the real sites' servers do. Every request is recorded in ``hits``.
"""
from __future__ import annotations

import hashlib
import json
import mimetypes
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

_DEFAULT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".shtml": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


class FixtureSite:
    """A demo site served over real HTTP on an ephemeral loopback port; use as a context manager."""

    def __init__(self, root: Path | str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture site folder not found: {self.root}")
        self.hits: list[tuple[str, str, int]] = []  # (method, path, status)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def routes(self) -> dict[str, dict[str, Any]]:
        """Read on every request, so a test can change the site between crawls."""
        manifest = self.root / "site.json"
        if not manifest.exists():
            return {}
        return dict(json.loads(manifest.read_text("utf-8")).get("routes", {}))

    def start(self) -> FixtureSite:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fixture-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FixtureSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def resolve(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a request path (without conditional handling)."""
        route = self.routes().get(path, {})
        status = int(route.get("status", 200))
        if "location" in route:
            return status, {"Location": route["location"], "Content-Length": "0"}, b""
        file = self._file_for(route.get("file") or path)
        if file is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            return (status if status != 200 else 404), {"Content-Type": "text/html"}, body
        body = file.read_bytes()
        content_type = route.get("content_type") or _DEFAULT_TYPES.get(
            file.suffix.lower(), mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        headers = {
            "Content-Type": content_type,
            "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"',
            "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True),
        }
        return status, headers, body

    def _file_for(self, path: str) -> Path | None:
        relative = unquote(path).lstrip("/")
        candidate = (self.root / relative).resolve()
        if self.root.resolve() not in candidate.parents and candidate != self.root.resolve():
            return None  # no escaping the fixture folder
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if not candidate.is_file() or candidate.name == "site.json":
            return None
        return candidate

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(send_body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(send_body=False)

            def _answer(self, send_body: bool) -> None:
                path = urlsplit(self.path).path
                status, headers, body = site.resolve(path)
                if status == 200 and _not_modified(self.headers, headers):
                    status, body = 304, b""
                site.hits.append((self.command, self.path, status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body and body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

        return Handler


def _not_modified(request_headers: Any, response_headers: dict[str, str]) -> bool:
    etag = request_headers.get("If-None-Match")
    if etag is not None:
        return etag == response_headers.get("ETag")
    since = request_headers.get("If-Modified-Since")
    if since and "Last-Modified" in response_headers:
        try:
            return parsedate_to_datetime(response_headers["Last-Modified"]) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
