"""WSGI applications for tests/integration/test_wsgi_gateway.py: each one exercises one
PEP 3333 rule of mod_python.wsgi (streaming, the write callable, exc_info, close(), the
request body, framing)."""

import hashlib
import json
import sys
import time

from mod_python import apache

TICK = 0.5


def ticks(environ, start_response):
    """Five lines meant for 0, 0.5, 1.0, 1.5 and 2.0 s (issue 13 point 2)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    for n in range(5):
        if n:
            time.sleep(TICK)
        yield b"tick %d\n" % n


def write_then_sleep(environ, start_response):
    """The write callable sends before it returns; the iterable's block comes 1 s later."""
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"early\n")
    time.sleep(1.0)
    return [b"late\n"]


def error_page_after_empty_block(environ, start_response):
    """An empty block sends nothing, so exc_info may still replace the headers."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Dropped", "1")])
    yield b""
    try:
        raise KeyError("late failure")
    except KeyError:
        start_response("404 Not Found", [("Content-Type", "text/html")], sys.exc_info())
    yield b"<h1>not found, from the application</h1>\n"


def exc_info_after_body(environ, start_response):
    """Headers are out: exc_info re-raises and the response is cut short."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"partial\n"
    try:
        raise ValueError("failure after the headers")
    except ValueError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                       sys.exc_info())
    yield b"never sent\n"


def start_response_twice(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"accepted twice\n"]


def never_starts(environ, start_response):
    return [b"no status\n"]


class FailingBody:
    """Its iteration fails half-way; close() must run all the same."""

    def __iter__(self):
        yield b"first\n"
        raise RuntimeError("the body failed")

    def close(self):
        apache.log_error("failing_body_closed")


def fails_while_iterating(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return FailingBody()


def body_digest(environ, start_response):
    """What the application sees of the request body."""
    data = environ["wsgi.input"].read()
    answer = {
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "CONTENT_LENGTH": environ.get("CONTENT_LENGTH"),
        "input_terminated": environ.get("wsgi.input_terminated"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


def input_lines(environ, start_response):
    """PEP 3333: wsgi.input is iterable (lines)."""
    lines = list(environ["wsgi.input"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d lines\n" % len(lines)]


def no_content(environ, start_response):
    """Django's HttpResponse(status=204) carries its default Content-Type."""
    start_response("204 No Content", [("Content-Type", "text/html; charset=utf-8")])
    return [b""]


BIG_BLOCK = b"x" * (100 * 1024)


def declared_length(environ, start_response):
    """A streamed body with the length the application declared (issue 13 point 3)."""
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(3 * len(BIG_BLOCK)))])
    for _ in range(3):
        yield BIG_BLOCK


def whole_then_sleep(environ, start_response):
    """One block that is the whole declared body, then 2 s more of the generator's work:
    the block reaches the client when it is yielded, not when the iterator ends."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    yield b"whole\n"
    time.sleep(4 * TICK)


def whole_then_more(environ, start_response):
    """Declares one block's length, yields it and then another: the first is the complete
    response, the second has no place in it."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return iter([b"whole\n", b"more\n"])


def short_length(environ, start_response):
    """Declares three blocks, sends two: the connection closes instead of padding."""
    start_response("200 OK", [("Content-Length", str(3 * len(BIG_BLOCK)))])
    return iter([BIG_BLOCK, BIG_BLOCK])


def long_length(environ, start_response):
    """Declares two blocks, sends three: the third is cut off and the connection closed."""
    start_response("200 OK", [("Content-Length", str(2 * len(BIG_BLOCK)))])
    return iter([BIG_BLOCK, BIG_BLOCK, BIG_BLOCK])


def native_declared_length(req):
    """A native handler's req.set_content_length() kept over a streamed body."""
    req.content_type = "application/octet-stream"
    req.set_content_length(3 * len(BIG_BLOCK))
    for _ in range(3):
        req.write(BIG_BLOCK)
    return apache.OK


def native_lines(req):
    """Flushing writes (req.write's default) half a second apart, then a lone write."""
    req.content_type = "text/plain"
    for n in range(3):
        if n:
            time.sleep(0.5)
        req.write(b"line %d\n" % n)
    return apache.OK


def native_sendfile_length(req):
    """req.set_content_length() then req.sendfile() of a file past the output buffer: the
    file goes out with sendfile(2) under the handler's length, not chunked."""
    path = req.get_options()["big_file"]
    with open(path, "wb") as out:
        out.write(BIG_BLOCK * 3)
    req.content_type = "application/octet-stream"
    req.set_content_length(3 * len(BIG_BLOCK))
    req.sendfile(path)
    return apache.OK


def native_write_flush(req):
    """A native handler: req.write() then req.flush() reaches the client at once."""
    req.content_type = "text/plain"
    req.write(b"early\n")
    req.flush()
    time.sleep(1.0)
    req.write(b"late\n")
    return apache.OK


def environ_and_tables(environ, start_response):
    """The environ beside what mod_python.wsgi leaves in the request's tables: the CGI
    variables in subprocess_env (made when first asked for, after the environ was built)
    and the headers in headers_in."""
    req = environ["wsgi.input"]
    cgi = [[name, value] for name, value in environ.items()
           if not name.startswith("wsgi.") and name != "HTTP_AUTHORIZATION"]
    body = json.dumps({"environ": cgi, "table": [list(item) for item in
                                                 req.subprocess_env.items()],
                       "headers_in": [list(item) for item in req.headers_in.items()],
                       "authorization": environ.get("HTTP_AUTHORIZATION")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
