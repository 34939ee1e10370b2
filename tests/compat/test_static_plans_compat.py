"""Repeats of a static request, compared with Apache httpd: prefork-modpy's engine answers
the second and later ones itself (static plans, docs/architecture.md), so what a client
sees and what the access log says must stay Apache's on every repeat, through a change of
the file and its removal. The site is a Debian-style `<Directory>` (Options Indexes
FollowSymLinks, Require all granted), where URIs take routes and plans."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from tests.support.site import wait_until

from .conftest import Pair, Reply, raw_fetch

FRAGMENT = (
    'LogFormat "%h %l %u \\"%r\\" %>s %b \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\" '
    '%m %U%q %H \\"%{{Content-Type}}o\\"" repeats\n'
    "CustomLog {root}/../access-{port}.log repeats\n"
    "<Directory {root}/pub>\n"
    "    Options Indexes FollowSymLinks\n"
    "    AllowOverride None\n"
    "    Require all granted\n"
    "</Directory>\n"
)
FILES = {"pub/a.txt": "static bytes\n" * 30, "pub/b.css": "b { }\n"}
COMPARED = ("content-type", "content-length", "etag", "last-modified", "accept-ranges",
            "content-range")


def requests(etag: str) -> list[tuple[str, str]]:
    """(method, rest of the head) of each request, sent on one connection."""
    return [
        ("GET", "GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: first\r\n"),
        ("GET", "GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "User-Agent: a \"quoted\" \\ agent\r\nReferer: http://r.test/x?y=1\r\n"),
        ("GET", "GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        ("GET", f"GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {etag}\r\n"),
        ("GET", "GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=3-9\r\n"),
        ("HEAD", "HEAD /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        ("GET", "GET /pub/a.txt?v=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        ("GET", "GET /pub/a.txt?v=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: again\r\n"),
        ("GET", "GET /pub/b.css HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        ("GET", "GET /pub/b.css HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        ("GET", "GET /pub/a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: last\r\n"),
    ]


def exchange(port: int, sent: list[tuple[str, str]]) -> list[Reply]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        return [raw_fetch(port, (head + "\r\n").encode("latin-1"), sock=sock, method=method)
                for method, head in sent]


def log_lines(pair: Pair, port: int) -> list[str]:
    path = pair.root.parent / f"access-{port}.log"
    return path.read_text().splitlines() if path.exists() else []


def compare(pair: Pair, sent: list[tuple[str, str]]) -> list[int]:
    """Both servers get `sent`; their answers and their new log lines must be the same.
    Returns the statuses."""
    ours_before = len(log_lines(pair, pair.modpy_port))
    theirs_before = len(log_lines(pair, 0))
    ours, theirs = exchange(pair.modpy_port, sent), exchange(pair.apache.port, sent)
    for index, (mine, apache) in enumerate(zip(ours, theirs)):
        assert (mine.status, mine.body) == (apache.status, apache.body), index
        for name in COMPARED:
            assert mine.header(name) == apache.header(name), (index, name)
    assert wait_until(lambda: len(log_lines(pair, pair.modpy_port)) == ours_before + len(sent)
                      and len(log_lines(pair, 0)) == theirs_before + len(sent), timeout=10)
    assert log_lines(pair, pair.modpy_port)[ours_before:] == log_lines(pair, 0)[theirs_before:]
    return [reply.status for reply in ours]


def etag_of(pair: Pair) -> str:
    """Apache's ETag of /pub/a.txt now (its log line written before this returns)."""
    before = len(log_lines(pair, 0))
    reply = exchange(pair.apache.port, requests("")[:1])[0]
    assert wait_until(lambda: len(log_lines(pair, 0)) == before + 1, timeout=10)
    return reply.header("etag") or ""


def settle(path: Path) -> None:
    """An mtime well in the past: the validators are strong (ETag not weak)."""
    past = time.time() - 3600
    os.utime(path, (past, past))


def test_repeats_of_a_static_file_answer_and_log_as_apache(pair: Pair) -> None:
    a = pair.root / "pub" / "a.txt"
    for path in (a, pair.root / "pub" / "b.css"):
        settle(path)
    etag = etag_of(pair)
    assert compare(pair, requests(etag)) == [200, 200, 200, 304, 206, 200, 200, 200, 200, 200,
                                             200]
    # Another version of the file (a new size): the next answers are the new file's.
    a.write_text("shorter\n")
    settle(a)
    new_etag = etag_of(pair)
    assert new_etag != etag
    assert compare(pair, requests(new_etag)[:3]) == [200, 200, 200]
    a.unlink()
    assert compare(pair, requests("")[:2]) == [404, 404]
