"""examples/flask run as its README says (`python run.py`), with Flask from the package
index (the `examples` extra): streamed responses and server-sent events timed on the
client, the session cookie, chunked and Content-Length uploads, a 50 MiB download over
HTTP/1.0 and 1.1, and a 12 s download under `Timeout 2` (issue 13 points 2, 3, 4, 6)."""

from __future__ import annotations

import hashlib
import json
import os
import time

# The `examples` extra of pyproject.toml (in `test`): a missing Flask fails collection.
import flask  # noqa: F401
import pytest

from tests.support.browser import Browser
from tests.support.examples import start_example
from tests.support.site import kill_server
from tests.support.stream import arrivals, assert_paced
from tests.support.wire import Client, get, read_until_close

MIB = 1 << 20


@pytest.fixture(scope="module")
def flask_site(tmp_path_factory):
    server = start_example("flask", tmp_path_factory.mktemp("flask"))
    yield server
    kill_server(server)


def test_index(flask_site):
    page = Browser(flask_site.port).get("/app/")
    assert page.status == 200 and page.body.startswith(b"Flask under prefork-modpy")


def test_not_found_page_has_its_body(flask_site):
    page = Browser(flask_site.port).get("/app/no-such-page")
    assert page.status == 404
    assert b"Not Found" in page.body


def test_streamed_lines_arrive_before_the_generator_ends(flask_site):
    """Point 2: the first line arrives at once, each next one half a second later; the
    generator ends at 2.0 s."""
    markers = [b"line %d" % n for n in range(5)]
    seen = arrivals(flask_site.port, get("/app/stream", extra="Connection: close\r\n"),
                    markers)
    assert_paced(seen, markers, period=0.5)


def test_server_sent_events_arrive_one_by_one(flask_site):
    markers = [b"data: event %d" % n for n in range(3)]
    seen = arrivals(flask_site.port, get("/app/events", extra="Connection: close\r\n"),
                    markers)
    assert b"text/event-stream" in seen.data
    assert_paced(seen, markers, period=0.5)


def test_session_counts_visits(flask_site):
    browser = Browser(flask_site.port)
    visits = [json.loads(browser.get("/app/counter").body)["visits"] for _ in range(3)]
    assert visits == [1, 2, 3]
    assert browser.cookie("session")
    assert json.loads(Browser(flask_site.port).get("/app/counter").body)["visits"] == 1


def chunked(body: bytes, piece: int = 65536) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + piece]), body[i:i + piece])
                   for i in range(0, len(body), piece))
    return out + b"0\r\n\r\n"


def test_chunked_put_reaches_flask_whole(flask_site):
    """Point 6: a chunked body (no Content-Length) has its length and hash in Flask."""
    body = os.urandom(3 * MIB + 123)
    request = (b"PUT /app/upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: application/octet-stream\r\n\r\n" + chunked(body))
    with Client(flask_site.port, timeout=20) as client:
        reply = client.request(request)
    assert reply.status == 200
    assert json.loads(reply.body) == {"length": len(body), "content_length": None,
                                      "sha256": hashlib.sha256(body).hexdigest()}


def test_put_with_content_length_reaches_flask(flask_site):
    body = os.urandom(MIB)
    page = Browser(flask_site.port).request("/app/upload", "PUT", body,
                                            {"Content-Type": "application/octet-stream"})
    assert json.loads(page.body) == {"length": MIB, "content_length": str(MIB),
                                     "sha256": hashlib.sha256(body).hexdigest()}


def expected_download(mebibytes: int) -> str:
    digest = hashlib.sha256()
    for n in range(mebibytes):
        digest.update(bytes([n % 256]) * MIB)
    return digest.hexdigest()


def download(port: int, path: str, version: str) -> tuple[bytes, bytes]:
    """(head, body) of a GET on a fresh connection that the server closes; the body is
    de-chunked by the wire client when it is chunked."""
    with Client(port, timeout=30) as client:
        client.send(get(path, version=version, extra="Connection: close\r\n"))
        reply = client.response()
        rest, _ = read_until_close(client.sock, timeout=5)
    assert rest == b""
    return reply.head, reply.body


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_50_mib_download_arrives_whole(flask_site, version):
    head, body = download(flask_site.port, "/app/download/50", version)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert len(body) == 50 * MIB
    assert hashlib.sha256(body).hexdigest() == expected_download(50)


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_50_mib_download_keeps_its_content_length(flask_site, version):
    head, body = download(flask_site.port, "/app/download/50", version)
    assert b"\r\nContent-Length: %d" % (50 * MIB) in head
    assert b"Transfer-Encoding" not in head
    assert len(body) == 50 * MIB


@pytest.mark.timeout(60)
def test_download_six_times_timeout_completes(tmp_path):
    """Point 4, the 70 s download under `Timeout 10` at a smaller scale (same property, a
    transfer six times as long as Timeout): 12 KiB at 1 KiB a second (about 11 s) under
    `Timeout 2`. Each wait (a write, a block from the application) stays under Timeout;
    the whole response does not."""
    server = start_example("flask", tmp_path, config_extra="Timeout 2")
    try:
        start = time.monotonic()
        head, body = download(server.port, "/app/slow/12", "HTTP/1.1")
        elapsed = time.monotonic() - start
    finally:
        kill_server(server)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"\r\nContent-Length: 12288" in head
    assert len(body) == 12 * 1024, (len(body), elapsed)
    assert body.startswith(b"0000") and body[11 * 1024:].startswith(b"0011")
    assert elapsed >= 10.5
