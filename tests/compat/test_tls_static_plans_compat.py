"""Repeats of a static request over HTTPS, compared with Apache httpd + mod_ssl: prefork-modpy's
engine answers the second and later ones on a TLS connection itself (static plans, keyed on
the SNI name too), so each answer and access line must stay Apache's, through a change of
the file. Same certificates as tests/compat/test_tls_compat.py; a Debian-style
`<Directory>` (Options Indexes FollowSymLinks, Require all granted)."""

from __future__ import annotations

import os
import ssl
import time

from tests.compat import test_tls_compat as base
from tests.support.site import wait_until

from .conftest import Pair

APACHE_MODULES = base.APACHE_MODULES
FILES = {**base.FILES, "pub/a.txt": "static over tls\n" * 40}
FRAGMENT = base.FRAGMENT + (
    'LogFormat "%h %l %u \\"%r\\" %>s %b \\"%{{User-Agent}}i\\" %m %U%q %H %p" tlsrepeats\n'
    "CustomLog {root}/../access-{port}.log tlsrepeats\n"
    "<Directory {root}/pub>\n"
    "    Options Indexes FollowSymLinks\n"
    "    AllowOverride None\n"
    "    Require all granted\n"
    "</Directory>\n"
)
COMPARED = ("content-type", "content-length", "etag", "last-modified", "accept-ranges")


def exchange(port: int, agents: list[str]) -> list[tuple[int, dict[str, str], bytes]]:
    """GET /pub/a.txt once per agent on one TLS connection (SNI and Host a.test)."""
    ctx = ssl.create_default_context(cadata=base.CA_PEM)
    conn = base.SNIConnection(port, ctx)
    answers = []
    try:
        for agent in agents:
            conn.request("GET", "/pub/a.txt", headers={"Host": "a.test", "User-Agent": agent})
            response = conn.getresponse()
            headers = {name: response.getheader(name) or "" for name in COMPARED}
            answers.append((response.status, headers, response.read()))
    finally:
        conn.close()
    return answers


def log_lines(pair: Pair, port: int) -> list[str]:
    path = pair.root.parent / f"access-{port}.log"
    lines = path.read_text().splitlines() if path.exists() else []
    # %p is each server's own port
    return [line.replace(f" {pair.modpy_port}", " PORT").replace(f" {pair.apache.port}", " PORT")
            for line in lines]


def compare(pair: Pair, agents: list[str]) -> None:
    ours_before, theirs_before = len(log_lines(pair, pair.modpy_port)), len(log_lines(pair, 0))
    ours, theirs = exchange(pair.modpy_port, agents), exchange(pair.apache.port, agents)
    assert ours == theirs
    assert all(status == 200 for status, _, _ in ours)
    assert wait_until(lambda: len(log_lines(pair, pair.modpy_port)) == ours_before + len(agents)
                      and len(log_lines(pair, 0)) == theirs_before + len(agents), timeout=10)
    assert log_lines(pair, pair.modpy_port)[ours_before:] == log_lines(pair, 0)[theirs_before:]


def settle(pair: Pair) -> None:
    past = time.time() - 3600  # strong validators: the repeats take plans
    os.utime(pair.root / "pub" / "a.txt", (past, past))


def test_tls_repeats_of_a_static_file_answer_and_log_as_apache(pair: Pair) -> None:
    settle(pair)
    compare(pair, ["first", 'a "quoted" agent', "third", "fourth", "fifth"])
    (pair.root / "pub" / "a.txt").write_text("another version\n")
    settle(pair)
    compare(pair, ["new one", "new two", "new three"])
    assert "static plan: the engine answers /pub/a.txt" not in pair.modpy_errors()  # info
