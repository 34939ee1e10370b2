"""The systemd contract: the notify protocol read from a real NOTIFY_SOCKET datagram socket,
socket activation with a bound socket passed as fd 3, and `systemd-analyze verify`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

from tests.support.site import free_port, wait_until, worker_pids

from .helpers import APP, APP_CONF, answers, get

UNITS = Path(__file__).resolve().parents[2] / "systemd"


class Notifications:
    """The manager's end of NOTIFY_SOCKET: collects every datagram the master sends."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[dict[str, str]] = []

    def collect(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, BlockingIOError):
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines())
            self.messages.append(fields)

    def wait_for(self, key: str, value: Optional[str] = None, after: int = 0,
                 timeout: float = 10.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.collect()
            for message in self.messages[after:]:
                if key in message and (value is None or message[key] == value):
                    return message
        raise AssertionError(f"no {key}={value} in {self.messages[after:]}")

    def close(self) -> None:
        self.sock.close()


def write_site(base: Path, port: int, extra: str = "") -> Path:
    srv = base / "srv"
    srv.mkdir(exist_ok=True)
    (srv / "app.py").write_text(APP)
    conf = base / "site.conf"
    conf.write_text(f"Listen 127.0.0.1:{port}\nDocumentRoot {srv}\nErrorLog {base}/error.log\n"
                    + APP_CONF.format(root=srv) + extra)
    return conf


def launch(base: Path, conf: Path, env: dict[str, str], fd3: Optional[socket.socket] = None,
           workers: int = 2) -> subprocess.Popen:
    """Start the master; with `fd3`, as systemd would: the socket on fd 3, LISTEN_FDS=1 and
    LISTEN_PID set to the server's own pid (by exec'ing through a shell that knows its pid)."""
    command = [sys.executable, "-m", "prefork_modpy", "-f", str(conf), "-w", str(workers)]
    full_env = {**os.environ, **env}
    kwargs: dict = {}
    if fd3 is not None:
        command = ["sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", *command]
        full_env["LISTEN_FDS"] = "1"
        source = fd3.fileno()
        kwargs = {"pass_fds": (3,), "preexec_fn": lambda: os.dup2(source, 3)}
    output = open(base / "master.log", "ab")
    return subprocess.Popen(command, env=full_env, cwd=str(base), stdout=output,
                            stderr=subprocess.STDOUT, **kwargs)


@pytest.fixture
def notify(tmp_path):
    collector = Notifications(tmp_path / "notify.sock")
    yield collector
    collector.close()


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        children = worker_pids(proc.pid)
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_notify_ready_reloading_status_stopping(tmp_path, notify, processes):
    port = free_port()
    conf = write_site(tmp_path, port)
    proc = launch(tmp_path, conf, {"NOTIFY_SOCKET": notify.path})
    processes.append(proc)
    ready = notify.wait_for("READY", "1")
    # READY=1 only once the workers accept: a request is answered right away.
    assert get(port, "/app/x", timeout=2)[0] == 200
    assert ready["MAINPID"] == str(proc.pid)
    assert ready["STATUS"].startswith("2/2 workers serving")
    mark = len(notify.messages)
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    os.kill(proc.pid, signal.SIGHUP)
    reloading = notify.wait_for("RELOADING", "1", after=mark)
    assert before <= int(reloading["MONOTONIC_USEC"]) <= before + 5_000_000
    notify.wait_for("READY", "1", after=mark + 1)
    mark = len(notify.messages)
    conf.write_text(conf.read_text() + "NoSuchDirective\n")
    os.kill(proc.pid, signal.SIGHUP)
    refused = notify.wait_for("READY", "1", after=mark)
    assert refused["STATUS"].startswith("reload refused: ") and "NoSuchDirective" in \
        refused["STATUS"]
    mark = len(notify.messages)
    os.kill(proc.pid, signal.SIGTERM)
    notify.wait_for("STOPPING", "1", after=mark)
    assert proc.wait(10) == 0


def test_watchdog_pings_when_watchdog_usec_is_set(tmp_path, notify, processes):
    conf = write_site(tmp_path, free_port())
    proc = launch(tmp_path, conf, {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"})
    processes.append(proc)
    notify.wait_for("READY", "1")
    time.sleep(0.6)
    notify.collect()
    pings = sum(1 for message in notify.messages if message.get("WATCHDOG") == "1")
    assert pings >= 3  # every WATCHDOG_USEC / 2


def test_no_ready_when_no_worker_can_start(tmp_path, notify, processes):
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom at import')\n")
    conf = write_site(tmp_path, free_port(), "PythonImport broken main_interpreter\n")
    proc = launch(tmp_path, conf, {"NOTIFY_SOCKET": notify.path})
    processes.append(proc)
    assert proc.wait(15) == 1
    notify.collect()
    assert not any("READY" in message for message in notify.messages)
    assert any(message.get("STATUS", "").startswith("fatal: no worker could start")
               for message in notify.messages)


def test_socket_activation_serves_the_passed_socket(tmp_path, processes):
    activated = socket.socket()
    activated.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    activated.bind(("127.0.0.1", 0))
    activated.listen(64)
    port = activated.getsockname()[1]
    listen_port = free_port()  # in the config, and ignored under socket activation
    conf = write_site(tmp_path, listen_port)
    proc = launch(tmp_path, conf, {}, fd3=activated)
    processes.append(proc)
    assert wait_until(lambda: len(worker_pids(proc.pid)) == 2)
    assert get(port, "/app/x")[0] == 200
    with pytest.raises(ConnectionRefusedError):
        get(listen_port, "/app/x", timeout=2)
    assert "(socket activation)" in (tmp_path / "error.log").read_text()
    os.kill(proc.pid, signal.SIGHUP)
    assert wait_until(lambda: "generation 2 is serving" in (tmp_path / "error.log").read_text())
    assert get(port, "/app/x")[0] == 200
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(10) == 0
    # The socket outlives the service: a client connecting now waits in the queue ...
    waiting = socket.create_connection(("127.0.0.1", port), timeout=10)
    waiting.sendall(b"GET /app/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    # ... and the next instance answers it.
    proc = launch(tmp_path, conf, {}, fd3=activated)
    processes.append(proc)
    reply = waiting.recv(65536)
    waiting.close()
    activated.close()
    assert reply.startswith(b"HTTP/1.1 200 OK")


def test_listen_pid_for_another_process_is_ignored(tmp_path, processes):
    port = free_port()
    conf = write_site(tmp_path, port)
    bogus = socket.socket()
    bogus.bind(("127.0.0.1", 0))
    bogus.listen(1)
    env = {"LISTEN_FDS": "1", "LISTEN_PID": "1"}
    proc = launch(tmp_path, conf, env, workers=1)
    processes.append(proc)
    assert wait_until(lambda: len(worker_pids(proc.pid)) == 1)
    assert wait_until(lambda: answers(port, "/app/x"))
    bogus.close()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_unit_files_verify(tmp_path):
    # ExecStart must name an existing executable for `verify`: point it at this checkout's.
    executable = Path(sys.executable).with_name("prefork-modpy")
    if not executable.exists():
        pytest.skip("prefork-modpy is not installed next to this Python")
    service = (UNITS / "prefork-modpy.service").read_text()
    assert "/opt/prefork-modpy/.venv/bin/prefork-modpy" in service
    (tmp_path / "prefork-modpy.service").write_text(
        service.replace("/opt/prefork-modpy/.venv/bin/prefork-modpy", str(executable)))
    shutil.copy(UNITS / "prefork-modpy.socket", tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", "prefork-modpy.service",
                             "prefork-modpy.socket"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if "prefork-modpy" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr
    assert "Type=notify\n" in service and "NotifyAccess=main" in service
    assert "KillMode=mixed" in service
