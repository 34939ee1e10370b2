"""`TraceEnable extended`, compared with Apache httpd + mod_python: a TRACE body is echoed
after the request head (Content-Length or chunked), one above 64 KiB is 413."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, raw_fetch

FRAGMENT = "TraceEnable extended\n"
FILES = {"page.html": "<p>page</p>\n"}

SAME = [
    Case("extended-no-body", "/page.html", method="TRACE"),
    Case("extended-body", "/page.html", method="TRACE", body=b"hello body"),
    Case("extended-body-too-large", "/page.html", method="TRACE", body=b"x" * 70000,
         mode="stock"),
    Case("options-lists-trace", "/page.html", method="OPTIONS", as_set=("allow",)),
]


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_chunked_body_is_echoed_dechunked(pair: Pair) -> None:
    """REQUEST_CHUNKED_DECHUNK: the echoed body is the decoded one."""
    data = (b"TRACE /page.html HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n")
    ours = raw_fetch(pair.modpy_port, data, method="TRACE")
    theirs = raw_fetch(pair.apache.port, data, method="TRACE")
    assert (ours.status, ours.header("content-type")) == (theirs.status,
                                                         theirs.header("content-type"))
    assert ours.body == theirs.body and ours.body.endswith(b"\r\n\r\none two")
