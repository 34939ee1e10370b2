"""End-to-end checks of the extension, run by `cargo test` (rust/e2e_tests.rs) inside an
embedded interpreter, with `_core` injected as a global. Each test starts an Engine on a
loopback listener, talks to it with a client thread over real sockets and checks the bytes.
Bounded: every wait has a deadline of a few seconds. Not collected by pytest."""

import re
import socket
import threading
import time

H = b"Host: a\r\n"


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
    eng = _core.Engine([sock.fileno()], limits or _core.Limits())  # noqa: F821
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
    reqs += b"GET /3 HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET /4 HTTP/1.1\r\n" + H + b"\r\n"
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

    out, _, _ = run(b"\r\nPOST /p?q=1 HTTP/1.0\r\nX-A:  caf\xe9 \r\nContent-Length: 3\r\n\r\nxyz", look)
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


def test_stream_echo_reads_body_after_headers():
    def stream_echo(r):
        r.send_response(200, None, [("Content-Length", "99")], b"", False)
        while True:
            p = r.read_body(4)
            if not p:
                break
            r.write(p)

    req = b"POST /s HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\n0123456789"
    req += b"GET /next HTTP/1.1\r\n" + H + b"\r\n"
    out, _, served = run(req, lambda r: stream_echo(r) if r.target == "/s" else hi(r))
    assert served == ["/s", "/next"], served
    assert b"Transfer-Encoding: chunked\r\n" in out and b"Content-Length: 99" not in out
    assert b"\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\nHTTP/1.1 200" in out, out


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
        (b"GET / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
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
        out, eng, served = run(data + canary, hi, limits=_core.Limits(body=100))  # noqa: F821
        assert served == [] and statuses(out) == [want], (data[:40], out[:80])
        assert b"Connection: close\r\n" in out and b"text/html" in out
        assert eng.rejected_requests == 1


def test_bad_chunk_raises_bad_request_error():
    caught = []

    def h(r):
        try:
            r.read_body()
        except _core.BadRequestError as e:  # noqa: F821
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
    lim = _core.Limits(header_timeout=0.5, keepalive_timeout=0.3, timeout=0.5)  # noqa: F821
    t = time.time()
    out, eng, _ = run(b"GET / HTTP/1.1\r\nHo", hi, limits=lim, shut=False)
    assert statuses(out) == [408] and 0.4 < time.time() - t < 3, (out, time.time() - t)
    t = time.time()
    out, _, _ = run(b"GET / HTTP/1.1\r\n" + H + b"\r\n", hi, limits=lim, shut=False)
    assert statuses(out) == [200] and not out.endswith(b"<TIMEOUT>"), out
    assert 0.2 < time.time() - t < 3
    out, _, _ = run(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 9\r\n\r\nabc", hi, limits=lim,
                    shut=False)
    assert statuses(out) == [408], out


def test_read_timeout_is_an_oserror():
    errs = []

    def h(r):
        try:
            r.read_body()
        except OSError as e:
            errs.append((type(e).__name__, str(e)))
            r.abort()

    lim = _core.Limits(timeout=0.3, preread_body=0)  # noqa: F821
    run(b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 9\r\n\r\nabc", h, limits=lim, shut=False)
    assert errs == [("TimeoutError", "Client read error (Timeout?)")], errs


def test_many_idle_connections_and_close_idle():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    eng = _core.Engine([sock.fileno()], _core.Limits())  # noqa: F821
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
    deadline = time.time() + 5
    while eng.open_connections < 300 and time.time() < deadline:
        assert eng.next_request(0.05) is None
    assert eng.open_connections == 300
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("o", xfer(port, b"GET / HTTP/1.1\r\n" + H + b"\r\n")))
    t.start()
    r = None
    while r is None and time.time() < deadline:
        r = eng.next_request(0.05)
    hi(r)
    t.join()
    assert statuses(res["o"]) == [200]
    eng.stop_accepting()
    assert eng.close_idle() == 0
    for c in conns:
        c.settimeout(2)
        assert c.recv(10) == b""
        c.close()
