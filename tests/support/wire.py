"""The raw HTTP/1.1 client the suites share: responses are read exactly as framed
(Content-Length, chunked, or until the server closes), so a test sees every byte the server
sent, interim 100s included, and can tell a clean close from a reset.

Owns `Client` (one connection), `read_until_close` (the one read-to-EOF loop) and
`raw_exchange` (send bytes, read until the server closes). Must not parse leniently: a
response that does not frame is an error, never guessed at.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated name keeps its last value
    body: bytes = b""
    head: bytes = b""
    trailer: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Client:
    """One connection to 127.0.0.1:`port`."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError(f"server closed; buffered: {self.buf[:200]!r}")
        self.buf += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, head_request: bool = False) -> Response:
        """The next response (a 1xx interim response is one too)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        resp = Response(status, headers, head=raw)
        if head_request or status < 200 or status in (204, 304):
            return resp
        if headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    break
                parts.append(self._exactly(size))
                assert self._exactly(2) == b"\r\n"
            while (line := self._line()) != b"":
                name, _, value = line.decode("latin-1").partition(":")
                resp.trailer[name.lower()] = value.strip()
            resp.body = b"".join(parts)
        elif "content-length" in headers:
            resp.body = self._exactly(int(headers["content-length"]))
        else:
            resp.body = self.read_to_end()
        return resp

    def request(self, data: bytes, head_request: bool = False) -> Response:
        self.send(data)
        return self.response(head_request)

    def read_to_end(self) -> bytes:
        """Everything until the server closes its side."""
        rest, _ = read_until_close(self.sock)
        out, self.buf = self.buf + rest, b""
        return out

    def closed_cleanly(self, timeout: float = 5.0) -> bool:
        """True if the server ends the stream (FIN) with nothing more; a reset raises."""
        self.sock.settimeout(timeout)
        return self.read_to_end() == b""


def get(path: str, host: str = "t", extra: str = "", method: str = "GET",
        version: str = "HTTP/1.1") -> bytes:
    return f"{method} {path} {version}\r\nHost: {host}\r\n{extra}\r\n".encode()


def timed_get(port: int, path: str = "/app/hello") -> float:
    """Seconds from connect to the whole response of a fresh client."""
    start = time.perf_counter()
    with Client(port) as c:
        r = c.request(get(path, extra="Connection: close\r\n"))
    assert r.status == 200, r
    return time.perf_counter() - start


def read_until_close(sock: socket.socket, timeout: float | None = None,
                     reset_is_close: bool = False) -> tuple[bytes, bool]:
    """Read until the server closes its side: (bytes read, closed). With `timeout`, stop
    after that many seconds in all (closed False then); without, each recv waits as long
    as the socket's own timeout allows and raises past it. A reset raises unless
    `reset_is_close`, which counts it as the close."""
    chunks = []
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return b"".join(chunks), False
            sock.settimeout(left)
        try:
            chunk = sock.recv(1 << 16)
        except socket.timeout:
            if deadline is None:
                raise
            return b"".join(chunks), False
        except ConnectionError:
            if not reset_is_close:
                raise
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a fresh connection; what came back before the server closed (or
    before `timeout` seconds passed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received, _ = read_until_close(sock, timeout)
    return received
