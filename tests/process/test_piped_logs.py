"""Piped logs and syslog, as httpd runs them: `ErrorLog "|command"` and `CustomLog
"|command" format` start one program each in the master, kept across reloads and started
again when it dies; `ErrorLog syslog:facility` sends the lines to the syslog socket."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.support.proc import children
from tests.support.site import wait_until, worker_pids

from .helpers import APP, APP_CONF, get

PIPED_CONF = APP_CONF + """ErrorLog "|cat >> {root}/piped-error.log"
CustomLog "|$cat >> {root}/piped-access.log" common
"""


def loggers(master_pid: int) -> list[int]:
    """The master's children that are not workers: its log programs."""
    workers = set(worker_pids(master_pid))
    return [pid for pid in children(master_pid) if pid not in workers]


def test_piped_error_and_access_logs(site):
    server = site(PIPED_CONF, {"app.py": APP}, workers=2)
    error_log = Path(server.root) / "piped-error.log"
    access_log = Path(server.root) / "piped-access.log"
    programs = loggers(server.pid)
    assert len(programs) == 2  # one per command, whatever the number of workers
    for _ in range(4):
        assert get(server.port, "/app/x")[0] == 200
    assert wait_until(lambda: access_log.exists()
                      and access_log.read_text().count('"GET /app/x HTTP/1.1" 200') == 4)
    assert wait_until(lambda: error_log.exists() and "master started" in error_log.read_text())

    # A reload keeps the programs (the same command) and the new workers write to them.
    old_workers = set(server.workers())
    os.kill(server.pid, signal.SIGHUP)
    assert wait_until(lambda: not set(server.workers()) & old_workers)
    assert sorted(loggers(server.pid)) == sorted(programs)
    get(server.port, "/app/y")
    assert wait_until(lambda: "GET /app/y" in access_log.read_text())

    # A program that dies is started again on the same pipe: no line is lost after it.
    os.kill(programs[0], signal.SIGKILL)
    assert wait_until(lambda: programs[0] not in loggers(server.pid)
                      and len(loggers(server.pid)) == 2)
    get(server.port, "/app/z")
    assert wait_until(lambda: "GET /app/z" in access_log.read_text())
    assert wait_until(lambda: "piped log program" in error_log.read_text())

    # At shutdown the programs read EOF and end.
    remaining = loggers(server.pid)
    server.stop()
    assert wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") and
                                      "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                                      for pid in remaining))


@pytest.fixture
def syslog_socket():
    """A datagram socket at /dev/log (the machine has no syslog daemon)."""
    if os.path.exists("/dev/log"):
        pytest.skip("/dev/log belongs to the machine's syslog daemon")
    if os.geteuid() != 0:
        pytest.skip("creating /dev/log needs root")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    sock.settimeout(0.2)
    try:
        yield sock
    finally:
        sock.close()
        os.unlink("/dev/log")


def test_error_log_to_syslog_facility(site, syslog_socket):
    site(APP_CONF + "ErrorLog syslog:local1\n", {"app.py": APP}, workers=1)
    seen: list[bytes] = []

    def received(text: bytes) -> bool:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                seen.append(syslog_socket.recv(65536))
            except TimeoutError:
                pass
        return any(text in line for line in seen)
    assert wait_until(lambda: received(b"master started"))
    # local1 is facility 17; notice is 5: <17*8+5>, the program name and pid from openlog.
    line = next(line for line in seen if b"master started" in line)
    assert line.startswith(b"<141>") and b"prefork-modpy[" in line, line
    assert b"[mpm_prefork:notice]" in line
