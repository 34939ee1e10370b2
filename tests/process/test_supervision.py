"""Supervision: boot failures, the Timeout watchdog, recycling, privileges, pid file, spare
workers, the shared-memory scoreboard."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.site import SiteFactory, free_port, wait_until, worker_pids
from tests.support.wire import read_until_close

from .helpers import APP, APP_CONF, get
from .loadgen import LoadGenerator

HANG_CONF = APP_CONF + """
Timeout 1
<Location /spin>
    SetHandler mod_python
    PythonHandler app::spin
    PythonPath "sys.path + ['{root}']"
</Location>
<Location /read>
    SetHandler mod_python
    PythonHandler app::read_slowly
    PythonPath "sys.path + ['{root}']"
</Location>
<Location /sleep>
    SetHandler mod_python
    PythonHandler app::sleep_forever
    PythonPath "sys.path + ['{root}']"
</Location>
"""


def run_master(tmp_path, config: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
    conf = tmp_path / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:{free_port()}\nDocumentRoot {tmp_path}\n"
                    f"ErrorLog {tmp_path}/error.log\n" + config)
    return subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-w", "2"],
                          capture_output=True, text=True, timeout=timeout, cwd=str(tmp_path))


def test_python_import_error_in_every_worker_is_fatal(tmp_path):
    (tmp_path / "broken.py").write_text("def oops(:\n")
    started = time.monotonic()
    result = run_master(tmp_path, "PythonImport broken main_interpreter\n")
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert "fatal: no worker could start" in result.stderr
    assert "PythonImport broken" in result.stderr and "SyntaxError" in result.stderr
    log = (tmp_path / "error.log").read_text()
    assert "directive_PythonImport" in log and "def oops(:" in log


def test_python_import_errors_log_keeps_mod_python_behaviour(site):
    server = site(APP_CONF + "PythonImportErrors Log\nPythonImport nosuchmodule x\n",
                  {"app.py": APP})
    assert get(server.port, "/app/x")[0] == 200
    assert "error importing nosuchmodule" in server.errors()


@pytest.mark.parametrize("path", ["/spin", "/sleep"])
def test_stuck_handler_is_killed_at_timeout_with_its_stack(site, path):
    server = site(HANG_CONF, {"app.py": APP}, workers=1)
    victim = server.workers()[0]
    started = time.monotonic()
    try:
        status, _, _ = get(server.port, path, timeout=10)
    except ConnectionError:
        status = 0  # killed before it could answer: also acceptable
    assert time.monotonic() - started < 5
    assert status in (0, 500)
    assert wait_until(lambda: victim not in server.workers() and len(server.workers()) == 1)
    log = server.errors()
    assert f"Timeout: worker 1 (pid {victim}) busy for" in log
    assert f"serving GET {path} for 127.0.0.1" in log
    function = "spin" if path == "/spin" else "sleep_forever"
    assert "File " in log and f"in {function}" in log  # faulthandler's stack dump
    assert f"the stuck request was in PythonHandler app::{function} for GET {path}" in log
    assert get(server.port, "/app/x")[0] == 200


def test_trickled_body_ends_inside_the_rust_read_with_the_handlers_error(site):
    """ISSUE 15 finding 11 with issue 13's Timeout: a client sending one body byte every
    0.2 s keeps each read alive, so the watchdog leaves the worker alone (bytes flow, as
    httpd's Timeout per read); mod_reqtimeout's body MinRate ends the read inside the
    engine (a Rust call) and the handler gets mod_python's IOError there: a 500 naming the
    handler, never "Already mutably borrowed", and the worker lives on."""
    import socket

    conf = HANG_CONF + "RequestReadTimeout header=20 body=1,MinRate=500\n"
    server = site(conf, {"app.py": APP}, workers=1)
    worker = server.workers()[0]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
        answer = b""
        sock.settimeout(0.2)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and b"\r\n\r\n" not in answer:
            try:
                sock.sendall(b"x")
                answer += sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
    assert answer.startswith(b"HTTP/1.1 500 "), answer[:200]
    log = server.errors()
    assert "Already mutably borrowed" not in log
    assert wait_until(lambda: "PythonHandler app::read_slowly" in server.errors())
    assert server.workers() == [worker]
    assert get(server.port, "/app/x")[0] == 200


def test_slow_download_of_a_static_file_outlives_timeout(site):
    """Issue 13 point 4: `Timeout 1` bounds each wait, not the transfer. A 24 MiB static
    file read by a slow client (1 MiB each 0.1 s, about 2.5 s in all) arrives whole and
    the worker is not flagged: the master's watchdog leaves a worker inside the engine's
    I/O (sendfile here) to the engine's own per-wait Timeout."""
    size = 24 << 20
    server = site(HANG_CONF, {"app.py": APP, "big.bin": "x" * size}, workers=1)
    victim = server.workers()[0]
    started = time.monotonic()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        received = 0
        while True:
            time.sleep(0.1)
            chunk = sock.recv(1 << 20, socket.MSG_WAITALL)
            if not chunk:
                break
            received += len(chunk)
    assert time.monotonic() - started > 2.0
    assert received > size  # head + body, nothing cut
    assert server.workers() == [victim]
    assert "Timeout: worker" not in server.errors()


def test_slow_upload_outlives_timeout(site):
    """The same for a body read by the handler: 8 pieces of 64 KiB, one each 0.3 s (about
    2.4 s in all) under `Timeout 1`; req.read() waits in the engine, each wait under 1 s."""
    conf = HANG_CONF + ("<Location /upload>\n    SetHandler mod_python\n"
                        "    PythonHandler upload\n    PythonPath \"sys.path + ['{root}']\"\n"
                        "</Location>\n")
    upload = ("from mod_python import apache\n\n\ndef handler(req):\n"
              "    req.write('%d bytes' % len(req.read()))\n    return apache.OK\n")
    server = site(conf, {"app.py": APP, "upload.py": upload}, workers=1)
    victim = server.workers()[0]
    piece = b"u" * (64 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % (8 * len(piece)))
        for _ in range(8):
            time.sleep(0.3)
            sock.sendall(piece)
        reply, _ = read_until_close(sock, 10)
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"524288 bytes")
    assert server.workers() == [victim]
    assert "Timeout: worker" not in server.errors()


def test_max_requests_recycles_with_no_failed_request(site):
    server = site(APP_CONF + "MaxRequestsPerChild 40\nMaxRequestsJitter 10\n",
                  {"app.py": APP}, workers=2)
    first = set(server.workers())
    counts = LoadGenerator(server.port, "/app/x", threads=3, duration=5,
                           max_requests=600).start().join()
    print(f"MaxRequestsPerChild 40 (+0..10), 600 requests: {counts}")
    assert counts.ok == 600 and counts.failed == 0 and counts.refused == 0, counts
    assert not set(server.workers()) & first
    assert "MaxRequestsPerChild reached" in server.errors()


def test_max_requests_flag_overrides_config(site):
    server = site(APP_CONF, {"app.py": APP}, workers=1, extra_args=("--max-requests", "3"))
    pids = {get(server.port, "/app/x")[2].split()[1] for _ in range(7)}
    assert len(pids) >= 3


def test_memory_limit_recycles_after_the_request(site):
    conf = APP_CONF.replace("PythonHandler app\n", "PythonHandler app::hog\n")
    server = site(conf + "MaxMemoryPerChild 60M\n", {"app.py": APP}, workers=1)
    victim = server.workers()[0]
    status, _, body = get(server.port, "/app/x")
    assert (status, body) == (200, b"hogging")
    assert wait_until(lambda: victim not in server.workers() and len(server.workers()) == 1)
    assert "MaxMemoryPerChild reached" in server.errors()


def test_pid_file_written_removed_and_guarding(site, tmp_path):
    pid_file = tmp_path / "run.pid"
    server = site(APP_CONF + f"PidFile {pid_file}\n", {"app.py": APP}, workers=1)
    assert pid_file.read_text().strip() == str(server.pid)
    second = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(server.conf),
                             "-b", f"127.0.0.1:{free_port()}"],
                            capture_output=True, text=True, timeout=20)
    assert second.returncode == 1 and "already running" in second.stderr
    assert server.stop() == 0
    assert not pid_file.exists()


@pytest.fixture
def public_site():
    """Like `site`, in a directory other users can read (pytest's tmp dirs are 0700)."""
    base = Path(tempfile.mkdtemp(prefix="prefork-modpy-"))
    base.chmod(0o755)
    factory = SiteFactory(base)
    yield factory.start
    factory.close()
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_workers_drop_privileges_to_user_and_group(public_site):
    import grp
    import pwd

    conf = APP_CONF.replace("PythonHandler app\n", "PythonHandler app::whoami\n")
    server = public_site(conf + "User nobody\nGroup nogroup\n", {"app.py": APP}, workers=1)
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    assert get(server.port, "/app/x")[2].decode() == f"{uid} {gid} [{gid}]"
    with open(f"/proc/{server.workers()[0]}/status") as handle:
        status = dict(line.split(":", 1) for line in handle if ":" in line)
    assert status["Uid"].split() == [str(uid)] * 4
    assert status["Gid"].split() == [str(gid)] * 4
    assert status["CapEff"].strip() == "0000000000000000"
    with open(f"/proc/{server.pid}/status") as handle:
        assert "Uid:\t0\t" in handle.read()  # the master keeps root to bind and reopen


def test_unknown_user_is_a_config_error(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("Listen 127.0.0.1:1\n\nUser no-such-user-here\n")
    result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-t"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert f"{conf}:3: User: no such user" in result.stderr


def test_spare_workers_shrink_to_max_spare_servers(site):
    server = site(APP_CONF + "StartServers 4\nMinSpareServers 1\nMaxSpareServers 2\n",
                  {"app.py": APP}, workers=4, extra_args=())
    assert wait_until(lambda: len(server.workers()) == 2)
    assert get(server.port, "/app/x")[0] == 200


def test_spare_workers_grow_to_min_spare_servers(site):
    server = site(APP_CONF + "StartServers 1\n", {"app.py": APP}, workers=1)
    # Turned on by a reload (starting with it, the growth could outrun the fixture's count).
    server.conf.write_text(server.conf.read_text() + "MinSpareServers 3\nMaxSpareServers 5\n")
    os.kill(server.pid, signal.SIGHUP)
    assert wait_until(lambda: len(server.workers()) >= 3)
    assert get(server.port, "/app/x")[0] == 200


def test_orphaned_workers_exit_when_the_master_is_killed(site):
    server = site(APP_CONF, {"app.py": APP}, workers=2)
    workers = server.workers()
    os.kill(server.pid, signal.SIGKILL)
    server.proc.wait(5)

    def gone() -> bool:
        return not any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in workers)
    assert wait_until(gone)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_worker_pids_are_children_of_the_master(site):
    server = site(APP_CONF, {"app.py": APP}, workers=2)
    assert worker_pids(server.pid) == server.workers()


def test_max_connections_per_child_counts_connections_not_requests(site):
    """MaxConnectionsPerChild 2: keep-alive requests on one connection count once; the
    worker leaves after its second connection and the master starts another."""
    import http.client

    server = site(APP_CONF + "MaxConnectionsPerChild 2\n", {"app.py": APP}, workers=1)

    def pids_on_one_connection(count: int) -> set[bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            seen = set()
            for _ in range(count):
                conn.request("GET", "/app/x")
                seen.add(conn.getresponse().read().split()[1])
            return seen
        finally:
            conn.close()

    first = pids_on_one_connection(5)
    assert len(first) == 1  # five requests, one connection, one worker
    assert pids_on_one_connection(1) == first  # the second connection: the last one
    assert wait_until(lambda: "MaxConnectionsPerChild reached" in server.errors())
    assert wait_until(lambda: len(server.workers()) == 1
                      and str(int(next(iter(first)))) not in map(str, server.workers()))
    assert pids_on_one_connection(1) != first


def test_start_up_failures_name_the_line(tmp_path):
    """Issue 9: what stops the start names the directive and its file:line, as httpd's AH
    messages do, instead of a bare errno."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf = tmp_path / "site.conf"
        conf.write_text(f"Listen 127.0.0.1:{port}\nErrorLog {tmp_path}/error.log\n")
        result = subprocess.run([sys.executable, "-m", "prefork_modpy", "-f", str(conf)],
                                capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert result.returncode == 1
    assert f"{conf}:1: Listen 127.0.0.1:{port}: address already in use" in result.stderr
    assert "Errno" not in result.stderr

    result = run_master(tmp_path, f"PidFile {tmp_path}/no/run.pid\n"
                                  f"CustomLog {tmp_path}/gone/access.log common\n")
    assert result.returncode == 1
    assert f"site.conf:4: PidFile: directory {tmp_path}/no does not exist" in result.stderr
    assert f"site.conf:5: CustomLog: directory {tmp_path}/gone does not exist" in result.stderr

    result = run_master(tmp_path, "PythonImport nosuchmodule main_interpreter\n")
    assert result.returncode == 1
    # The scoreboard note (stderr) is cut short; the error log has the searched path.
    assert "site.conf:4: PythonImport nosuchmodule failed: ModuleNotFound" in result.stderr
    log = (tmp_path / "error.log").read_text()
    assert "PythonImport nosuchmodule failed: ModuleNotFoundError: No module named " \
           "'nosuchmodule' (searched: " in log
