"""The tutorial and a set of handler behaviours, served from the same site directory and the
same config fragment by Apache httpd + mod_python 3.5 and by prefork-modpy; replies must match.

What is compared: status, body (after replacing each server's own port by PORT) and the
headers that carry meaning (Content-Type, Location and those a case names). Not compared:
Date, Server, ETag, Keep-Alive/Connection, and the framing (Apache sends mod_python output
chunked; prefork-modpy buffers small replies and sends Content-Length).

Cases where prefork-modpy differs on purpose (docs/migration.md) assert prefork-modpy's
documented answer and that Apache still gives the answer the doc describes. Cases where it
differs without being documented are strict xfails naming the difference: they start to
"fail" as XPASS once fixed, so the marker can be dropped.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from .compare import Case, assert_same, both, params
from .conftest import Pair, raw_fetch

CASES = ["hello", "boom", "declined", "not_found", "forbidden", "raise_not_found", "created",
         "echo", "echo_parts", "options", "attributes", "redirect", "location", "frozen",
         "form", "unicode_text", "none_result", "done", "no_content", "custom_header",
         "err_headers_on_error", "content_length", "head_aware", "cookies", "bytes_write",
         "log_and_ok", "returns_string", "common_vars", "cgi_vars", "internal_redirect",
         "sendfile", "urls"]


# Cases whose handler is tests/support/handlers/behaviours.py's (the integration tests run
# it too): case name -> function there.
SHARED = {"boom": "boom", "declined": "declined", "not_found": "not_found",
          "forbidden": "forbidden", "raise_not_found": "raise_404", "frozen": "frozen",
          "done": "done"}


def handler_of(case: str) -> str:
    if case in SHARED:
        return f"behaviours::{SHARED[case]}"
    return f"compat_handlers::{case}"


def fragment() -> str:
    parts = ["""
ServerName 127.0.0.1
<Directory {root}/mywebdir>
    AddHandler mod_python .py
    PythonHandler myscript
    PythonDebug On
</Directory>
<Directory {root}/modfunc>
    AddHandler mod_python .py
    PythonHandler myscript::handler
</Directory>
<Directory {root}/c>
    SetHandler mod_python
    PythonPath "sys.path + ['{root}/lib']"
    PythonDebug On
    PythonOption color blue
    PythonOption shape round
</Directory>
<Directory {root}/c/quiet>
    PythonHandler behaviours::boom
    PythonDebug Off
</Directory>
<Directory {root}/c/stack>
    PythonHandler compat_handlers::stacked_first compat_handlers::stacked_second
</Directory>
<Directory {root}/c/options>
    PythonOption shape
    PythonOption size big
</Directory>
<Directory {root}/srcdecl>
    AddHandler mod_python .py
    PythonPath "sys.path + ['{root}/lib']"
    PythonHandler behaviours::declined
</Directory>
"""]
    for name in CASES:
        parts.append(f"<Directory {{root}}/c/{name}>\n"
                     f"    PythonHandler {handler_of(name)}\n</Directory>\n")
    return "".join(parts)


FRAGMENT = fragment()
FILES = {
    # The tutorial's own handler file, copied from the bundled example site.
    "mywebdir/myscript.py": "tutorial/mywebdir/myscript.py",
    "modfunc/myscript.py": "tutorial/mywebdir/myscript.py",
    "lib/compat_handlers.py": "handlers/compat_handlers.py",
    "lib/behaviours.py": "support/behaviours.py",
    "c/declined/file.txt": "declined to static\n",
    "c/quiet/.keep": "",
    "c/stack/.keep": "",
    "srcdecl/source.py": "print('handler source')\n",
    "static/hello.txt": "static hello\n",
    "static/index.html": "<p>index</p>\n",
    **{f"c/{name}/.keep": "" for name in CASES},
}

def c(name: str, suffix: str = "/x", **kwargs) -> Case:
    return Case(kwargs.pop("id", name), f"/c/{name}{suffix}", **kwargs)


SAME = [
    Case("tutorial-myscript", "/mywebdir/myscript.py"),
    Case("tutorial-missing-file-runs-handler", "/mywebdir/montypython.py"),
    Case("tutorial-head", "/mywebdir/myscript.py", method="HEAD"),
    Case("module-function-notation", "/modfunc/anything.py"),
    c("hello", "/no/such/file", id="sethandler-missing-path"),
    c("boom", mode="debug"),
    c("quiet", id="debug-off-500", mode="stock"),
    c("declined", "/file.txt", id="declined-serves-static"),
    c("declined", "/missing.txt", id="declined-missing-404", mode="stock"),
    c("not_found", mode="stock"),
    c("forbidden", mode="stock"),
    c("raise_not_found", mode="stock"),
    c("created"),
    c("echo", method="POST", body=b"hello body\x00\xff"),
    c("echo", id="echo-1MB", method="POST", body=bytes(range(256)) * 4096),
    c("echo_parts", method="POST", body=b"abcdef\nline2\nrest"),
    c("options"),
    c("attributes", "/x/extra/a%20b?a=1&b=%20", headers={"X-Test": "yes"}),
    c("attributes", "/x.py/y.txt?", id="attributes-dotted-path-info"),
    c("attributes", "//x/./y/../z", id="attributes-dot-segments"),
    c("attributes", id="attributes-delete", method="DELETE"),
    c("redirect"),
    c("location", mode="stock"),
    c("frozen", also=("x-before", "x-after")),
    c("unicode_text"),
    c("none_result", mode="debug"),
    c("returns_string", mode="debug"),
    c("done"),
    c("no_content"),
    c("custom_header", also=("x-custom", "x-multi", "x-err")),
    c("err_headers_on_error", mode="stock", also=("x-lost", "x-err")),
    c("content_length", also=("content-length",)),
    c("head_aware", id="head-aware-get"),
    c("cookies", headers={"Cookie": "a=1; b=two"}, also=("set-cookie", "cache-control")),
    c("bytes_write"),
    c("log_and_ok"),
    c("stack", id="stacked-handlers"),
    c("sendfile"),
    c("urls"),
    c("hello", "/a%2Fb", id="encoded-slash-404", mode="stock"),
    Case("static-file", "/static/hello.txt"),
    Case("static-directory-index", "/static/"),
    Case("directory-without-slash-redirects", "/static", mode="stock"),
    c("common_vars", "/x/p?q=1", headers={"X-Test": "t"}),
    c("cgi_vars", "/x/p?q=1", headers={"X-Test": "t"}),
    c("internal_redirect"),
]


# -- tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/mywebdir/myscript.py", "/mywebdir/montypython.py"])
def test_tutorial_says_hello_world_on_both(pair: Pair, path: str) -> None:
    ours, theirs = pair.both(path)
    for reply in (ours, theirs):
        assert (reply.status, reply.body) == (200, b"Hello World!")
        assert reply.header("Content-Type") == "text/plain"


@pytest.mark.parametrize("case", params(SAME))
def test_same_reply(pair: Pair, case: Case) -> None:
    assert_same(*both(pair, case), case)


def test_debug_page_names_the_handler_and_the_exception(pair: Pair) -> None:
    ours, theirs = both(pair, c("boom"))
    for reply in (ours, theirs):
        assert reply.status == 500
        assert reply.header("Content-Type") == "text/html"
        assert reply.body.startswith(
            b'\n<pre>\nMod_python error: "PythonHandler behaviours::boom"\n\n')
        assert b"ValueError: kaboom &lt;b&gt;\n" in reply.body
        assert b'behaviours.py&quot;, line 56, in boom' in reply.body


def logged_traceback(text: str, handler: str) -> list[str]:
    """The messages of the last traceback logged for `handler`, without time/pid/client."""
    mark = f"PythonHandler {handler}: "
    lines = [line.split(mark, 1)[1] for line in text.splitlines() if mark in line]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    return lines[starts[-1]:] if starts else []


def wait_for_log(read, handler: str, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = logged_traceback(read(), handler)
        if lines and lines[-1].startswith("ValueError"):
            return lines
        time.sleep(0.05)
    return logged_traceback(read(), handler)


def test_debug_off_logs_the_traceback_like_apache(pair: Pair) -> None:
    pair.both("/c/quiet/x")
    ours = wait_for_log(pair.modpy_errors, "behaviours::boom")
    theirs = wait_for_log(pair.apache.error_log, "behaviours::boom")
    assert ours[0] == theirs[0] == "Traceback (most recent call last):"
    assert ours[-1] == theirs[-1] == "ValueError: kaboom <b>"
    assert any("behaviours.py\", line 56, in boom" in line for line in ours)


def test_debug_off_log_escapes_newlines_like_apache(pair: Pair) -> None:
    pair.both("/c/quiet/x")
    ours = wait_for_log(pair.modpy_errors, "behaviours::boom")
    theirs = wait_for_log(pair.apache.error_log, "behaviours::boom")
    assert ours[-2] == theirs[-2]


def test_head_without_body_does_not_claim_zero_length(pair: Pair) -> None:
    ours, theirs = pair.both("/c/head_aware/x", method="HEAD")
    assert ours.status == theirs.status == 200
    assert ours.header("Content-Length") == theirs.header("Content-Length")


def test_http_10_request(pair: Pair) -> None:
    request = b"GET /mywebdir/myscript.py HTTP/1.0\r\n\r\n"
    ours, theirs = (raw_fetch(port, request) for port in (pair.modpy_port, pair.apache.port))
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, b"Hello World!")


def test_absolute_form_request_target(pair: Pair) -> None:
    request = (b"GET http://127.0.0.1/mywebdir/myscript.py HTTP/1.1\r\nHost: other\r\n"
               b"Connection: close\r\n\r\n")
    ours, theirs = (raw_fetch(port, request) for port in (pair.modpy_port, pair.apache.port))
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, b"Hello World!")


def test_http_11_without_host_is_400(pair: Pair) -> None:
    request = b"GET /mywebdir/myscript.py HTTP/1.1\r\n\r\n"
    ours, theirs = (raw_fetch(port, request) for port in (pair.modpy_port, pair.apache.port))
    assert ours.status == theirs.status == 400


def test_extension_method_is_refused_by_the_engine(pair: Pair) -> None:
    """docs/compatibility.md: methods outside httpd's registry (BREW) are answered 501 by
    the HTTP engine before any handler runs (a security decision); Apache hands them to the
    handler, which answers 200 here."""
    request = b"BREW /mywebdir/myscript.py HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    ours, theirs = (raw_fetch(port, request) for port in (pair.modpy_port, pair.apache.port))
    assert ours.status == 501
    assert (theirs.status, theirs.body) == (200, b"Hello World!")


def test_options_asterisk(pair: Pair) -> None:
    request = b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    ours, theirs = (raw_fetch(port, request) for port in (pair.modpy_port, pair.apache.port))
    assert (ours.status, ours.body) == (theirs.status, theirs.body) == (200, b"")


def test_keep_alive_connection_serves_both_tutorial_urls(pair: Pair) -> None:
    for port in (pair.modpy_port, pair.apache.port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            for path in (b"/mywebdir/myscript.py", b"/mywebdir/montypython.py"):
                request = b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n"
                reply = raw_fetch(port, request, sock=sock)
                assert (reply.status, reply.body) == (200, b"Hello World!")


# -- documented differences (docs/migration.md): prefork-modpy's answer, and Apache's -------


def test_fieldstorage_keys_are_str(pair: Pair) -> None:
    """migration.md: `FieldStorage` keys may be bytes in mod_python, always `str` here."""
    path = "/c/form/x?a=1&b=&a=2"
    ours, theirs = pair.both(path)
    assert ours.status == 200
    assert json.loads(ours.body) == {"a": ["1", "2"], "b": [""]}
    assert b"b'" in theirs.body  # mod_python 3.5 on Python 3 hands out bytes


def test_fieldstorage_post_form(pair: Pair) -> None:
    """migration.md: query and urlencoded body fields together, all `str`. mod_python 3.5
    on Python 3 mixes str (query) and bytes (body) keys, so sorting them fails (500)."""
    ours, theirs = pair.both("/c/form/x?q=s", method="POST", body=b"x=1&y=%C3%A9",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert json.loads(ours.body) == {"q": ["s"], "x": ["1"], "y": ["\u00e9"]}
    assert theirs.status == 500
    assert b"TypeError: &#x27;&lt;&#x27; not supported between instances of &#x27;bytes" \
        in theirs.body


def test_chunked_request_body_is_decoded(pair: Pair) -> None:
    """migration.md: mod_python's `req.read()` raises SERVER_RETURN(411) on chunked bodies."""
    request = (b"POST /c/echo/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
               b"Connection: close\r\n\r\n6\r\nchunky\r\n0\r\n\r\n")
    ours = raw_fetch(pair.modpy_port, request)
    theirs = raw_fetch(pair.apache.port, request)
    assert (ours.status, ours.body) == (200, b"chunky")
    assert theirs.status == 500 and b"SERVER_RETURN: 411" in theirs.body


def test_declined_handler_source_is_not_served(pair: Pair) -> None:
    """migration.md: DECLINED for a handler's own `.py` → 404, never the source."""
    ours, theirs = pair.both("/srcdecl/source.py")
    assert ours.status == 404
    assert b"handler source" not in ours.body
    assert (theirs.status, theirs.body) == (200, b"print('handler source')\n")


def test_dot_dot_above_document_root(pair: Pair) -> None:
    """migration.md: `..` above the document root → 403 (Apache: 400)."""
    ours, theirs = pair.both("/static/../../etc/passwd")
    assert ours.status == 403
    assert theirs.status == 400
