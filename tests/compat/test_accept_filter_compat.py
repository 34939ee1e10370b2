"""AcceptFilter's default on Linux (`http data`: TCP_DEFER_ACCEPT on the listener), compared
with Apache httpd + mod_python on one config: a client that connects and sends nothing is
not the server's yet, so even a one-second header timeout (mod_reqtimeout) does not end
it; the request it sends later is answered at once."""

from __future__ import annotations

import socket

from .conftest import Pair

FRAGMENT = """RequestReadTimeout header=1
<Directory {root}/py>
    SetHandler mod_python
    PythonHandler hello
</Directory>
"""
FILES = {"py/hello.py": "from mod_python import apache\n\n\ndef handler(req):\n"
                        "    req.content_type = 'text/plain'\n    req.write('hello')\n"
                        "    return apache.OK\n"}
APACHE_MODULES = (("reqtimeout_module", "mod_reqtimeout.so"),)
QUIET_SECONDS = 3.0


def silent_then_asking(port: int) -> tuple[bytes, bytes]:
    """(what the server sent during QUIET_SECONDS of silence, b"<held>" if nothing and the
    connection stayed open; the reply to a request sent after)."""
    with socket.create_connection(("127.0.0.1", port), timeout=QUIET_SECONDS) as sock:
        try:
            early = sock.recv(4096)
        except socket.timeout:
            early = b"<held>"
        sock.settimeout(10)
        try:
            sock.sendall(b"GET /py/hello.py HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
        except OSError as exc:
            reply = repr(exc).encode()
    return early, reply.split(b"\r\n", 1)[0]


def test_a_silent_client_is_held_by_the_kernel_in_both(pair: Pair):
    modpy = silent_then_asking(pair.modpy_port)
    apache = silent_then_asking(pair.apache.port)
    assert modpy == apache == (b"<held>", b"HTTP/1.1 200 OK")
