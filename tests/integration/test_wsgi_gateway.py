"""mod_python.wsgi against PEP 3333 on the real server (issue 13 points 2, 3, 5, 6, 8):
streaming per block, the write callable, exc_info, close(), chunked request bodies, and a
WSGI script file as the application. The applications are in
tests/support/handlers/pep3333_apps.py; timings are measured on the client's socket."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

from tests.support.handlers.pep3333_apps import BIG_BLOCK, TICK
from tests.support.site import wait_until
from tests.support.stream import STALL, arrivals, assert_paced
from tests.support.wire import Client, get, raw_exchange, read_until_close

APPS = ("ticks", "write_then_sleep", "error_page_after_empty_block", "exc_info_after_body",
        "start_response_twice", "never_starts", "fails_while_iterating", "body_digest",
        "input_lines", "no_content", "declared_length", "short_length", "long_length",
        "environ_and_tables", "whole_then_sleep", "whole_then_more")

CONFIG = "PythonPath \"['{root}/lib'] + sys.path\"\nPythonDebug On\n" + "".join(
    f"<Location /{name}>\n    SetHandler mod_python\n    PythonHandler mod_python.wsgi\n"
    f"    PythonOption mod_python.wsgi.application pep3333_apps::{name}\n</Location>\n"
    for name in APPS) + """
<Location /native>
    SetHandler mod_python
    PythonHandler pep3333_apps::native_write_flush
</Location>
<Location /native_lines>
    SetHandler mod_python
    PythonHandler pep3333_apps::native_lines
</Location>
<Location /native_sendfile>
    SetHandler mod_python
    PythonHandler pep3333_apps::native_sendfile_length
    PythonOption big_file {root}/big.bin
</Location>
<Location /native_length>
    SetHandler mod_python
    PythonHandler pep3333_apps::native_declared_length
</Location>
<Location /script>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application {root}/scripts/hello.wsgi
</Location>
<Location /relative-script>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application srv/scripts/hello.wsgi::other
</Location>
<Location /mixed-case>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption Mod_Python.WSGI.Application srv/scripts/hello.wsgi::other
</Location>
<Location /relative-script/unset>
    PythonOption mod_python.wsgi.application ""
</Location>
<Location /missing-script>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application {root}/scripts/nope.wsgi
</Location>
"""

SCRIPT = '''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"VERSION " + environ["SCRIPT_NAME"].encode() + b"\\n"]


def other(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"other callable\\n"]
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.support.site import SiteFactory

    factory = SiteFactory(tmp_path_factory.mktemp("wsgi-gateway"))
    yield factory.start(CONFIG, {"lib/pep3333_apps.py": "handlers/pep3333_apps.py",
                                 "scripts/hello.wsgi": SCRIPT.replace("VERSION", "one")},
                        workers=2)
    factory.close()


def fetch(server, path: str, **kwargs):
    with Client(server.port, timeout=10) as client:
        return client.request(get(path, **kwargs))


def test_generator_blocks_arrive_when_yielded(server):
    """Point 2: tick n is yielded at n * 0.5 s; each must reach the client then, not when
    the generator ends (Apache + mod_python sends them on time too)."""
    markers = [b"tick %d" % n for n in range(5)]
    seen = arrivals(server.port, get("/ticks", extra="Connection: close\r\n"), markers)
    assert_paced(seen, markers, period=TICK)
    assert seen.data.endswith(b"0\r\n\r\n")  # complete chunked body


def test_write_callable_sends_before_it_returns(server):
    seen = arrivals(server.port, get("/write_then_sleep", extra="Connection: close\r\n"),
                    [b"early", b"late"])
    assert_paced(seen, [b"early", b"late"], period=1.0)


def test_native_write_then_flush_sends_at_once(server):
    """Point 2, native side: req.write() + req.flush() reach the client before the
    handler goes on."""
    seen = arrivals(server.port, get("/native", extra="Connection: close\r\n"),
                    [b"early", b"late"])
    assert_paced(seen, [b"early", b"late"], period=1.0)


def test_list_response_keeps_its_content_length(server):
    """A list is already whole: one body with Content-Length, not chunks."""
    reply = fetch(server, "/script")
    assert reply.status == 200
    assert reply.header("content-length") == str(len(reply.body))
    assert reply.header("transfer-encoding") is None


def test_exc_info_before_any_block_replaces_status_and_headers(server):
    """Point 5: an empty block sends nothing, so the later exc_info call still replaces
    the status and headers and the application's error page is the response."""
    reply = fetch(server, "/error_page_after_empty_block")
    assert reply.status == 404
    assert reply.body == b"<h1>not found, from the application</h1>\n"
    assert reply.header("content-type") == "text/html"
    assert reply.header("x-dropped") is None


def test_exc_info_after_the_headers_went_out_re_raises(server):
    """PEP 3333: too late to replace; the exception goes on to the dispatcher, which logs it
    and closes the connection without ending the chunked body (no terminating chunk), so
    the client sees the response failed. Nothing (not PythonDebug's traceback, which
    mod_python would append) is added to a body already on the wire."""
    wire = raw_exchange(server.port, get("/exc_info_after_body"), timeout=10)
    head, _, body = wire.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Transfer-Encoding: chunked" in head
    assert body == b"8\r\npartial\n\r\n"
    assert "failure after the headers" in server.errors()


@pytest.mark.parametrize("path", ["/start_response_twice", "/never_starts"])
def test_start_response_misuse_is_an_error(server, path):
    reply = fetch(server, path)
    assert reply.status == 500
    assert b"start_response" in reply.body  # PythonDebug's traceback names the rule


def test_close_is_called_when_iteration_fails(server):
    with Client(server.port, timeout=10) as client:
        client.send(get("/fails_while_iterating"))
        data, _ = read_until_close(client.sock, timeout=10)
    assert b"first\n" in data
    deadline = time.monotonic() + 5
    while "failing_body_closed" not in server.errors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "failing_body_closed" in server.errors()


def chunked(body: bytes, piece: int = 7000) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + piece]), body[i:i + piece])
                   for i in range(0, len(body), piece))
    return out + b"0\r\n\r\n"


def test_chunked_request_body_reaches_the_application(server):
    """Point 6: no CONTENT_LENGTH, wsgi.input_terminated, and read() gives the body."""
    body = os.urandom(200_000)
    request = (b"PUT /body_digest HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               b"Content-Type: application/octet-stream\r\n\r\n" + chunked(body))
    with Client(server.port, timeout=10) as client:
        reply = client.request(request)
    assert reply.status == 200
    seen = json.loads(reply.body)
    assert seen == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                    "CONTENT_LENGTH": None, "input_terminated": True}


def test_content_length_body_still_reads_exactly(server):
    body = b"abc" * 1000
    request = (b"POST /body_digest HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body
    with Client(server.port, timeout=10) as client:
        seen = json.loads(client.request(request).body)
    assert (seen["length"], seen["CONTENT_LENGTH"]) == (3000, "3000")


def test_wsgi_input_is_iterable(server):
    body = b"one\ntwo\nthree\n"
    request = (b"POST /input_lines HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body
    with Client(server.port, timeout=10) as client:
        reply = client.request(request)
    assert (reply.status, reply.body) == (200, b"3 lines\n")


def test_no_content_has_no_content_type(server):
    reply = fetch(server, "/no_content")
    assert reply.status == 204
    assert reply.header("content-type") is None


def test_declared_content_length_is_kept_while_streaming(server):
    reply = fetch(server, "/declared_length")
    assert reply.status == 200
    assert reply.header("content-length") == str(3 * len(BIG_BLOCK))
    assert reply.body == BIG_BLOCK * 3


def test_native_flushing_writes_go_out_when_written(server):
    """req.write() flushes by default (mod_python's manual): from the second write on each
    goes out at once; the first is held until the second (0.5 s here), which keeps a lone
    write one response with a Content-Length."""
    markers = [b"line 0", b"line 1", b"line 2"]
    seen = arrivals(server.port, get("/native_lines", extra="Connection: close\r\n"),
                    markers)
    # Held: line 0 cannot arrive before line 1 is written, 0.5 s into the handler.
    assert seen.times[b"line 0"] >= 0.45, seen.times
    assert seen.times[b"line 1"] - seen.times[b"line 0"] < 0.25, seen.times
    assert_paced(seen, markers[1:], period=0.5, first_within=0.5 + STALL)


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.1"])
def test_declared_length_is_kept_by_native_handlers_and_the_connection_persists(server,
                                                                                  version):
    with Client(server.port, timeout=10) as client:
        for _ in range(2):  # keep-alive: the length delimits the body on 1.0 too
            reply = client.request(get("/native_length", version=version,
                                       extra="Connection: keep-alive\r\n"))
            assert reply.header("content-length") == str(3 * len(BIG_BLOCK))
            assert reply.header("transfer-encoding") is None
            assert reply.body == BIG_BLOCK * 3


def test_sendfile_under_the_handlers_length_keeps_it(server):
    reply = fetch(server, "/native_sendfile", version="HTTP/1.0")
    assert reply.header("content-length") == str(3 * len(BIG_BLOCK))
    assert reply.header("transfer-encoding") is None
    assert reply.body == BIG_BLOCK * 3


def test_body_shorter_than_its_length_closes_the_connection(server):
    """Never padded: what was sent, then the connection closes (the client sees a short
    body), and the error log says so."""
    wire = raw_exchange(server.port, get("/short_length"), timeout=10)
    head, _, body = wire.partition(b"\r\n\r\n")
    assert b"Content-Length: %d" % (3 * len(BIG_BLOCK)) in head
    assert body == BIG_BLOCK * 2
    assert wait_until(lambda: "shorter than its Content-Length" in server.errors())


def test_body_longer_than_its_length_is_cut_and_closes_the_connection(server):
    with Client(server.port, timeout=10) as client:
        client.send(get("/long_length") + get("/declared_length"))
        reply = client.response()
        rest, closed = read_until_close(client.sock, timeout=5)
    assert reply.header("content-length") == str(2 * len(BIG_BLOCK))
    assert reply.body == BIG_BLOCK * 2
    assert (rest, closed) == (b"", True)  # nothing more: the pipelined request is dropped
    assert wait_until(lambda: "longer than its Content-Length" in server.errors())


def test_a_block_that_is_the_whole_declared_body_goes_out_at_once(server):
    """It is sent as the complete response when yielded (one write, the connection kept),
    not when the generator, still working, ends."""
    with Client(server.port, timeout=10) as client:
        started = time.monotonic()
        client.send(get("/whole_then_sleep"))
        reply = client.response()
        elapsed = time.monotonic() - started
        assert (reply.status, reply.body) == (200, b"whole\n")
        assert reply.header("content-length") == "6"
        assert reply.header("transfer-encoding") is None
        assert elapsed < 1.5, elapsed  # the generator goes on for 2 s after its block
        client.send(get("/declared_length"))  # the same connection serves the next request
        assert client.response().body == BIG_BLOCK * 3


def test_a_block_after_the_whole_declared_body_is_dropped_and_logged(server):
    """The first block went out as the complete response, so its framing holds: the
    second is never sent, the error log says why, and the pipelined request is served."""
    with Client(server.port, timeout=10) as client:
        client.send(get("/whole_then_more") + get("/declared_length"))
        reply = client.response()
        assert (reply.status, reply.body) == (200, b"whole\n")
        assert reply.header("content-length") == "6"
        assert client.response().body == BIG_BLOCK * 3
    assert wait_until(lambda: "response body longer than its Content-Length (6): the "
                              "response went out complete, 5 more bytes dropped"
                      in server.errors())


def test_script_file_is_the_application(server):
    reply = fetch(server, "/script/x")
    assert (reply.status, reply.body) == (200, b"one /script\n")


def test_relative_script_path_is_under_server_root_with_a_callable(server):
    reply = fetch(server, "/relative-script")
    assert (reply.status, reply.body) == (200, b"other callable\n")


def test_edited_script_is_executed_again(server):
    """PythonAutoReload (On by default): a changed mtime re-executes the script in every
    worker that runs it, as mod_wsgi's script reloading does."""
    script = server.root / "scripts" / "hello.wsgi"
    script.write_text(SCRIPT.replace("VERSION", "two"))
    later = time.time() + 5
    os.utime(script, (later, later))
    for _ in range(4):  # both workers, whichever takes the connection
        assert fetch(server, "/script").body == b"two /script\n"


def test_option_names_are_case_insensitive(server):
    """mod_python's tables ignore case: PythonOption's name as the handler reads it."""
    reply = fetch(server, "/mixed-case")
    assert (reply.status, reply.body) == (200, b"other callable\n")


def test_an_option_set_to_nothing_is_unset(server):
    """`PythonOption name ""` removes the option (get_options() leaves it out): the nested
    section's handler has no application to run (KeyError, as mod_python 3.5 reports it)."""
    reply = fetch(server, "/relative-script/unset")
    assert reply.status == 500 and b"KeyError" in reply.body


def test_missing_script_is_a_clear_error(server):
    reply = fetch(server, "/missing-script")
    assert reply.status == 500
    assert b"cannot read the WSGI script" in reply.body
    assert b"nope.wsgi" in reply.body


@pytest.mark.parametrize("extra, expected", [
    ("", {}),
    # a repeated name: headers_in joins the values, and so does the variable
    ("X-Twice: one\r\nx-twice: two\r\nAuthorization: Basic dTpw\r\n",
     {"HTTP_X_TWICE": "one, two"}),
    ("Content-Type: text/plain\r\nX_Refused: 1\r\nProxy: p\r\nAuthorization: Basic dTpw\r\n",
     {"CONTENT_TYPE": "text/plain"}),
])
def test_environ_is_what_the_request_tables_say(server, extra, expected):
    """The environ is built without making subprocess_env or headers_in; both, made
    afterwards, hold what the environ holds, in the same order (as mod_python's
    PyDict_Merge of subprocess_env), whichever headers were sent."""
    seen = json.loads(fetch(server, "/environ_and_tables/x?q=1", extra=extra).body)
    environ = [tuple(item) for item in seen["environ"]]
    assert environ == [tuple(item) for item in seen["table"]]
    names = {name for name, _ in environ}
    for key, value in expected.items():
        assert (key, value) in environ
    assert not {"HTTP_X_REFUSED", "HTTP_PROXY", "HTTP_AUTHORIZATION"} & names
    headers = [(f"HTTP_{name.upper().replace('-', '_')}", value)
               for name, value in seen["headers_in"]
               if name.lower() not in ("content-type", "authorization", "proxy", "x_refused")]
    assert [item for item in environ if item[0].startswith("HTTP_")] == headers
    assert ("PATH_INFO", "/x") in environ and ("QUERY_STRING", "q=1") in environ
    auth = "Basic dTpw" if "Authorization" in extra else None
    assert seen["authorization"] == auth
