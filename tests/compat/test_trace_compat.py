"""TRACE as httpd's core answers it with the default `TraceEnable On` (and `extended` in
a second server of prefork-modpy's own), compared with Apache httpd + mod_python: the
request echoed as message/http once translation is done, before any access rule or
handler; a body refused with 413; TRACE listed in Allow."""

from __future__ import annotations

import http.client

import pytest

from tests.support.site import SiteFactory

from .compare import Case, assert_same, both, params
from .conftest import Pair

FRAGMENT = """<Directory {root}/py>
    SetHandler mod_python
    PythonHandler core_directives
</Directory>
<Directory {root}/closed>
    Require all denied
</Directory>
"""

FILES = {
    "py/core_directives.py": "handlers/core_directives.py",
    "closed/page.html": "<p>closed</p>\n",
    "page.html": "<p>page</p>\n",
}

SAME = [
    Case("trace-echo-handler-not-run", "/py/html", method="TRACE"),
    Case("trace-echo-static", "/page.html", method="TRACE",
         headers={"X-Probe": "one", "Cookie": "a=b"}),
    Case("trace-ignores-require", "/closed/page.html", method="TRACE"),
    Case("trace-missing-file", "/nothing", method="TRACE"),
    Case("trace-with-body-413", "/page.html", method="TRACE", body=b"body", mode="stock"),
    Case("trace-empty-body-ok", "/page.html", method="TRACE", body=b""),
    Case("options-lists-trace", "/page.html", method="OPTIONS", as_set=("allow",)),
    Case("put-405-lists-trace", "/page.html", method="PUT", mode="stock", as_set=("allow",)),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_echo_is_the_request_as_sent(pair: Pair) -> None:
    ours, _ = pair.both("/py/html?q=1", method="TRACE", headers={"X-Probe": "v"})
    assert ours.header("content-type") == "message/http"
    assert ours.body.startswith(b"TRACE /py/html?q=1 HTTP/1.1\r\n")
    assert b"\r\nX-Probe: v\r\n" in ours.body and ours.body.endswith(b"\r\n\r\n")
    assert b"reached the handler" not in ours.body


def test_extended_trace_echoes_the_body(tmp_path) -> None:
    """`TraceEnable extended`: the body comes back too (at most 64 KiB); Apache's own
    answer to it is the same echo (ap_send_http_trace), not compared here."""
    factory = SiteFactory(tmp_path)
    try:
        site = factory.start("TraceEnable extended\n", {"page.html": "x\n"}, workers=1)
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        conn.request("TRACE", "/page.html", body=b"hello body")
        reply = conn.getresponse()
        assert reply.status == 200
        assert reply.read().endswith(b"\r\n\r\nhello body")
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
        conn.request("TRACE", "/page.html", body=b"x" * 70000)
        assert conn.getresponse().status == 413
        conn.close()
    finally:
        factory.close()
