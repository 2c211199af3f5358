"""A generated news site on 127.0.0.1 for benchmarks: N article pages of ~70 KB, in 人民网's URL patterns.

Pages are made on request, deterministically from the article number (the same URL always gives the same
bytes, so a second crawl finds the site unchanged): paragraphs drawn from the reconstructed demo sites' Chinese
text, wrapped in a page template with navigation, related-news lists and footer like the real ones.
``/GB/365401/index.html`` links to every listing page; each listing page links to 50 articles.
"""
from __future__ import annotations

import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import html as lxml_html

from cqnews.demo import SITES as DEMO_SITES

FIXTURES = DEMO_SITES  # the reconstructed demo sites (cqnews/demo/sites/README.md)
PER_LISTING = 50
ARTICLE = re.compile(r"^/n2/2020/0508/c365401-(\d+)\.html$")
LISTING = re.compile(r"^/GB/365401/index(\d+)\.html$")
CJK = re.compile(r"[\u4e00-\u9fff]")


def corpus() -> list[str]:
    """Paragraphs of real-looking Chinese news prose, from the fixture sites' article pages."""
    paragraphs: set[str] = set()
    for page in FIXTURES.glob("*/**/*.htm*"):
        try:
            tree = lxml_html.fromstring(page.read_bytes())
        except (ValueError, lxml_html.etree.ParserError):
            continue
        for p in tree.iter("p"):
            text = p.text_content().strip()
            if len(CJK.findall(text)) >= 40 and "版权" not in text and "声明" not in text:
                paragraphs.add(text)
    return sorted(paragraphs)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen() backlog, read when the socket starts listening: Python's default of 5 overflows when a crawl
    # opens its 32 connections at once, and each dropped handshake costs the crawl a 1-3 s SYN retransmit, or a
    # 30 s download timeout when the server gives up on it.
    request_queue_size = 256


class GeneratedSite:
    def __init__(self, articles: int) -> None:
        self.articles = articles
        self.paragraphs = corpus()
        self.requests = 0
        self._server = _Server(("127.0.0.1", 0), self._handler())

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def __enter__(self) -> GeneratedSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def listing_pages(self) -> int:
        return -(-self.articles // PER_LISTING)

    def page(self, path: str) -> bytes | None:
        if path in ("/", "/GB/365401/", "/GB/365401/index.html"):  # "/": trafilatura's crawler starts there
            links = "".join(f'<li><a href="/GB/365401/index{k}.html">第{k}页</a></li>'
                            for k in range(1, self.listing_pages() + 1))
            return _wrap("重庆要闻", f"<ul class='page'>{links}</ul>")
        if m := LISTING.match(path):
            k = int(m[1])
            first = (k - 1) * PER_LISTING
            ids = range(first, min(first + PER_LISTING, self.articles))
            links = "".join(f'<li><a href="/n2/2020/0508/c365401-{i}.html">{self.title(i)}</a></li>' for i in ids)
            return _wrap("重庆要闻", f"<ul class='list_16'>{links}</ul>")
        if (m := ARTICLE.match(path)) and int(m[1]) < self.articles:
            return self.article(int(m[1]))
        return None

    def content_type(self, path: str) -> str:
        """The Content-Type of a page this site serves (the generated pages are UTF-8)."""
        return "text/html; charset=utf-8"

    def title(self, i: int) -> str:
        rng = random.Random(i * 7919)
        return rng.choice(self.paragraphs)[:24].rstrip("，。；：") + f"（{i}）"

    def _paragraphs(self, rng: random.Random) -> list[str]:
        """The body paragraphs of an article, drawn from its own random stream (article() goes on using it)."""
        return [rng.choice(self.paragraphs) for _ in range(rng.randint(6, 14))]

    def known_text(self, i: int) -> str:
        """The text a perfect extractor returns for article i: its body paragraphs (the editor line excluded)."""
        return "\n".join(self._paragraphs(random.Random(i)))

    def article(self, i: int) -> bytes:
        rng = random.Random(i)
        body = "".join(f"<p>{p}</p>" for p in self._paragraphs(rng))
        related = "".join(f'<li><a href="/n2/2020/0508/c365401-{rng.randrange(self.articles)}.html">'
                          f"{self.title(rng.randrange(self.articles))}</a></li>" for _ in range(500))
        content = (
            f'<h1>{self.title(i)}</h1><div class="box01"><div class="fl">2020年05月08日{8 + i % 12:02d}:{i % 60:02d}'
            f'  来源：<a href="http://cq.people.com.cn/">人民网-重庆频道</a></div></div>'
            f'<div class="rm_txt_con" id="rwb_zw">{body}<p>（责编：胡虹、刘政宁）</p></div>'
            f'<div class="edit">分享到：微信 微博</div><h2>相关新闻</h2><ul class="list_14">{related}</ul>'
        )
        return _wrap(self.title(i), content)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                site.requests += 1
                path = self.path.split("?", 1)[0]
                body = b"User-agent: *\nAllow: /\n" if path == "/robots.txt" else site.page(path)
                status = 200 if body is not None else 404
                body = body if body is not None else b"not found"
                self.send_response(status)
                ctype = "text/plain" if path == "/robots.txt" or status == 404 else site.content_type(path)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _wrap(title: str, content: str) -> bytes:
    nav = "".join(f'<a href="http://www.people.com.cn/channel{k}/">栏目{k}</a>' for k in range(40))
    footer = "<p>人民网版权所有，未经书面授权禁止使用</p><p>Copyright © 1997-2020 by www.people.com.cn</p>"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}--重庆频道--人民网</title></head>"
            f"<body><div class='nav'>{nav}</div><div class='path'>当前位置：人民网&gt;&gt;重庆频道</div>"
            f"<div class='main'>{content}</div><div id='copyright'>{footer}</div></body></html>").encode()
