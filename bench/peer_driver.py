"""Runs inside a peer's own virtualenv (made by bench/peers.py): crawl the generated site with one tool and
write one JSON line ``{"url": ..., "text": ...}`` per article it extracted. Does not import cqnews.

Usage: python peer_driver.py news-please|trafilatura BASE_URL OUT.jsonl LISTINGS
"""
from __future__ import annotations

import json
import re
import socket
import sys
import urllib.parse
import urllib.request

NAME = "cq.bench.test"  # the host name trafilatura's crawler is given for the loopback site
ARTICLE = re.compile(r"/n2/\d{4}/\d{4}/c\d+-\d+\.html$")


def news_please(base: str, listings: int) -> dict[str, str]:
    """news-please has no link-following crawler in library mode: the listing pages' links are read with urllib
    and a regex (cheap), then each article is fetched and extracted by ``NewsPlease.from_url``, one at a time."""
    from newsplease import NewsPlease

    urls: list[str] = []
    for k in range(1, listings + 1):
        page = urllib.request.urlopen(f"{base}/GB/365401/index{k}.html", timeout=30).read().decode()
        urls += [base + href for href in re.findall(r'href="(/n2/[^"]+)"', page) if ARTICLE.search(href)]
    out = {}
    for url in dict.fromkeys(urls):
        article = NewsPlease.from_url(url, request_args={"timeout": 30}, fetch_images=False)
        out[url] = (getattr(article, "maintext", None) or "") if article else ""
    return out


def trafilatura_crawl(base: str, listings: int) -> dict[str, str]:
    """trafilatura's own focused crawler from the channel page (it visits the listing pages and collects the
    links), then ``fetch_url`` + ``extract`` on every article link it found."""
    from trafilatura import extract, fetch_url
    from trafilatura.settings import use_config
    from trafilatura.spider import focused_crawler

    # courlan drops links whose host is an IP with a port, so the site is named here and the name resolved to
    # the loopback server in this process only (an /etc/hosts line would do the same).
    host, port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
    resolve = socket.getaddrinfo
    socket.getaddrinfo = lambda name, *a, **k: resolve(host if name == NAME else name, *a, **k)  # type: ignore
    base = f"http://{NAME}:{port}"
    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "off")  # 2.3 refuses loopback addresses by default
    config.set("DEFAULT", "SLEEP_TIME", "0")  # no politeness delay, as the cqnews crawl is run here
    # From the site's root: the crawler keeps only links under its start URL, and the articles are not under the
    # channel's folder. It visits the root and the listing pages (navigation pages go first).
    todo, known = focused_crawler(f"{base}/", max_seen_urls=listings + 2,
                                  max_known_urls=10**6, config=config)
    out = {}
    for url in sorted(u for u in known if ARTICLE.search(u)):
        page = fetch_url(url, config=config)
        out[url] = (extract(page, url=url, config=config) or "") if page else ""
    return out


def main() -> int:
    tool, base, target, listings = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    texts = news_please(base, listings) if tool == "news-please" else trafilatura_crawl(base, listings)
    with open(target, "w", encoding="utf-8") as f:
        for url, text in texts.items():
            f.write(json.dumps({"url": url, "text": text}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
