"""ServerName's port compared with Apache httpd: server_rec->port is what mod_python's
`req.server.port` reads, what `%p` logs (mod_log_config's canonical port, not the socket's)
and what SERVER_PORT, construct_url() and the ServerSignature footer fall back to when Host
names no port (ap_get_server_port with UseCanonicalName Off)."""

from __future__ import annotations

import pytest

from tests.support.site import wait_until

from .conftest import Pair, raw_fetch

FRAGMENT = (
    "ServerName www.example.test:8080\n"
    "ServerSignature On\n"
    "ServerTokens Prod\n"
    'LogFormat "%p %{{canonical}}p %v \\"%r\\" %>s" ports\n'
    "CustomLog {root}/../ports-{port}.log ports\n"
    "<Location /h>\n"
    "    SetHandler mod_python\n"
    "    PythonHandler h\n"
    "    PythonPath \"sys.path + ['{root}']\"\n"
    "</Location>\n"
)
FILES = {"h.py": """from mod_python import apache

def handler(req):
    req.add_common_vars()
    req.content_type = "text/plain"
    req.write("server.port=%r\\n" % req.server.port)
    req.write("SERVER_PORT=%s\\n" % req.subprocess_env["SERVER_PORT"])
    req.write("url=%s\\n" % req.construct_url("/x"))
    return apache.OK
"""}


def log_lines(pair: Pair, port: int) -> list[str]:
    path = pair.root.parent / f"ports-{port}.log"
    return path.read_text().splitlines() if path.exists() else []


def test_servernames_port_is_the_servers_port_on_both(pair: Pair) -> None:
    for host in ("www.example.test", "www.example.test:9999"):
        ours, theirs = pair.both("/h", headers={"Host": host})
        assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, ours.body)
    ours, _ = pair.both("/h", headers={"Host": "www.example.test"})
    assert b"server.port=8080\nSERVER_PORT=8080\nurl=http://www.example.test:8080/x" in ours.body
    assert wait_until(lambda: len(log_lines(pair, pair.modpy_port)) == 3
                      and len(log_lines(pair, 0)) == 3, timeout=10)
    assert log_lines(pair, pair.modpy_port) == log_lines(pair, 0)
    assert log_lines(pair, 0)[0] == '8080 8080 www.example.test "GET /h HTTP/1.1" 200'


@pytest.mark.parametrize("data", [
    b"GET /nothing-here HTTP/1.1\r\nHost: www.example.test\r\n\r\n",  # 404
    b"GET /h HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",  # 400, refused unread
], ids=["404", "400"])
def test_the_signature_names_servernames_port(pair: Pair, data: bytes) -> None:
    ours, theirs = raw_fetch(pair.modpy_port, data), raw_fetch(pair.apache.port, data)
    assert b" Port 8080</address>" in theirs.body
    product = theirs.body.replace(b"<address>Apache Server", b"<address>prefork-modpy Server")
    assert ours.body == product
