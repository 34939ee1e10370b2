"""A small HTTP/1.1 client over a raw socket for tests/engine: responses are read exactly as
framed (Content-Length, chunked, or until the server closes), so a test sees every byte
the server sent, interim 100s included, and can tell a clean close from a reset."""

from __future__ import annotations

import resource
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path


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
        while True:
            data = self.sock.recv(1 << 16)
            if not data:
                out, self.buf = self.buf, b""
                return out
            self.buf += data

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


def raise_nofile(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))
