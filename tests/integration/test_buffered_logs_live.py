"""`BufferedLogs On` (mod_log_config) through the whole server: each worker gathers its access
lines and writes them a buffer at a time, yet every answered request is in the log, in the
order one connection's requests were answered (the engine's static-plan lines and Python's
share one buffer), after an idle moment (the worker's tick), after a graceful stop and
across a log rotation. The directive is checked like httpd's flag. Every wait is bounded."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.support.site import SiteFactory, config_test, wait_until
from tests.support.wire import Client

HANDLER = """from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("dynamic\\n")
    return apache.OK
"""
SITE = """
ServerName www.example.test
BufferedLogs On
LogFormat "%>s %m %U%q %{{X-N}}i" short
CustomLog {root}/../access.log short
<Directory {root}/py>
    AddHandler mod_python .py
    PythonHandler hello
</Directory>
"""
FILES = {"static/a.txt": "static bytes\n" * 20, "py/hello.py": HANDLER}


def start(tmp_path_factory, workers: int, name: str = "buffered"):
    factory = SiteFactory(tmp_path_factory.mktemp(name))
    server = factory.start(SITE, FILES, workers=workers)
    settled = time.time() - 3600  # validators settled: the static file gets a plan
    os.utime(server.root / "static" / "a.txt", (settled, settled))
    return factory, server


@pytest.fixture
def one_worker(tmp_path_factory):
    factory, server = start(tmp_path_factory, 1)
    yield server
    factory.close()


def access_lines(server, name: str = "access.log") -> list[str]:
    path = server.root.parent / name
    return path.read_text().splitlines() if path.exists() else []


def send(server, paths: list[str], tag: str) -> None:
    """Each path on one keep-alive connection, numbered in X-N as `tag`-index."""
    with Client(server.port) as client:
        for index, path in enumerate(paths):
            r = client.request(f"GET {path} HTTP/1.1\r\nHost: www.example.test\r\n"
                               f"X-N: {tag}-{index}\r\n\r\n".encode())
            assert r.status == 200, (path, r.status)


def test_lines_reach_the_file_in_answer_order_without_a_stop(one_worker):
    """Static repeats answered by the engine and handler requests answered by Python,
    interleaved on one connection: one buffer, so the lines keep the requests' order, and
    the worker writes them once it has been idle a moment (httpd would hold them until 4 KiB
    gathered or the child exited)."""
    paths = ["/static/a.txt", "/py/hello.py", "/static/a.txt", "/static/a.txt",
             "/py/hello.py", "/static/a.txt", "/py/hello.py", "/static/a.txt"]
    send(one_worker, paths, "a")
    assert wait_until(lambda: len(access_lines(one_worker)) == len(paths), timeout=5)
    assert access_lines(one_worker) == [f"200 GET {path} a-{index}"
                                        for index, path in enumerate(paths)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["graceful", "fast"])
def test_every_answer_is_in_the_log_after_a_stop(tmp_path_factory, stop):
    """SIGTERM (graceful) and SIGINT (fast: each worker leaves at once, as httpd's children
    run their pool cleanups): what the workers held is written before they exit."""
    factory, server = start(tmp_path_factory, 2, "stop")
    try:
        counts: list[int] = []

        def client(tag: str) -> None:
            paths = ["/py/hello.py", "/static/a.txt"] * 45  # under MaxKeepAliveRequests
            send(server, paths, tag)
            counts.append(len(paths))

        threads = [threading.Thread(target=client, args=(f"c{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        # Stopped at once: lines answered since the workers' last tick are still held.
        assert server.stop(stop) == 0
        lines = access_lines(server)
        assert len(lines) == sum(counts) == 360
        assert len(set(lines)) == 360  # each request once
        for tag in ("c0", "c1", "c2", "c3"):  # one connection's lines in order
            mine = [line for line in lines if line.split(" ")[-1].startswith(tag + "-")]
            assert [line.rsplit("-", 1)[1] for line in mine] == [str(i) for i in range(90)]
    finally:
        factory.close()


def test_a_rotated_log_keeps_the_lines_answered_before_the_reopen(one_worker):
    send(one_worker, ["/py/hello.py", "/static/a.txt"] * 5, "before")
    log = one_worker.root.parent / "access.log"
    # Moved and reopened without waiting: what the worker holds belongs to the old file.
    os.rename(log, str(log) + ".1")
    os.kill(one_worker.pid, signal.SIGUSR1)
    assert wait_until(lambda: one_worker.errors().count("log files reopened") == 1)
    send(one_worker, ["/static/a.txt", "/py/hello.py"] * 3, "after")
    assert wait_until(lambda: len(access_lines(one_worker)) == 6, timeout=5)
    old = access_lines(one_worker, "access.log.1")
    assert [line.split(" ")[-1] for line in old] == [f"before-{i}" for i in range(10)]
    assert all("after" in line for line in access_lines(one_worker))


def check(tmp_path, text: str):
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:8080\nDocumentRoot {tmp_path}\n{text}")
    return config_test(conf), conf


def test_the_directive_is_a_flag_allowed_in_a_virtual_host(tmp_path):
    result, conf = check(tmp_path, "BufferedLogs Sometimes\n")
    assert result.returncode != 0
    assert f"{conf}:3: BufferedLogs must be On or Off" in result.stderr
    result, _ = check(tmp_path, "<VirtualHost *:8080>\n    BufferedLogs On\n</VirtualHost>\n")
    assert result.returncode == 0, result.stderr
