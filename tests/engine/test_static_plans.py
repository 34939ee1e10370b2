"""The engine's static plans (rust/staticplan.rs) through its Python API: a request that
matches a plan is answered by the engine (Python never sees it) with the plan's head, the
file's bytes and one access line; anything that could change the answer goes to Python,
and a changed file drops the plan. Each test runs an Engine on a loopback listener with a
client thread; every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time

from prefork_modpy import _core
from prefork_modpy.config.server import Limits
from prefork_modpy.httpd import errorpages

HEADERS = [("Content-Type", "text/plain"), ("ETag", '"x"'), ("Accept-Ranges", "bytes")]
LOG = [b"", "peer", b" - - ", "time", b' "GET /f HTTP/1.1" 200 ', "bytes-", b' "',
       ("header", "User-Agent"), b'"\n']


class Rig:
    """An engine on a loopback port, a planned file and an access log."""

    def __init__(self, tmp_path, body=b"planned body\n"):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.engine = _core.Engine([self.sock.fileno()], Limits(), errorpages.STATUS_LINES,
                                   errorpages.error_body)
        self.file = tmp_path / "f.txt"
        self.file.write_bytes(body)
        self.log_path = tmp_path / "access.log"
        self.log_fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.python: list[str] = []  # what reached Python: "METHOD target"

    def plan(self, host="a", target="/f", pieces=LOG):
        info = os.stat(self.file)
        self.engine.add_static_plan(
            ("127.0.0.1", self.port), host, target, str(self.file),
            (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns),
            None, HEADERS, [(self.log_fd, pieces)])

    def exchange(self, data: bytes, seconds: float = 4.0) -> bytes:
        """Send `data` on one connection, half-close, and serve until the client has all;
        Python's share is answered "py" (and noted in self.python)."""
        result: dict[str, bytes] = {}
        client = threading.Thread(target=lambda: result.setdefault("out", self._client(data)))
        client.start()
        deadline = time.monotonic() + seconds
        while client.is_alive() and time.monotonic() < deadline:
            raw = self.engine.next_request(0.05)
            if raw is not None:
                self.python.append(f"{raw.method} {raw.target}")
                raw.send_response(200, None, [("Content-Type", "text/plain")], b"py", True)
        client.join(1)
        return result.get("out", b"")

    def _client(self, data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port)) as c:
            c.settimeout(3)
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            out = b""
            while chunk := c.recv(65536):
                out += chunk
            return out

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def close(self):
        os.close(self.log_fd)
        self.sock.close()


def req(target="/f", host="a", extra="", method="GET", version="HTTP/1.1") -> bytes:
    host_line = f"Host: {host}\r\n" if host is not None else ""
    return f"{method} {target} {version}\r\n{host_line}{extra}\r\n".encode("latin-1")


def bodies(out: bytes) -> list[bytes]:
    """The bodies of the Content-Length-framed responses in `out`."""
    found = []
    for m in re.finditer(rb"\r\nContent-Length: (\d+)\r\n(?:.*?\r\n)*?\r\n", out):
        start = m.end()
        found.append(out[start:start + int(m.group(1))])
    return found


def test_a_planned_request_is_answered_by_the_engine_with_the_plans_head(tmp_path):
    rig = Rig(tmp_path)
    try:
        rig.plan()
        out = rig.exchange(req(extra='User-Agent: t "q"\\ \xe9\t!\r\n') + req())
        assert rig.python == []  # Python saw neither
        assert out.count(b"HTTP/1.1 200 OK\r\n") == 2
        head = out.split(b"\r\n\r\n", 1)[0].decode()
        for name, value in HEADERS:
            assert f"\r\n{name}: {value}" in head
        assert "\r\nDate: " in head and "\r\nServer: " in head
        assert bodies(out) == [b"planned body\n"] * 2
        assert rig.engine.take_static_counts() == (2, 26, ("127.0.0.1", "/f"))
        assert rig.engine.take_static_counts() == (0, 0, None)
        first, second = rig.log_lines()
        stamp = re.escape(time.strftime("[%d/%b/%Y:", time.localtime()))
        assert re.fullmatch(r'127\.0\.0\.1 - - ' + stamp
                            + r'\d\d:\d\d:\d\d [+-]\d{4}\] "GET /f HTTP/1\.1" 200 13 '
                            r'"t \\"q\\"\\\\ \\xe9\\t!"', first), first
        assert second.endswith('200 13 "-"')
    finally:
        rig.close()


def test_what_could_change_the_answer_goes_to_python(tmp_path):
    rig = Rig(tmp_path)
    try:
        rig.plan()
        sent = [
            req(extra='If-None-Match: "x"\r\n'),
            req(extra="If-Modified-Since: Sun, 06 Dec 2026 00:00:00 GMT\r\n"),
            req(extra="Range: bytes=0-1\r\n"),
            req(extra="if-range: \"x\"\r\nRange: bytes=0-1\r\n"),
            req(extra="If-Match: *\r\n"),
            req(extra="If-Unmodified-Since: Sun, 06 Dec 2026 00:00:00 GMT\r\n"),
            req(method="HEAD"),
            req(version="HTTP/1.0", extra="Connection: keep-alive\r\n"),
            req(host="b"),
            req(host=None, version="HTTP/1.0", extra="Connection: keep-alive\r\n"),
            req(target="/f?x"),
            req(extra="Content-Length: 2\r\n") + b"ab",
            req(extra="Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n",
            req(),  # the only one the plan answers
        ]
        out = rig.exchange(b"".join(sent))
        assert len(rig.python) == len(sent) - 1, rig.python
        assert bodies(out)[-1] == b"planned body\n"
        assert out.count(b"\r\n\r\npy") == len(sent) - 2  # and the HEAD's head
        assert rig.engine.take_static_counts() == (1, 13, ("127.0.0.1", "/f"))
    finally:
        rig.close()


def test_a_changed_file_drops_the_plan_and_goes_to_python(tmp_path):
    rig = Rig(tmp_path)
    try:
        rig.plan()
        assert bodies(rig.exchange(req())) == [b"planned body\n"]
        # Same size, and the mtime put back: only the ctime tells (a plan that trusted
        # the size and mtime would send the new bytes under the old validators).
        info = os.stat(rig.file)
        rig.file.write_bytes(b"PLANNED BODY\n")
        os.utime(rig.file, ns=(info.st_atime_ns, info.st_mtime_ns))
        assert rig.exchange(req()).endswith(b"\r\n\r\npy")
        assert rig.engine.static_plans == 0
        rig.plan()
        rig.file.unlink()
        assert rig.exchange(req()).endswith(b"\r\n\r\npy")
        assert rig.engine.static_plans == 0
        assert rig.python == ["GET /f", "GET /f"]
    finally:
        rig.close()


def test_the_plans_are_forgotten_on_request(tmp_path):
    rig = Rig(tmp_path)
    try:
        rig.plan()
        rig.plan(target="/g")
        assert rig.engine.static_plans == 2
        rig.engine.clear_static_plans()
        assert rig.engine.static_plans == 0
        assert rig.exchange(req()).endswith(b"\r\n\r\npy")
    finally:
        rig.close()


def test_python_gets_control_while_the_engine_answers_a_stream_of_planned_requests(tmp_path):
    """next_request returns None when its timeout passes, however many planned requests
    keep arriving: the worker's ticks (heartbeat, log reopening, the master check) run."""
    rig = Rig(tmp_path)
    stop = threading.Event()

    def hammer():  # 8 pipelined requests at a time; again on a new connection after 100
        while not stop.is_set():
            with socket.create_connection(("127.0.0.1", rig.port)) as c, \
                    contextlib.suppress(OSError):
                c.settimeout(3)
                while not stop.is_set():
                    c.sendall(req() * 8)
                    got = b""
                    while got.count(b"planned body\n") < 8 and (chunk := c.recv(65536)):
                        got += chunk
                    if b"Connection: close" in got:
                        break

    try:
        rig.plan()
        client = threading.Thread(target=hammer, daemon=True)
        client.start()
        returns = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            began = time.monotonic()
            assert rig.engine.next_request(0.2) is None
            returns.append(time.monotonic() - began)
        served, _, _ = rig.engine.take_static_counts()
        assert served > 100 and len(returns) >= 5 and max(returns) < 0.5, (served, returns)
    finally:
        stop.set()
        rig.close()


def test_bad_plans_are_refused(tmp_path):
    rig = Rig(tmp_path)
    try:
        for pieces in ([b"x", "nonsense"], [("footer", "X")]):
            try:
                rig.plan(pieces=pieces)
            except ValueError as exc:
                assert "log piece" in str(exc)
            else:
                raise AssertionError(f"{pieces} accepted")
        assert rig.engine.static_plans == 0
    finally:
        rig.close()
