"""End-to-end checks of the extension through its Python API: each test starts an Engine on
a loopback listener, talks to it with a client thread over real sockets and checks the bytes.
Bounded: every wait has a deadline of a few seconds."""

import os
import re
import socket
import sys
import threading
import time

import pytest

from prefork_modpy import _core
from prefork_modpy.config.server import Limits
from prefork_modpy.httpd import errorpages

H = b"Host: a\r\n"


def new_engine(sock, limits):
    return _core.Engine([sock.fileno()], limits, errorpages.STATUS_LINES, errorpages.error_body)


def xfer(port, data, timeout=3.0, shut=True, pieces=None, wait_first=None):
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(timeout)
    out = b""
    try:
        if wait_first is not None:
            c.sendall(data)
            out += c.recv(len(wait_first))
            data = pieces
        for p in [data] if pieces is None or wait_first is not None else pieces:
            c.sendall(p)
        if shut:
            c.shutdown(socket.SHUT_WR)
        while True:
            b = c.recv(65536)
            if not b:
                break
            out += b
    except socket.timeout:
        out += b"<TIMEOUT>"
    finally:
        c.close()
    return out


def run(data, handler, limits=None, **kw):
    """Serve `data` from one client connection; `handler(r)` answers each request.
    Returns (client bytes, engine, [targets served])."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    eng = new_engine(sock, limits or Limits())
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("out", xfer(port, data, **kw)))
    t.start()
    served = []
    deadline = time.time() + 6
    while t.is_alive() and time.time() < deadline:
        r = eng.next_request(0.05)
        if r is not None:
            served.append(r.target)
            handler(r)
            r.finish()
    t.join()
    sock.close()
    return result.get("out", b""), eng, served


def statuses(out):
    return [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", out)]


def hi(r):
    r.send_response(200, None, [("Content-Type", "text/plain")], b"hi", True)


def echo(r):
    body = r.read_body()
    r.send_response(200, None, [("X-Len", str(len(body)))], body, True)


def test_keepalive_and_pipelining():
    reqs = b"GET /1 HTTP/1.1\r\n" + H + b"\r\nGET /2 HTTP/1.1\r\n" + H + b"\r\n"
    reqs += b"GET /3 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n"
    reqs += b"GET /4 HTTP/1.1\r\n" + H + b"\r\n"
    out, eng, served = run(reqs, hi)
    assert served == ["/1", "/2", "/3"], served
    assert statuses(out) == [200, 200, 200], out
    assert out.count(b"Connection: close") == 1 and out.endswith(b"hi"), out
    assert eng.rejected_requests == 0


def test_request_attributes():
    seen = {}

    def look(r):
        seen.update(method=r.method, target=r.target, protocol=r.protocol, proto=r.proto_num,
                    line=r.the_request, headers=r.headers, host=r.header("HOST"),
                    none=r.header("x-none"), remote=r.remote_addr[0], count=r.keepalive_count,
                    ka=r.client_keepalive, cl=r.content_length, chunked=r.chunked,
                    expect=r.expect_continue, age=time.time() - r.request_time,
                    sent_before=(r.bytes_sent, r.headers_sent))
        r.send_response(200, "Fine", [], b"abc", True)
        seen["sent_after"] = (r.bytes_sent, r.headers_sent)

    data = b"\r\nPOST /p?q=1 HTTP/1.0\r\nX-A:  caf\xe9 \r\nContent-Length: 3\r\n\r\nxyz"
    out, _, _ = run(data, look)
    assert out.startswith(b"HTTP/1.1 200 Fine\r\n"), out
    assert seen["method"] == "POST" and seen["target"] == "/p?q=1", seen
    assert seen["protocol"] == "HTTP/1.0" and seen["proto"] == 1000
    assert seen["line"] == "POST /p?q=1 HTTP/1.0"
    assert seen["headers"] == [("X-A", "caf\xe9"), ("Content-Length", "3")], seen["headers"]
    assert seen["host"] is None and seen["none"] is None
    assert seen["remote"] == "127.0.0.1" and seen["count"] == 1 and seen["ka"] is False
    assert seen["cl"] == 3 and seen["chunked"] is False and seen["expect"] is False
    assert 0 <= seen["age"] < 5
    assert seen["sent_before"] == (0, False) and seen["sent_after"] == (3, True)


def test_bodies_cl_and_chunked():
    big = bytes(range(256)) * 600
    req = b"POST /e HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % len(big) + big
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 7000]), big[i:i + 7000])
                      for i in range(0, len(big), 7000))
    req += b"POST /c HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" + chunks
    req += b"0\r\nTrailer: x\r\n\r\n"
    out, _, served = run(req, echo)
    assert served == ["/e", "/c"] and statuses(out) == [200, 200]
    assert out.count(big) == 2, len(out)


def stream_echo(r, length=None):
    headers = [("Content-Length", length)] if length else []
    r.send_response(200, None, headers, b"", False)
    while True:
        p = r.read_body(4)
        if not p:
            break
        r.write(p)


ECHO_THEN_NEXT = (b"POST /s HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\n0123456789"
                  + b"GET /next HTTP/1.1\r\n" + H + b"\r\n")


def test_stream_echo_reads_body_after_headers():
    out, _, served = run(ECHO_THEN_NEXT, lambda r: stream_echo(r) if r.target == "/s" else hi(r))
    assert served == ["/s", "/next"], served
    assert b"Transfer-Encoding: chunked\r\n" in out
    assert b"\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\nHTTP/1.1 200" in out, out


def test_streamed_body_keeps_the_handlers_content_length():
    out, _, served = run(ECHO_THEN_NEXT,
                         lambda r: stream_echo(r, "10") if r.target == "/s" else hi(r))
    assert served == ["/s", "/next"], served
    assert b"Content-Length: 10\r\n" in out and b"Transfer-Encoding" not in out
    assert b"\r\n\r\n0123456789HTTP/1.1 200" in out


def test_streamed_body_shorter_than_its_length_closes_the_connection():
    """Never padded: the connection closes after the 10 bytes, so /next is not served."""
    out, _, served = run(ECHO_THEN_NEXT,
                         lambda r: stream_echo(r, "99") if r.target == "/s" else hi(r))
    assert served == ["/s"], served
    assert b"Content-Length: 99\r\n" in out and out.endswith(b"\r\n\r\n0123456789")


def test_head_204_304_and_http10_streaming():
    def h(r):
        if r.target == "/204":
            r.send_response(204, None, [], b"dropped", True)
        elif r.target == "/304":
            r.send_response(304, None, [], b"", True)
        else:
            r.send_response(200, None, [], b"body", r.target != "/stream")
            if r.target == "/stream":
                r.write(b"more")

    req = b"HEAD /h HTTP/1.1\r\n" + H + b"\r\nGET /204 HTTP/1.1\r\n" + H + b"\r\n"
    req += b"GET /304 HTTP/1.1\r\n" + H + b"\r\n"
    req += b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    out, _, served = run(req, h, shut=False)
    assert served == ["/h", "/204", "/304", "/stream"], served
    parts = out.split(b"HTTP/1.1 ")
    assert parts[1].endswith(b"Content-Length: 4\r\n\r\n"), parts[1]
    assert b"Content-Length" not in parts[2] and parts[2].endswith(b"\r\n\r\n")
    assert b"Content-Length" not in parts[3]
    assert b"Connection: close" in parts[4] and parts[4].endswith(b"\r\n\r\nbodymore"), parts[4]


def test_expect_continue():
    def h(r):
        if r.target == "/read":
            echo(r)
        else:
            r.send_response(401, None, [], b"no", True)

    req = b"POST /read HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    out, _, _ = run(req, h, pieces=b"hello", wait_first=b"HTTP/1.1 100 Continue\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), out
    assert out.endswith(b"hello")
    req = b"POST /no HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    out, _, _ = run(req + b"GET /canary HTTP/1.1\r\n" + H + b"\r\n", h)
    assert statuses(out) == [401] and b"Connection: close" in out and b"100" not in out, out


def test_refusals_close_and_never_reach_the_canary():
    canary = b"GET /canary HTTP/1.1\r\n" + H + b"\r\n"
    vectors = [
        (b"GET / HTTP/1.1\r\n" + H
         + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"get / HTTP/1.1\r\n" + H + b"\r\n", 501),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + H + b"X: " + b"v" * 9000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\nHost: a\n\n", 400),
        (b"GET / HTTP/1.1\r\n" + H + b"Expect: nope\r\n\r\n", 417),
        (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 101\r\n\r\n", 413),
    ]
    for data, want in vectors:
        out, eng, served = run(data + canary, hi, limits=Limits(body=100))
        assert served == [] and statuses(out) == [want], (data[:40], out[:80])
        assert b"Connection: close\r\n" in out and b"text/html" in out
        assert eng.rejected_requests == 1


def test_refusals_and_reasons_are_httpds_from_errorpages():
    """The engine's own refusals and a handler's status without a reason use the table and
    pages given to Engine (httpd's wording), not a table of the engine's own."""
    cases = [
        (b"POST /up HTTP/1.1\r\n" + H + b"Content-Length: 101\r\n\r\n", 413, "POST"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, "GET"),
        (b"FOO&BAR / HTTP/1.1\r\n" + H + b"\r\n", 501, "FOO&BAR"),
    ]
    for data, status, method in cases:
        out, _, _ = run(data, hi, limits=Limits(body=100))
        head, _, body = out.partition(b"\r\n\r\n")
        line = f"HTTP/1.1 {status} {errorpages.STATUS_LINES[status]}".encode()
        assert head.startswith(line + b"\r\n"), head
        assert body == errorpages.error_body(status, method), body
    assert b"FOO&amp;BAR not supported" in errorpages.error_body(501, "FOO&BAR")

    def answer(status):
        return lambda r: r.send_response(status, None, [], b"x", True)

    for status in (413, 414, 416, 422):
        out, _, _ = run(b"GET / HTTP/1.1\r\n" + H + b"\r\n", answer(status))
        line = f"HTTP/1.1 {status} {errorpages.STATUS_LINES[status]}\r\n".encode()
        assert out.startswith(line), out[:60]
    out, _, _ = run(b"GET / HTTP/1.1\r\n" + H + b"\r\n", answer(299))
    assert out.startswith(b"HTTP/1.1 299 Unknown\r\n"), out[:60]


def test_reason_table_is_checked_and_a_failing_page_is_an_empty_one(monkeypatch):
    with pytest.raises(ValueError, match="control character"):
        _core.Engine([], Limits(), {200: "O\r\nK"}, errorpages.error_body)
    with pytest.raises(ValueError, match="three digits"):
        _core.Engine([], Limits(), {42: "Odd"}, errorpages.error_body)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def broken_page(status, method):
        raise RuntimeError("no page")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    eng = _core.Engine([sock.fileno()], Limits(), errorpages.STATUS_LINES, broken_page)
    result = {}
    port = sock.getsockname()[1]
    t = threading.Thread(target=lambda: result.setdefault(
        "out", xfer(port, b"GET / HTTP/2.0\r\n\r\n")))
    t.start()
    deadline = time.time() + 6
    while t.is_alive() and time.time() < deadline:
        assert eng.next_request(0.05) is None
    t.join()
    sock.close()
    assert [type(u.exc_value) for u in unraisable] == [RuntimeError]
    out = result["out"]
    assert out.startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"), out
    assert out.endswith(b"Content-Length: 0\r\nConnection: close\r\n\r\n"), out


def test_bad_chunk_raises_bad_request_error():
    caught = []

    def h(r):
        try:
            r.read_body()
        except _core.BadRequestError as e:
            caught.append(e.status)
            r.send_response(e.status, None, [], b"bad", True)

    req = b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0 \r\n\r\n"
    out, _, served = run(req + b"GET /canary HTTP/1.1\r\n" + H + b"\r\n", h)
    assert caught == [400] and served == ["/"], (caught, served)
    assert statuses(out) == [400] and b"Connection: close" in out


def test_header_validation_writes_nothing():
    errors = []

    def h(r):
        for bad in ([("X", "a\r\nSet-Cookie: x=1")], [("Bad Name", "v")], [("X", "\x00")]):
            try:
                r.send_response(200, None, bad, b"", True)
            except ValueError as e:
                errors.append(str(e))
        for status in (99, 1000):
            try:
                r.send_response(status, None, [], b"", True)
            except ValueError as e:
                errors.append(str(e))
        assert not r.headers_sent
        r.send_response(200, None, [], b"ok", True)
        for f in (lambda: r.write(b"x"), lambda: r.read_body(), r.finish, r.abort, r.finish):
            try:
                f()
            except (ValueError, OSError) as e:
                errors.append(type(e).__name__)

    out, _, _ = run(b"GET / HTTP/1.1\r\n" + H + b"\r\n", h)
    assert statuses(out) == [200] and out.endswith(b"ok") and b"Set-Cookie" not in out, out
    assert len(errors) == 7 and errors[5:] == ["ValueError", "ValueError"], errors


def test_timeouts():
    lim = Limits(header_timeout=0.5, keepalive_timeout=0.3, timeout=0.5)
    t = time.time()
    out, eng, _ = run(b"GET / HTTP/1.1\r\nHo", hi, limits=lim, shut=False)
    assert statuses(out) == [408] and 0.4 < time.time() - t < 3, (out, time.time() - t)
    t = time.time()
    out, _, _ = run(b"GET / HTTP/1.1\r\n" + H + b"\r\n", hi, limits=lim, shut=False)
    assert statuses(out) == [200] and not out.endswith(b"<TIMEOUT>"), out
    assert 0.2 < time.time() - t < 3
    # A stalled pre-read body goes to the handler anyway, as httpd lets the handler meet the
    # timeout: one that never reads the body answers; one that reads it gets the timeout.
    stalled = b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 9\r\n\r\nabc"
    out, _, _ = run(stalled, hi, limits=lim, shut=False)
    assert statuses(out) == [200], out
    errors = []

    def reader(r):
        try:
            r.read_body()
        except TimeoutError as exc:
            errors.append(str(exc))
            r.send_response(500, None, [], b"", True)

    out, _, _ = run(stalled, reader, limits=lim, shut=False)
    assert errors == ["Client read error (Timeout?)"] and statuses(out) == [500], (errors, out)


def test_read_timeout_is_an_oserror():
    errs = []

    def h(r):
        try:
            r.read_body()
        except OSError as e:
            errs.append((type(e).__name__, str(e)))
            r.abort()

    lim = Limits(timeout=0.3, preread_body=0)
    run(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 9\r\n\r\nabc", h, limits=lim, shut=False)
    assert errs == [("TimeoutError", "Client read error (Timeout?)")], errs


def test_many_idle_connections_and_close_idle():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    eng = new_engine(sock, Limits())
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
    deadline = time.time() + 5
    while eng.open_connections < 300 and time.time() < deadline:
        assert eng.next_request(0.05) is None
    assert eng.open_connections == 300
    res = {}
    get = b"GET / HTTP/1.1\r\n" + H + b"\r\n"
    t = threading.Thread(target=lambda: res.setdefault("o", xfer(port, get)))
    t.start()
    while t.is_alive() and time.time() < deadline:
        r = eng.next_request(0.05)
        if r is not None:
            hi(r)
    t.join()
    assert statuses(res["o"]) == [200] and not res["o"].endswith(b"<TIMEOUT>")
    eng.stop_accepting()
    # Half-closed: each client sees a clean end of stream; the engine lingers until the
    # client closes too.
    assert eng.close_idle() == 300
    for c in conns:
        c.settimeout(2)
        assert c.recv(10) == b""
        c.close()
    while eng.open_connections and time.time() < deadline:
        assert eng.next_request(0.05) is None
    assert eng.open_connections == 0


def _engine(limits=None, backlog=16):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    eng = new_engine(sock, limits or Limits())
    return sock, sock.getsockname()[1], eng


def _serve_one(eng, handler, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = eng.next_request(0.05)
        if r is not None:
            handler(r)
            r.finish()
            return r
    raise AssertionError("no request")


def _recv_response(c, timeout=3.0):
    """One response with a Content-Length body (or none), read from `c`."""
    c.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        b = c.recv(65536)
        assert b, data
        data += b
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length: (\d+)", head)
    n = int(m.group(1)) if m and not head.startswith(b"HTTP/1.1 304") else 0
    while len(rest) < n:
        rest += c.recv(65536)
    return head, rest


def test_close_idle_serves_a_waiting_request_and_half_closes_the_rest():
    sock, port, eng = _engine()
    busy = socket.create_connection(("127.0.0.1", port))
    idle = socket.create_connection(("127.0.0.1", port))
    for c in (busy, idle):
        c.sendall(b"GET /first HTTP/1.1\r\n" + H + b"\r\n")
        _serve_one(eng, hi)
        assert _recv_response(c)[1] == b"hi"
    eng.next_request(0.05)  # both connections are back in the engine, idle
    busy.sendall(b"GET /waiting HTTP/1.1\r\n" + H + b"\r\n")
    time.sleep(0.1)  # in the kernel's queue, not read by the engine yet
    assert eng.close_idle() == 2
    r = _serve_one(eng, hi)
    assert r.target == "/waiting"
    assert _recv_response(busy)[1] == b"hi"
    idle.settimeout(2)
    assert idle.recv(10) == b""  # end of stream, not a reset
    idle.sendall(b"GET /late HTTP/1.1\r\n" + H + b"\r\n")  # read and dropped
    idle.close()
    deadline = time.time() + 3
    while eng.open_connections > 1 and time.time() < deadline:
        assert eng.next_request(0.05) is None
    assert eng.open_connections == 1
    busy.close()
    sock.close()


def test_draining_closes_after_the_running_request():
    sock, port, eng = _engine()
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET /a HTTP/1.1\r\n" + H + b"\r\n")

    def h(r):
        assert not eng.draining
        eng.set_draining(True)  # a graceful stop begins while this request runs
        r.send_response(200, None, [], b"", False)
        r.write(b"streamed")

    _serve_one(eng, h)
    c.settimeout(3)
    out = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        out += b
    assert b"Connection: close\r\n" in out and out.endswith(b"0\r\n\r\n"), out
    assert eng.draining
    # A kept-alive connection whose request began before the drain is closed after it.
    eng.set_draining(False)
    d = socket.create_connection(("127.0.0.1", port))
    d.sendall(b"GET /b HTTP/1.1\r\n" + H + b"\r\n")

    def h2(r):
        r.send_response(200, None, [], b"", False)
        eng.set_draining(True)
        r.write(b"x")

    _serve_one(eng, h2)
    d.settimeout(3)
    out = b""
    while True:
        b = d.recv(65536)
        if not b:
            break
        out += b
    assert out.endswith(b"1\r\nx\r\n0\r\n\r\n") and b"Connection: close" not in out, out
    sock.close()


def test_refusals_are_queued_for_the_access_log():
    out, eng, _ = run(b"\r\nGET /x?y HTTP/1.1\nHost: a\n\n", hi)
    assert statuses(out) == [400]
    (peer, local, line, status, nbytes, when), = eng.take_refusals()
    assert peer[0] == "127.0.0.1" and local[0] == "127.0.0.1" and peer[1] > 0
    assert (line, status) == ("GET /x?y HTTP/1.1", 400)
    assert nbytes == len(out.split(b"\r\n\r\n", 1)[1]) and abs(time.time() - when) < 5
    assert eng.take_refusals() == []
    lim = Limits(header_timeout=0.3, header_min_rate=0)
    out, eng, _ = run(b"POST /slow HTTP/1.1\r\nHo", hi, limits=lim, shut=False)
    assert statuses(out) == [408]
    assert [(r[2], r[3]) for r in eng.take_refusals()] == [("POST /slow HTTP/1.1", 408)]


def _slow_client(port, pieces, interval, result):
    """Send `pieces` `interval` seconds apart, then read until the server closes."""
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(5)
    out = b""
    t0 = time.time()
    try:
        for p in pieces:
            c.sendall(p)
            time.sleep(interval)
            c.setblocking(False)
            try:
                out += c.recv(65536)
            except (BlockingIOError, ConnectionError):
                pass
            c.settimeout(5)
            if out:
                break
        while True:
            b = c.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    result["out"], result["t"] = out, time.time() - t0
    c.close()


def _serve_while(eng, t, handler=hi, timeout=8):
    served = []
    deadline = time.time() + timeout
    while t.is_alive() and time.time() < deadline:
        r = eng.next_request(0.02)
        if r is not None:
            served.append(r.target)
            handler(r)
            r.finish()
    t.join()
    return served


def test_header_timeout_grows_with_min_rate_up_to_its_cap():
    lim = Limits(header_timeout=0.4, header_timeout_max=1.2, header_min_rate=100)
    head = b"GET /ok HTTP/1.1\r\n" + H + b"X-Pad: " + b"p" * 160 + b"\r\n\r\n"
    cases = [
        # 20 bytes / 0.1 s = 200 B/s > MinRate: ~1 s in all, beyond the initial 0.4 s.
        ([head[i:i + 20] for i in range(0, len(head), 20)], 0.1, 200, (0.7, 1.2)),
        # 2 bytes / 0.1 s: the clock barely moves; 408 just after 0.4 s.
        ([head[i:i + 2] for i in range(0, len(head), 2)], 0.1, 408, (0.35, 0.9)),
        # Fast enough but endless: 408 at the 1.2 s cap.
        ([b"GET /x HTTP/1.1\r\n"] + [b"X-A: " + b"a" * 40 + b"\r\n"] * 100, 0.1, 408, (1.1, 1.8)),
    ]
    for pieces, interval, want, (lo, hi_t) in cases:
        sock, port, eng = _engine(lim)
        res = {}
        t = threading.Thread(target=_slow_client, args=(port, pieces, interval, res))
        t.start()
        _serve_while(eng, t)
        sock.close()
        assert statuses(res["out"]) == [want], res
        if want == 408:
            assert lo < res["t"] < hi_t, (want, res["t"])


def test_body_min_rate_timeout_error_in_the_handler():
    head = b"POST /p HTTP/1.1\r\n" + H + b"Content-Length: 1000\r\n\r\n"
    errors = []

    def h(r):
        t0 = time.time()
        try:
            r.read_body()
        except TimeoutError:
            errors.append(time.time() - t0)
            r.send_response(408, None, [], b"", True)

    # Pre-read (Content-Length <= preread_body): the engine hands the request over when the
    # body clock runs out and the read fails at once. Read by the handler: the read blocks
    # until then.
    for preread, (low, high) in ((65536, (0.0, 0.2)), (0, (0.3, 1.5))):
        lim = Limits(body_timeout=0.4, body_min_rate=100, timeout=5, preread_body=preread)
        sock, port, eng = _engine(lim)
        errors.clear()
        res = {}
        t = threading.Thread(target=_slow_client,
                             args=(port, [head] + [b"b" * 5] * 50, 0.1, res))
        t.start()
        served = _serve_while(eng, t, h)
        sock.close()
        assert served == ["/p"] and len(errors) == 1 and low <= errors[0] < high, errors
        assert statuses(res["out"]) == [408] and 0.35 < res["t"] < 1.5, res
        assert eng.take_refusals() == []
    # A body at a good rate is read in full, past the initial timeout.
    sock, port, eng = _engine(lim)
    res = {}
    body = []
    t = threading.Thread(target=_slow_client,
                         args=(port, [head] + [b"b" * 100] * 10, 0.08, res))
    t.start()
    _serve_while(eng, t, lambda r: (body.append(len(r.read_body())), echo_len(r)))
    sock.close()
    assert body == [1000] and statuses(res["out"]) == [200], res


def echo_len(r):
    r.send_response(200, None, [], b"", True)


def test_send_file():
    import tempfile

    data = bytes(range(256)) * 1200  # 300 KiB: sendfile(2); small pieces are copied
    f = tempfile.NamedTemporaryFile(delete=False)
    f.write(data)
    f.close()
    fd = os.open(f.name, os.O_RDONLY)
    sent = []

    def h(r):
        if r.target == "/whole":
            sent.append(r.send_file(f.name, status=200, headers=[("Content-Type", "x/y")],
                                    complete=True))
        elif r.target == "/small":
            sent.append(r.send_file(fd, 10, 20, complete=True))
        elif r.target == "/pieces":
            r.send_response(200, None, [], b"<", False)
            sent.append(r.send_file(fd, 0, 100000))
            sent.append(r.send_file(fd, 250000))
            sent.append(r.send_file(fd, len(data) + 5))  # nothing left: an empty piece
            r.write(b">")
        elif r.target == "/missing":
            try:
                r.send_file("/nonexistent/file", complete=True)
            except OSError as e:
                sent.append(type(e).__name__)
            r.send_response(404, None, [], b"", True)

    reqs = b"".join(b"%s %s HTTP/1.1\r\n" % (m, t) + H + b"\r\n" for m, t in [
        (b"GET", b"/whole"), (b"HEAD", b"/whole"), (b"GET", b"/small"), (b"GET", b"/pieces"),
        (b"GET", b"/missing")])
    def last(r):
        r.send_response(200, None, [], b"", False)
        r.send_file(fd, 0, 70000)

    out, _, served = run(reqs + b"GET /last HTTP/1.0\r\n\r\n",
                         lambda r: h(r) if r.target != "/last" else last(r))
    os.close(fd)
    os.unlink(f.name)
    assert served == ["/whole", "/whole", "/small", "/pieces", "/missing", "/last"], served
    assert sent == [len(data), 0, 20, 100000, len(data) - 250000, 0, "FileNotFoundError"], sent
    parts = out.split(b"HTTP/1.1 ")
    head, body = parts[1].split(b"\r\n\r\n", 1)
    assert b"Content-Length: %d" % len(data) in head and b"Content-Type: x/y" in head
    assert body == data
    head, body = parts[2].split(b"\r\n\r\n", 1)
    assert b"Content-Length: %d" % len(data) in head and body == b"", parts[2][:200]
    assert parts[3].endswith(b"Content-Length: 20\r\n\r\n" + data[10:30]), parts[3][-80:]
    head, body = parts[4].split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding: chunked" in head
    want = b"1\r\n<\r\n%x\r\n%s\r\n%x\r\n%s\r\n1\r\n>\r\n0\r\n\r\n" % (
        100000, data[:100000], len(data) - 250000, data[250000:])
    assert body == want
    assert parts[5].startswith(b"404 ")
    head, body = parts[6].split(b"\r\n\r\n", 1)
    assert b"Connection: close" in head and body == data[:70000]


def test_queued_connections_are_counted_by_the_engine_that_owns_the_listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    fd = os.dup(sock.fileno())  # the engine closes its listener in stop_accepting
    sock.close()
    eng = _core.Engine([fd], Limits(), errorpages.STATUS_LINES, errorpages.error_body)
    port = _port_of(fd)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        deadline = time.time() + 3
        while eng.queued_connections() < 3 and time.time() < deadline:
            time.sleep(0.01)
        assert eng.queued_connections() == 3
        assert eng.next_request(0.3) is None  # accepts them; they send nothing
        assert (eng.queued_connections(), eng.open_connections) == (0, 3)
        late = socket.create_connection(("127.0.0.1", port))
        clients.append(late)
        deadline = time.time() + 3
        while eng.queued_connections() < 1 and time.time() < deadline:
            time.sleep(0.01)
        assert eng.queued_connections() == 1
        eng.stop_accepting()
        assert eng.queued_connections() == 0
    finally:
        for c in clients:
            c.close()


def _port_of(fd):
    with socket.socket(fileno=os.dup(fd)) as s:
        return s.getsockname()[1]
