"""Static plans through the whole server (httpd/staticplan.py, rust/staticplan.rs): the
engine answers repeats of a plain static request the way the default handler did, byte for
byte but the Date, and writes the same access line; the answers and lines of a server with
plans are compared with those of the same site served by Python alone (MaxRequestsPerChild
turns plans off). A changed or removed file, conditions, ranges, HEAD, HTTP/1.0, another
Host: each is answered as Python answers it. A reopened log gets the engine's lines; the
scoreboard counts the engine's requests. Every wait is bounded."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.support.site import SiteFactory, wait_until
from tests.support.wire import Client

LOG_FORMAT = ('%h %a %{c}a %l %u %t "%r" %>s %s %b %B %O "%{Referer}i" "%{User-Agent}i" '
              '%v %V %A %p %{local}p %m %U%q %H %f %R "%{Content-Type}o" %{ETag}o %%')
SITE = """
ServerName www.example.test
KeepAliveTimeout 10
LogFormat "FMT" planlog
CustomLog {root}/../access.log planlog
ExtendedStatus On
<Location /server-status>
    SetHandler server-status
</Location>
EXTRA
""".replace("FMT", LOG_FORMAT.replace('"', '\\"').replace("{", "{{").replace("}", "}}"))
BODY = "static bytes\n" * 40
ETAG = re.compile(r'"[0-9a-f]+-[0-9a-f]+"')
SETTLED = int(time.time()) - 3600  # both sites' files: the same validators


def start(tmp_path_factory, name: str, extra: str) -> tuple[SiteFactory, object]:
    factory = SiteFactory(tmp_path_factory.mktemp(name))
    server = factory.start(SITE.replace("EXTRA", extra), {"static/a.txt": BODY,
                                                      "static/b.css": "b {}\n"}, workers=1)
    for path in (server.root / "static").iterdir():
        os.utime(path, (SETTLED, SETTLED))
    return factory, server


@pytest.fixture
def planned(tmp_path_factory):
    factory, server = start(tmp_path_factory, "planned", "LogLevel debug")
    yield server
    factory.close()


@pytest.fixture
def python_only(tmp_path_factory):
    factory, server = start(tmp_path_factory, "python", "MaxRequestsPerChild 1000000")
    yield server
    factory.close()


def access_lines(server) -> list[str]:
    path = server.root.parent / "access.log"
    return path.read_text().splitlines() if path.exists() else []


def exchange(server, requests: list[str]) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    """Each request on one keep-alive connection; (status, headers but Date, body)."""
    answers = []
    with Client(server.port) as client:
        for text in requests:
            head_request = text.startswith("HEAD ")
            r = client.request(text.encode("latin-1"), head_request=head_request)
            lines = r.head.decode("latin-1").split("\r\n")[1:]
            headers = [tuple(line.split(": ", 1)) for line in lines if line]
            answers.append((r.status, [h for h in headers if h[0] != "Date"], r.body))
    return answers


def neutral(server, text: str) -> str:
    """A line or header without what differs between two servers: port, paths, time, pid."""
    text = text.replace(str(server.root), "ROOT").replace(str(server.port), "PORT")
    return re.sub(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", "[TIME]", text)


def sequence(etag: str) -> list[str]:
    get = "GET {} HTTP/1.1\r\nHost: {}\r\n{}\r\n"
    return [
        get.format("/static/a.txt", "www.example.test", "User-Agent: first\r\n"),
        get.format("/static/a.txt", "www.example.test",
                   'User-Agent: t "q"\\ \xe9\t!\r\nReferer: http://r.test/?a=1\r\n'),
        get.format("/static/a.txt", "www.example.test", ""),
        get.format("/static/a.txt", "www.example.test", f"If-None-Match: {etag}\r\n"),
        get.format("/static/a.txt", "www.example.test", "Range: bytes=2-5\r\n"),
        "HEAD /static/a.txt HTTP/1.1\r\nHost: www.example.test\r\n\r\n",
        get.format("/static/a.txt?x=%41", "www.example.test", ""),
        get.format("/static/a.txt?x=%41", "www.example.test", "User-Agent: again\r\n"),
        get.format("/static/a.txt", "OTHER.test:81", ""),
        get.format("/static/b.css", "www.example.test", ""),
        get.format("/static/b.css", "www.example.test", "Connection: keep-alive\r\n"),
        get.format("/static/a.txt", "www.example.test", "User-Agent: last\r\n"),
    ]


def etag_of(server) -> str:
    with Client(server.port) as client:
        r = client.request(b"HEAD /static/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", head_request=True)
    return r.header("ETag") or ""


def test_the_engine_answers_and_logs_as_python_does(planned, python_only):
    etag = etag_of(planned)
    assert etag == etag_of(python_only) and ETAG.fullmatch(etag)
    requests = sequence(etag)
    answers = {}
    lines = {}
    for server in (planned, python_only):
        before = len(access_lines(server))
        got = exchange(server, requests)
        answers[server] = [(s, [(n, neutral(server, v)) for n, v in h], b) for s, h, b in got]
        assert wait_until(lambda s=server, n=before: len(access_lines(s)) == n + len(requests),
                          timeout=10)
        lines[server] = [neutral(server, line) for line in access_lines(server)[before:]]
    assert answers[planned] == answers[python_only]
    assert [a[0] for a in answers[planned]] == [200, 200, 200, 304, 206, 200, 200, 200, 200,
                                                200, 200, 200]
    assert lines[planned] == lines[python_only]
    assert '"t \\"q\\"\\\\ \\xe9\\t!"' in lines[planned][1]
    escaped_etag = etag.replace('"', '\\"')  # %{ETag}o is escaped as every value
    assert lines[planned][-1].endswith(f'"text/plain" {escaped_etag} %')
    # The plans were made: a.txt for two targets and two hosts, b.css.
    assert wait_until(lambda: planned.errors().count("static plan: the engine answers") == 4)


def test_a_changed_or_removed_file_is_answered_as_it_is_now(planned):
    a = planned.root / "static" / "a.txt"
    request = "GET /static/a.txt HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
    first = exchange(planned, [request] * 3)
    assert {answer[2] for answer in first} == {BODY.encode()}
    a.write_text("shorter\n")
    os.utime(a, (time.time() - 60, time.time() - 60))
    (status, headers, body), = exchange(planned, [request])
    assert (status, body) == (200, b"shorter\n")
    assert ("Content-Length", "8") in headers
    assert dict(headers)["ETag"] != dict(first[0][1])["ETag"]
    a.unlink()
    assert [answer[0] for answer in exchange(planned, [request] * 2)] == [404, 404]
    a.mkdir()
    assert exchange(planned, [request])[0][0] != 200


def test_a_reopened_log_gets_the_engines_lines(planned):
    request = "GET /static/b.css HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
    exchange(planned, [request] * 5)
    log = planned.root.parent / "access.log"
    assert wait_until(lambda: len(access_lines(planned)) == 5)
    os.rename(log, str(log) + ".1")
    os.kill(planned.pid, signal.SIGUSR1)
    assert wait_until(lambda: planned.errors().count("log files reopened") == 1)
    exchange(planned, [request] * 7)
    assert wait_until(lambda: len(access_lines(planned)) == 7)
    assert len((planned.root.parent / "access.log.1").read_text().splitlines()) == 5


def test_the_scoreboard_counts_the_engines_requests(planned):
    request = "GET /static/b.css HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
    readings: list[int] = []

    def total_accesses() -> int:
        with Client(planned.port) as client:
            r = client.request(b"GET /server-status?auto HTTP/1.1\r\nHost: x\r\n\r\n")
        readings.append(int(re.search(rb"Total Accesses: (\d+)", r.body).group(1)))
        return readings[-1]

    first = total_accesses()
    exchange(planned, [request] * 20)
    # Each reading counts the status requests before it; the engine's 20 are counted at
    # the worker's next tick (a fraction of a second once it is idle).
    assert wait_until(lambda: total_accesses() - first - (len(readings) - 1) == 20,
                      timeout=5), readings


def test_a_file_that_comes_back_as_it_was_gets_its_plan_again(planned):
    """The directory moved away and back: the file's version never changed, the engine
    dropped the plan when the open failed, and Python offers it again."""
    request = "GET /static/b.css HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
    static = planned.root / "static"
    exchange(planned, [request] * 2)
    notices = planned.errors().count("static plan: the engine answers /static/b.css")
    assert notices == 1
    os.rename(static, str(static) + ".away")
    assert [answer[0] for answer in exchange(planned, [request])] == [404]
    os.rename(str(static) + ".away", static)
    assert [answer[0] for answer in exchange(planned, [request] * 2)] == [200, 200]
    assert wait_until(lambda: planned.errors().count(
        "static plan: the engine answers /static/b.css") == 2, timeout=5)


def test_a_file_dated_in_the_future_gets_no_plan(planned):
    """Its Last-Modified is the request's time (httpd's ap_update_mtime), which moves: every
    request goes to Python, and no plan is made."""
    future = planned.root / "static" / "future.txt"
    future.write_text("from the future\n")
    os.utime(future, (time.time() + 3600, time.time() + 3600))
    request = "GET /static/future.txt HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
    first = exchange(planned, [request])
    time.sleep(1.1)
    second = exchange(planned, [request])
    assert first[0][0] == second[0][0] == 200
    assert dict(first[0][1])["Last-Modified"] != dict(second[0][1])["Last-Modified"]
    assert "static plan: the engine answers /static/future.txt" not in planned.errors()
