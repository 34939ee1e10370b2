"""The real `prefork-modpy` server as a separate process, on a site written for one test.

Owns writing a site (config + handler files) under a directory, starting the server on a
free loopback port, waiting for its port and workers, and stopping it with every worker.
Must not mock any part of the server: tests talk to it over real sockets.
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
from typing import Callable, Optional

from .proc import children

HANDLERS = Path(__file__).parent / "handlers"


def config_test(conf: Path) -> subprocess.CompletedProcess:
    """`prefork-modpy -t --config CONF` (httpd's -t: check the config, start nothing)."""
    return subprocess.run([sys.executable, "-m", "prefork_modpy", "-t", "--config", str(conf)],
                          capture_output=True, text=True, timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, alive: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until 127.0.0.1:port accepts; `alive()` turning false means the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"the server exited before listening on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def wait_until(predicate: Callable[[], object], timeout: float = 30.0,
               interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` passes (its last answer). The timeout
    is generous on purpose: it only costs time when the test fails, and a loaded 2-core CI
    machine can take seconds to boot a generation of workers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def worker_pids(master_pid: int) -> list[int]:
    """The master's live workers: its non-zombie children that run the master's own
    program (piped log programs, also its children, run another)."""
    exe = _exe(master_pid)
    return [pid for pid in children(master_pid) if _exe(pid) == exe]


def _exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


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


def serving_notices(log: Path, base: Path) -> int:
    """How many times a master said its first generation serves ("serving with N
    worker(s)", a notice: in the ErrorLog `log`, or in base/master.log when the ErrorLog is
    stderr)."""
    paths = {log, base / "master.log"}
    return sum(path.read_text(errors="replace").count("] serving with ") for path in paths
               if path.exists())


def start_server(base: Path, conf: Path, port: int, workers: int, root: Path,
                 log: Path, extra_args: tuple[str, ...] = (),
                 wait_serving: bool = True) -> Server:
    """Run `python -m prefork_modpy --config conf` in `base`; return once `port` accepts,
    `workers` workers run and (`wait_serving`) every one of them has booted: the master
    says so in `log` or base/master.log. A worker counted while it still boots would make
    the test race its boot, which takes seconds on a loaded machine (the master's output
    goes to base/master.log)."""
    served_before = serving_notices(log, base)
    with open(base / "master.log", "ab") as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefork_modpy", "--config", str(conf), "--workers",
             str(workers), *extra_args],
            stdout=output, stderr=subprocess.STDOUT, cwd=str(base))
    server = Server(root, port, proc, conf, log)
    try:
        wait_for_port(port, lambda: proc.poll() is None)
        if not wait_until(lambda: len(worker_pids(proc.pid)) == workers):
            raise RuntimeError(f"{workers} workers did not start")
        if wait_serving and not wait_until(lambda: serving_notices(log, base) > served_before):
            raise RuntimeError(f"the {workers} workers did not all become ready")
    except RuntimeError as exc:
        kill_server(server)
        raise RuntimeError(f"{exc}\n{server.master_output()[-2000:]}") from exc
    return server


def kill_server(server: Server) -> None:
    """SIGKILL the master and every worker it had (none may outlive a test)."""
    pids = worker_pids(server.pid)
    if server.proc.poll() is None:
        server.stop(signal.SIGKILL)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class SiteFactory:
    """Writes sites under `base` and starts servers on them; `close()` stops them all."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.started: list[Server] = []

    def start(self, config: str, files: Optional[dict[str, str]] = None, workers: int = 2,
              extra_args: tuple[str, ...] = ()) -> Server:
        """`files` maps site paths to 'handlers/NAME' (copied from tests/support/handlers)
        or to literal text. `{root}` and `{port}` in `config` are filled in."""
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
        # Another ErrorLog (a pipe, syslog, a virtual host's) may take the master's notice.
        server = start_server(self.base, conf, port, workers, root, log, extra_args,
                              wait_serving="ErrorLog" not in config)
        self.started.append(server)
        return server

    def close(self) -> None:
        for server in self.started:
            kill_server(server)
