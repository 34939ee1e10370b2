"""The status line's reason phrase, compared with Apache httpd + mod_python 3.5: httpd's
wording (errorpages.STATUS_LINES, the one table the engine is given) for a status a handler
sets, and for a request the engine refuses itself (status line and page; for an oversized
header field httpd says 400 where the engine says 431, see docs/http-strictness.md).

The cases include the statuses whose RFC 9110 wording differs from httpd's (413, 414, 416,
422)."""

from __future__ import annotations

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, raw_fetch

FRAGMENT = """ServerName 127.0.0.1
<Directory {root}/s>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler status_handler
</Directory>
"""

FILES = {
    "lib/status_handler.py": (
        "from mod_python import apache\n\n"
        "def handler(req):\n"
        "    # /s/413 answers 413 with the handler's own body (no error page)\n"
        "    req.status = int(req.uri.rsplit('/', 1)[1])\n"
        "    req.content_type = 'text/plain'\n"
        "    req.write('status %d' % req.status)\n"
        "    return apache.OK\n"),
}

CASES = [Case(f"handler-{status}", f"/s/{status}")
         for status in (200, 201, 404, 410, 413, 414, 416, 422, 503)]


@pytest.mark.parametrize("case", params(CASES))
def test_reason_of_a_handler_status(pair: Pair, case: Case) -> None:
    ours, theirs = both(pair, case)
    assert_same(ours, theirs, case)
    assert ours.reason == theirs.reason


def test_engine_refusal_414_is_httpds_status_line_and_page(pair: Pair) -> None:
    request = b"GET /s/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    ours = raw_fetch(pair.modpy_port, request)
    theirs = raw_fetch(pair.apache.port, request)
    assert (ours.status, ours.reason) == (theirs.status, theirs.reason) == (
        414, "Request-URI Too Long")
    assert ours.body == theirs.body

