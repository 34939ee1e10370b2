"""A stand-in for the engine's `RawRequest`, for tests that drive the dispatcher without
sockets: it answers the attributes the dispatcher and the request record read, and records
what would have gone to the wire (status, headers, body, whether the response was complete).

Owns nothing of the server: it only implements `_core.RawRequest`'s surface (see _core.pyi).
"""

from __future__ import annotations

import time
from typing import Optional


class FakeRawRequest:
    """One parsed request head (and body), and the response the dispatcher sends for it."""

    def __init__(self, target: str, method: str = "GET", host: str = "localhost",
                 headers: Optional[list[tuple[str, str]]] = None, body: bytes = b"",
                 protocol: str = "HTTP/1.1") -> None:
        self.method = method
        self.target = target
        self.protocol = protocol
        self.proto_num = 1001 if protocol == "HTTP/1.1" else 1000
        self.the_request = f"{method} {target} {protocol}"
        self.headers = [("Host", host), *(headers or [])]
        if body:
            self.headers.append(("Content-Length", str(len(body))))
        self.remote_addr = ("127.0.0.1", 40000)
        self.local_addr = ("127.0.0.1", 8080)
        self.keepalive_count = 1
        self.client_keepalive = True
        self.content_length: Optional[int] = len(body) if body else None
        self.chunked = False
        self.expect_continue = False
        self.request_time = time.time()
        self._body = body
        # What the dispatcher sent.
        self.status: Optional[int] = None
        self.reason: Optional[str] = None
        self.sent_headers: list[tuple[str, str]] = []
        self.body = b""
        self.complete = False
        self.finished = False
        self.aborted = False
        self.unsent_length = 0  # the engine's count of a declared length left unsent

    # -- the head ---------------------------------------------------------------------------

    def header(self, name: str) -> Optional[str]:
        lower = name.lower()
        return next((value for key, value in self.headers if key.lower() == lower), None)

    @property
    def headers_sent(self) -> bool:
        return self.status is not None

    @property
    def bytes_sent(self) -> int:
        return len(self.body)

    # -- the body ---------------------------------------------------------------------------

    def read_body(self, size: int = -1) -> bytes:
        if size < 0:
            size = len(self._body)
        chunk, self._body = self._body[:size], self._body[size:]
        return chunk

    # -- the response -----------------------------------------------------------------------

    def send_response(self, status: int, reason: Optional[str], headers: list[tuple[str, str]],
                      body: bytes, complete: bool) -> None:
        assert self.status is None, "a second response head"
        self.status, self.reason, self.sent_headers = status, reason, list(headers)
        self.body += body if self.method != "HEAD" else b""
        self.complete = complete
        if complete:
            self.finished = True

    def send_file(self, file, offset: int = 0, count: int = -1, status: int = 200,
                  reason: Optional[str] = None, headers=None, complete: bool = False) -> int:
        if self.status is None:
            self.send_response(status, reason, headers or [], b"", False)
        if isinstance(file, int):
            import os
            size = os.fstat(file).st_size
            data = os.pread(file, size - offset if count < 0 else count, offset)
        else:
            with open(file, "rb") as handle:
                handle.seek(offset)
                data = handle.read() if count < 0 else handle.read(count)
        self.body += data if self.method != "HEAD" else b""
        if complete:
            self.finished = True
        return len(data)

    def write(self, data: bytes) -> None:
        assert self.status is not None and not self.finished, "write outside a response"
        self.body += data if self.method != "HEAD" else b""

    def finish(self) -> None:
        self.finished = True

    def abort(self) -> None:
        self.aborted = True

    def sent_header(self, name: str) -> Optional[str]:
        lower = name.lower()
        return next((value for key, value in self.sent_headers if key.lower() == lower), None)
