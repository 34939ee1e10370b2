"""`BufferedLogs On` compared with Apache httpd: the same config loads in both, and once
both have stopped their access logs hold the same lines, handler requests and static repeats
(the ones prefork-modpy's engine answers itself) interleaved, each connection's in the order
it was answered. httpd holds a child's lines until 4 KiB gather or the child exits;
prefork-modpy also writes them when a worker is idle for a moment (docs/directives.md), so
only the final files are compared."""

from __future__ import annotations

import os
import signal
import socket
import time

from tests.support.site import wait_until

from .conftest import Pair, raw_fetch

FRAGMENT = (
    "BufferedLogs On\n"
    'LogFormat "%h %l %u \\"%r\\" %>s %b \\"%{{User-Agent}}i\\" %m %U%q %H" buffered\n'
    "CustomLog {root}/../access-{port}.log buffered\n"
    "<Directory {root}/pub>\n"
    "    Options Indexes FollowSymLinks\n"
    "    AllowOverride None\n"
    "    Require all granted\n"
    "</Directory>\n"
    "<Directory {root}/py>\n"
    "    AddHandler mod_python .py\n"
    "    PythonHandler hello\n"
    "</Directory>\n"
)
HELLO = """from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("hello\\n")
    return apache.OK
"""
FILES = {"pub/a.txt": "static bytes\n" * 30, "py/hello.py": HELLO}
PATHS = ["/pub/a.txt", "/py/hello.py", "/pub/a.txt", "/pub/a.txt", "/py/hello.py?x=1",
         "/pub/a.txt", "/pub/missing.txt", "/py/hello.py", "/pub/a.txt"]


def exchange(port: int, agent: str) -> list[int]:
    statuses = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for index, path in enumerate(PATHS):
            head = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"User-Agent: {agent} {index}\r\n\r\n")
            statuses.append(raw_fetch(port, head.encode(), sock=sock).status)
    return statuses


def test_both_servers_log_every_request_in_order_once_stopped(pair: Pair) -> None:
    past = time.time() - 3600  # settled validators: the repeats take static plans
    os.utime(pair.root / "pub" / "a.txt", (past, past))
    ours_log = pair.root.parent / f"access-{pair.modpy_port}.log"
    theirs_log = pair.root.parent / "access-0.log"
    for agent in ("first", "second"):
        assert exchange(pair.modpy_port, agent) == exchange(pair.apache.port, agent)
    # Apache's child still holds its lines (less than 4 KiB of them).
    assert not theirs_log.exists() or theirs_log.read_text() == ""
    os.kill(pair.modpy_pid, signal.SIGTERM)
    assert wait_until(lambda: not _alive(pair.modpy_pid), timeout=20)
    pair.apache.stop()
    ours, theirs = ours_log.read_text().splitlines(), theirs_log.read_text().splitlines()
    assert len(ours) == 2 * len(PATHS)
    # Each connection's lines in order; the two connections may have had two children,
    # whose buffers reach the file in either order.
    for agent in ("first", "second"):
        assert _of(ours, agent) == _of(theirs, agent)


def _of(lines: list[str], agent: str) -> list[str]:
    return [line for line in lines if f'"{agent} ' in line]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[-1][:1] != "Z"
