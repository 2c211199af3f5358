"""`cqnews serve`: the read-only web reader (``cqnews.web``) on the archive, served by uvicorn.

Binding anything but a loopback address without a token refuses to start: the archive would be open to the
network. The reader judges sites exactly as `cqnews status` does (its settings, its schedules, its words).
"""
from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from datetime import datetime
from typing import Any

from cqnews.cli.common import CliError, ready_engine, settings_of
from cqnews.cli.render import say


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reader_of(args: argparse.Namespace) -> Any:
    """The web reader's sources, from the command line and settings: the archive (at the schema head), the token,
    and the health judgement and wording of `cqnews status`."""
    from cqnews.cli.ops import health_report, status_report
    from cqnews.cli.render import problem_text
    from cqnews.runner import spider_names
    from cqnews.web.reading import Reader

    settings = settings_of(args)
    token = args.token or settings["CQNEWS_SERVE_TOKEN"] or None
    if not is_loopback(args.host) and not token:
        raise CliError(f"refusing to serve the archive on {args.host} without a token: pass --token or set "
                       "CQNEWS_SERVE_TOKEN (or bind 127.0.0.1)", 2)
    engine = ready_engine(args)

    def health(now: datetime) -> Any:
        return health_report(args, settings, engine, now)[3]

    def status(now: datetime) -> tuple[str, bool]:
        report = status_report(args, settings, engine, now)
        return report.json(), report.failing

    return Reader(engine=engine, health=health, describe=problem_text, status=status, token=token,
                  spiders=tuple(spider_names(settings)))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` for uvicorn to serve on, so that a port in use or an address this
    machine does not have is one line (exit 1) before anything starts."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        raise CliError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    from datetime import UTC

    import uvicorn

    from cqnews.web.app import create_app

    reader = reader_of(args)
    reader.health(datetime.now(UTC))  # a schedule file that cannot be read stops here, in one line, not per request
    sock = listening_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    say(f"cqnews: serving the archive at http://{shown}:{port}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    config = uvicorn.Config(create_app(reader), host=args.host, port=args.port, log_level=args.log_level.lower(),
                            access_log=args.log_level == "DEBUG", server_header=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        reader.engine.dispose()
    return 0
