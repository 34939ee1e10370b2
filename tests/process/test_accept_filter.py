"""AcceptFilter on the real listeners: with httpd's default (`http data`, TCP_DEFER_ACCEPT)
a client that connects and sends nothing is never a worker's, so the header timeout does
not run for it; with `none` it is accepted at once and the timeout ends it. A reload
applies the new filter to the socket it keeps."""

from __future__ import annotations

import os
import signal
import socket
import time

from tests.support.site import wait_until

HANDLER = """from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("hello")
    return apache.OK
"""
SITE = ("RequestReadTimeout header=1\n<Directory {root}>\n    SetHandler mod_python\n"
        "    PythonHandler hello\n</Directory>\n")
QUIET_SECONDS = 3.0  # three header timeouts


def silent_client_is_dropped(port: int) -> bool:
    """Connect, send nothing for QUIET_SECONDS: whether the server ended the connection
    (a 408 or a bare close) by then."""
    with socket.create_connection(("127.0.0.1", port), timeout=QUIET_SECONDS) as sock:
        try:
            sock.recv(4096)  # b"" (closed) or the start of a 408: the server let go
            return True
        except socket.timeout:
            pass
        # Still held by the kernel: the request it sends now is a worker's at once.
        sock.settimeout(10)
        sock.sendall(b"GET /hello.py HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"hello"), reply
        return False


def test_default_filter_leaves_a_silent_client_to_the_kernel(site):
    server = site(SITE, {"hello.py": HANDLER}, workers=1)
    started = time.monotonic()
    assert not silent_client_is_dropped(server.port)
    assert time.monotonic() - started >= QUIET_SECONDS


def test_none_accepts_at_once_and_the_header_timeout_ends_it(site):
    server = site("AcceptFilter http none\n" + SITE, {"hello.py": HANDLER}, workers=1)
    assert silent_client_is_dropped(server.port)


def test_reload_applies_the_filter_to_the_kept_socket(site):
    server = site("AcceptFilter http none\n" + SITE, {"hello.py": HANDLER}, workers=1)
    assert silent_client_is_dropped(server.port)
    text = server.conf.read_text()
    server.conf.write_text(text.replace("AcceptFilter http none\n", "AcceptFilter http data\n"))
    os.kill(server.pid, signal.SIGHUP)
    assert wait_until(lambda: "generation 2 is serving" in server.errors())
    assert not silent_client_is_dropped(server.port)
