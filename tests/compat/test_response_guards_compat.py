"""ISSUE 15 findings 10 and 13, compared with Apache httpd + mod_python 3.5.

10: a handler header whose name or value holds CR, LF or NUL is answered with 500 (httpd's
    header filter refuses it: "Response header ... contains invalid characters") and logged
    with the header's name; the connection is never dropped without an answer, and the next
    request on it is served.
13: `.pyw` and `.pyi` sources are refused like `.py` (prefork-modpy only: Apache serves
    any file); `Allow` lists TRACE only where TRACE is answered; a 1xx status set by a
    handler is refused with 500 instead of desynchronising the connection.
"""

from __future__ import annotations

import socket

import pytest

from .conftest import Pair, Reply, fetch, raw_fetch

FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/h>
    SetHandler mod_python
    PythonHandler guard_probe
</Directory>
<Directory {root}/src>
    AddHandler mod_python .py
    PythonHandler guard_probe
</Directory>
"""

PROBE = '''from mod_python import apache


def handler(req):
    kind = req.uri.rsplit("/", 1)[1]
    req.content_type = "text/plain"
    if kind == "cr":
        req.headers_out["X-Injected"] = "a\\r\\nSet-Cookie: owned=1"
    elif kind == "lf":
        req.headers_out["X-Injected"] = "a\\nb"
    elif kind == "nul":
        req.headers_out["X-Injected"] = "a\\x00b"
    elif kind == "name":
        req.headers_out["X-Bad\\r\\nName"] = "v"
    elif kind == "err":
        req.err_headers_out["X-Injected"] = "a\\r\\nb"
    elif kind.isdigit():
        req.status = int(kind)
    req.write("body of %s" % kind)
    return apache.OK
'''

FILES = {
    "h/guard_probe.py": PROBE,
    "static/tool.pyw": "print('source')\n",
    "static/types.pyi": "def f() -> int: ...\n",
    "src/tool.pyw": "print('source')\n",
    "src/types.pyi": "def f() -> int: ...\n",
    "static/plain.txt": "plain\n",
}

KEEPALIVE_GET = "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("kind", ["cr", "lf", "nul", "name", "err"])
def test_handler_header_with_control_characters_is_500(pair: Pair, kind: str) -> None:
    ours, theirs = pair.both(f"/h/{kind}")
    # httpd's tables are C strings: a NUL ends the value there ("X-Injected: a", 200);
    # prefork-modpy refuses it like CR and LF rather than send a value the handler did not.
    assert theirs.status == (200 if kind == "nul" else 500)
    assert ours.status == 500
    assert "owned" not in ours.headers.get("set-cookie", "")
    assert b"body of" not in ours.body


def exchange(port: int, path: str) -> tuple[Reply, bytes]:
    """One keep-alive GET: the reply, and whatever the server sent after it before closing
    (httpd closes after a 500; nothing may follow the answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reply = raw_fetch(port, KEEPALIVE_GET.format(path=path).encode(), sock)
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    return reply, rest


def test_bad_header_is_logged_by_name_and_answered_completely(pair: Pair) -> None:
    reply, rest = exchange(pair.modpy_port, "/h/cr")
    assert (reply.status, reply.header("connection"), rest) == (500, "close", b"")
    assert b"Internal Server Error" in reply.body
    log = pair.modpy_errors()
    assert "Response header 'X-Injected' value of" in log
    assert "contains invalid characters, aborting request" in log


@pytest.mark.parametrize("name", ["tool.pyw", "types.pyi"])
def test_python_sources_are_not_served(pair: Pair, name: str) -> None:
    """`.pyw`/`.pyi` beside Python handlers are handler source, refused like `.py`
    (Apache serves them); in a plain static directory they are served as Apache serves
    them (issue 13 point 7: only what a handler would load is refused)."""
    ours = fetch(pair.modpy_port, f"/src/{name}")
    assert ours.status == 404
    assert b"source" not in ours.body and b"def f" not in ours.body
    assert fetch(pair.modpy_port, f"/static/{name}").status == 200


def test_allow_lists_trace_only_where_trace_is_answered(pair: Pair) -> None:
    for port in (pair.modpy_port, pair.apache.port):
        options = fetch(port, "/static/plain.txt", method="OPTIONS")
        trace = fetch(port, "/static/plain.txt", method="TRACE")
        listed = "TRACE" in (options.header("allow") or "").split(",")
        assert listed == (trace.status == 200), (port, options.header("allow"), trace.status)


@pytest.mark.parametrize("status", [100, 101, 102, 103, 199])
def test_informational_status_from_handler_is_500(pair: Pair, status: int) -> None:
    reply, rest = exchange(pair.modpy_port, f"/h/{status}")
    assert (reply.status, reply.header("connection"), rest) == (500, "close", b"")
    assert b"body of" not in reply.body
    assert f"handler set status {status}" in pair.modpy_errors()
