"""ISSUE 15 finding 5: request bodies are limited in the engine while it reads, for both
framings, and a refused body never reaches the worker's memory. Measured on the worker:
its VmHWM is reset (/proc/PID/clear_refs) before the request and read after it.
The 1 GiB default is compared with Apache in tests/compat/test_body_limit_compat.py."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from prefork_modpy.config.server import Limits, load_config
from tests.support.proc import proc_status_kb

MIB = 1 << 20

READ_ALL = '''from mod_python import apache


def handler(req):
    data = req.read()
    req.content_type = "text/plain"
    req.write("read %d" % len(data))
    return apache.OK
'''

CONF = """LimitRequestBody {limit}
<Directory {{root}}/r>
    SetHandler mod_python
    PythonHandler reader
</Directory>
"""


def test_default_is_httpds_1_gib(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:8080\n")
    assert Limits().body == load_config(str(conf)).limits.body == 1 << 30


def status_of(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


def post_chunked(port: int, total: int, chunk: int = 64 * 1024) -> int:
    """A chunked body of `total` bytes in `chunk`-byte chunks; the status the server sent
    (it may answer and close before the body is all sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST /r/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        block = f"{chunk:x}\r\n".encode() + b"z" * chunk + b"\r\n"
        try:
            for _ in range(total // chunk):
                sock.sendall(block)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # refused and closed mid-body: the status is already there
        return status_of(sock)


def post_length(port: int, length: int, send: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST /r/x HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n"
                     .encode())
        try:
            sock.sendall(b"z" * send)
        except OSError:
            pass
        return status_of(sock)


@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_over_the_limit_is_413_and_the_worker_stays_small(site, framing: str) -> None:
    server = site(CONF.format(limit=MIB), {"r/reader.py": READ_ALL}, workers=1)
    (worker,) = server.workers()
    assert post_chunked(server.port, 64 * 1024) == 200  # warm: the handler is imported
    Path(f"/proc/{worker}/clear_refs").write_text("5")
    before = proc_status_kb(worker, "VmHWM")
    if framing == "chunked":
        status = post_chunked(server.port, 64 * MIB)
    else:
        status = post_length(server.port, 64 * MIB, 8 * MIB)
    growth_kib = proc_status_kb(worker, "VmHWM") - before
    print(f"\n{framing}: 64 MiB body against a 1 MiB limit -> {status}; "
          f"worker VmHWM +{growth_kib} KiB")
    assert status == 413
    assert growth_kib < 8 * 1024
    assert post_chunked(server.port, MIB) == 200  # exactly the limit is admitted
    assert post_chunked(server.port, MIB + 64 * 1024) == 413
