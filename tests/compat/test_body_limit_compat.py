"""ISSUE 15 finding 5: a request body is limited by default, as httpd 2.4.54+ does
(`LimitRequestBody` 1 GiB): a larger Content-Length, or a chunked body whose chunks add up
to more, is answered 413 by the engine while it reads, without the body ever reaching a
handler or the worker's memory. Compared with Apache httpd (2.4.67) + mod_python on the same
site, which has no LimitRequestBody line (the default). The limit on chunks that only add
up to more, and the worker's memory, are in tests/integration/test_body_limit.py."""

from __future__ import annotations

import socket

import pytest

from .conftest import Pair, Reply, raw_fetch

GIB = 1 << 30

FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/r>
    SetHandler mod_python
    PythonHandler reader
</Directory>
"""

READER = '''from mod_python import apache


def handler(req):
    total = 0
    while True:
        block = req.read(65536)
        if not block:
            break
        total += len(block)
    req.content_type = "text/plain"
    req.write("read %d" % total)
    return apache.OK
'''

FILES = {"r/reader.py": READER}


def send(port: int, head: str, body: bytes = b"") -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        return raw_fetch(port, head.encode() + body, sock)


def test_default_limit_refuses_a_content_length_over_1_gib(pair: Pair) -> None:
    head = (f"POST /r/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {GIB + 1}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n")
    for port in (pair.modpy_port, pair.apache.port):
        reply = send(port, head, b"x" * 1000)
        assert reply.status == 413, (port, reply.body[:300])


def test_default_limit_refuses_a_chunked_body_over_1_gib(pair: Pair) -> None:
    # One chunk announcing 1 GiB + 1 bytes: refused at its size line, before any data.
    head = ("POST /r/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            f"{GIB + 1:x}\r\n")
    # mod_python answers any chunked body with 411 (its req.read() needs a length), so
    # only prefork-modpy, which decodes chunked bodies, is asked.
    assert send(pair.apache.port, head, b"x" * 1000).status == 411
    assert send(pair.modpy_port, head, b"x" * 1000).status == 413


@pytest.mark.parametrize("size", [GIB - 1, GIB])
def test_default_limit_admits_up_to_1_gib_declared(pair: Pair, size: int) -> None:
    """Up to the limit the body is the handler's: announce it, send a little and stop;
    the request is not refused up front (the handler then waits for the rest)."""
    head = (f"POST /r/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
            "Expect: 100-continue\r\n\r\n")
    with socket.create_connection(("127.0.0.1", pair.modpy_port), timeout=10) as sock:
        sock.sendall(head.encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
