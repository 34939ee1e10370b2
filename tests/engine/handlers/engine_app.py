"""Handler for tests/engine: one behaviour per path under /app (see each branch).

/app/hello          "hello" (Content-Length)
/app/args           the query string, for telling pipelined responses apart
/app/pid            the worker's pid
/app/sleep?S        sleeps S seconds, then "slept"
/app/stream?N       N MiB written 1 MiB at a time (chunked on HTTP/1.1)
/app/stream10?N     N KiB flushed 1 KiB at a time (close-delimited on HTTP/1.0)
/app/echo           reads the whole body: "<length> <sha256>"
/app/pieces         reads the body with req.read(1000) until it is empty, same answer
/app/lateread       waits 0.3 s, then reads the body (100-continue goes out only then)
/app/deny           401 without reading the body
/app/file?O,L       req.sendfile(<DocumentRoot>/big.bin, O, L)
"""

import hashlib
import os
import time

from mod_python import apache

MIB = b"x" * (1 << 20)


def _body(req, data):
    req.content_type = "text/plain"
    req.write(data)
    return apache.OK


def _digest(req, data):
    return _body(req, f"{len(data)} {hashlib.sha256(data).hexdigest()}")


def handler(req):
    name = req.uri.rsplit("/", 1)[-1]
    arg = req.args or ""
    if name == "hello":
        return _body(req, "hello")
    if name == "args":
        return _body(req, arg)
    if name == "pid":
        return _body(req, str(os.getpid()))
    if name == "sleep":
        time.sleep(float(arg or 1))
        return _body(req, "slept")
    if name == "stream":
        req.content_type = "application/octet-stream"
        for _ in range(int(arg or 1)):
            req.write(MIB)
        return apache.OK
    if name == "stream10":
        req.content_type = "text/plain"
        for _ in range(int(arg or 1)):
            req.write(b"k" * 1024)
            req.flush()
        return apache.OK
    if name == "echo":
        return _digest(req, req.read())
    if name == "pieces":
        parts = []
        while True:
            piece = req.read(1000)
            if not piece:
                break
            parts.append(piece)
        return _digest(req, b"".join(parts))
    if name == "lateread":
        time.sleep(0.3)
        return _digest(req, req.read())
    if name == "deny":
        return apache.HTTP_UNAUTHORIZED
    if name == "file":
        offset, _, length = arg.partition(",")
        path = os.path.join(req.document_root(), "big.bin")
        req.content_type = "application/octet-stream"
        req.sendfile(path, int(offset or 0), int(length or -1))
        return apache.OK
    return apache.HTTP_NOT_FOUND
