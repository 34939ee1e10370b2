"""Fixtures that run the real `prefork-modpy` server as a separate process.

Each test writes its own site (config + handler files) under tmp_path, starts the server on
a free loopback port and talks HTTP to it over real sockets.
"""

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

HANDLERS = Path(__file__).parent / "handlers"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")


class Server:
    """A running prefork-modpy with its site directory."""

    def __init__(self, root: Path, port: int, proc: subprocess.Popen, conf: Path,
                 log: Path) -> None:
        self.root = root
        self.port = port
        self.proc = proc
        self.conf = conf
        self.log = log

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def master_output(self) -> str:
        path = self.log.parent / "master.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def errors(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def workers(self) -> list[int]:
        return worker_pids(self.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def worker_pids(master_pid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid and fields[0] != "Z":
            pids.append(int(entry))
    return sorted(pids)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class SiteFactory:
    """Writes sites under `base` and starts servers on them; `close()` stops them all."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.started: list[Server] = []

    def start(self, config: str, files: Optional[dict[str, str]] = None, workers: int = 2,
              extra_args: tuple[str, ...] = ()) -> Server:
        """`files` maps site paths to 'handlers/NAME' (copied from tests/handlers) or to
        literal text. `{root}` and `{port}` in `config` are filled in."""
        root = self.base / "srv"
        root.mkdir(exist_ok=True)
        for relative, source in (files or {}).items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.startswith("handlers/"):
                shutil.copy(HANDLERS / source.split("/", 1)[1], target)
            else:
                target.write_text(source)
        port = free_port()
        log = self.base / "error.log"
        conf = self.base / "site.conf"
        conf.write_text(f"Listen 127.0.0.1:{port}\nDocumentRoot {root}\nErrorLog {log}\n"
                        "LogLevel info\n" + config.format(root=root, port=port))
        with open(self.base / "master.log", "ab") as output:
            proc = subprocess.Popen(
                [sys.executable, "-m", "prefork_modpy", "--config", str(conf), "--workers",
                 str(workers), *extra_args],
                stdout=output, stderr=subprocess.STDOUT, cwd=str(self.base))
        server = Server(root, port, proc, conf, log)
        self.started.append(server)
        wait_for_port(port, proc)
        if not wait_until(lambda: len(worker_pids(proc.pid)) == workers):
            raise RuntimeError(f"{workers} workers did not start")
        return server

    def close(self) -> None:
        for server in self.started:
            pids = worker_pids(server.pid)
            if server.proc.poll() is None:
                server.stop(signal.SIGKILL)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def site(tmp_path: Path):
    """Factory fixture: site(config, files, workers=2) → a started Server."""
    factory = SiteFactory(tmp_path)
    yield factory.start
    factory.close()


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
    return b"".join(chunks)
