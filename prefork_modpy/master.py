"""The master process (gunicorn's arbiter shape): bind, fork, supervise, act on signals.

Owns the listening sockets, the set of workers and their generation, and the config in
force. Signal handlers only queue the signal and wake the loop; the loop calls one
`handle_<sig>` method per signal. Must not parse HTTP or import handler modules.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Optional

from .config import ServerConfig, load_config
from .confparse import ConfigError
from .worker import EXIT_BOOT_ERROR, Worker

GRACEFUL_TIMEOUT = 30.0
# A worker that dies sooner than this after its start counts as a failed boot.
BOOT_GRACE = 1.0
MAX_BACKOFF = 10.0


@dataclass
class WorkerProcess:
    pid: int
    number: int
    generation: int
    started: float


class Master:
    """Supervises `num_workers` workers serving `config_path`."""

    SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGCHLD,
               signal.SIGUSR1, signal.SIGTTIN, signal.SIGTTOU)

    def __init__(self, config_path: str, num_workers: int, binds: list[tuple[str, int]],
                 defines: frozenset[str] = frozenset()) -> None:
        self.config_path = config_path
        self.num_workers = num_workers
        self.binds = binds
        self.defines = defines
        self.config: Optional[ServerConfig] = None
        self.listeners: dict[tuple[str, int], socket.socket] = {}
        self.workers: dict[int, WorkerProcess] = {}
        self.generation = 0
        self.signal_queue: list[int] = []
        self.stopping = False
        self.failed_boots = 0
        self.next_spawn_at = 0.0
        self.wake_r, self.wake_w = -1, -1

    # -- start ----------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self.config = self.load()
        except ConfigError as exc:
            print(f"prefork-modpy: {exc}", file=sys.stderr)
            return 1
        try:
            self.open_listeners(self.config)
        except OSError as exc:
            print(f"prefork-modpy: cannot listen: {exc}", file=sys.stderr)
            return 1
        self.set_title()
        self.install_signals()
        self.log(f"master started (pid {os.getpid()}), listening on "
                 f"{', '.join(f'{h}:{p}' for h, p in self.listeners)}")
        return self.loop()

    def load(self) -> ServerConfig:
        config = load_config(self.config_path, self.defines)
        if self.binds:
            config.listen = list(self.binds)
        return config

    def open_listeners(self, config: ServerConfig) -> None:
        """Bind what `config` listens on that is not bound yet; close what it dropped."""
        wanted = list(dict.fromkeys(config.listen))
        for address in wanted:
            if address not in self.listeners:
                self.listeners[address] = bind_socket(address)
        for address in list(self.listeners):
            if address not in wanted:
                self.listeners.pop(address).close()

    def install_signals(self) -> None:
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        for sig in self.SIGNALS:
            signal.signal(sig, self.queue_signal)

    def queue_signal(self, signum: int, frame: object) -> None:
        # Only queue and wake the loop; the work happens in handle_<sig>.
        if len(self.signal_queue) < 10:
            self.signal_queue.append(signum)
        try:
            os.write(self.wake_w, b".")
        except OSError:
            pass

    # -- the loop -------------------------------------------------------------------------

    def loop(self) -> int:
        while True:
            self.reap_workers()
            if self.stopping:
                return self.finish_stop()
            self.maintain_workers()
            self.wait_for_signal(1.0)
            while self.signal_queue:
                self.dispatch_signal(self.signal_queue.pop(0))

    def dispatch_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name.lower()
        getattr(self, f"handle_{name[3:]}")()

    def wait_for_signal(self, timeout: float) -> None:
        try:
            ready, _, _ = select.select([self.wake_r], [], [], timeout)
            if ready:
                while os.read(self.wake_r, 64):
                    pass
        except (OSError, InterruptedError) as exc:
            if getattr(exc, "errno", None) not in (errno.EAGAIN, errno.EINTR, None):
                raise

    # -- signals --------------------------------------------------------------------------

    def handle_chld(self) -> None:
        """Reaping happens at the top of the loop."""

    def handle_hup(self) -> None:
        """Reload: a valid config starts a new generation; an invalid one changes nothing."""
        try:
            config = self.load()
            self.open_listeners(config)
        except (ConfigError, OSError) as exc:
            self.log(f"reload refused, old config keeps serving: {exc}")
            return
        self.config = config
        self.generation += 1
        self.log(f"reloaded {self.config_path}: starting generation {self.generation}")
        old = [w for w in self.workers.values() if w.generation < self.generation]
        self.maintain_workers()
        for worker in old:
            self.kill_worker(worker.pid, signal.SIGTERM)

    def handle_term(self) -> None:
        self.stop(graceful=True)

    def handle_int(self) -> None:
        self.stop(graceful=False)

    def handle_quit(self) -> None:
        self.stop(graceful=False)

    def handle_usr1(self) -> None:
        for pid in list(self.workers):
            self.kill_worker(pid, signal.SIGUSR1)

    def handle_ttin(self) -> None:
        self.num_workers += 1

    def handle_ttou(self) -> None:
        self.num_workers = max(1, self.num_workers - 1)

    # -- workers --------------------------------------------------------------------------

    def maintain_workers(self) -> None:
        current = sorted((w for w in self.workers.values() if w.generation == self.generation),
                         key=lambda w: w.number)
        for worker in current[self.num_workers:]:
            self.kill_worker(worker.pid, signal.SIGTERM)
        used = {w.number for w in current}
        missing = self.num_workers - len(current)
        if missing <= 0 or time.monotonic() < self.next_spawn_at:
            return
        numbers = (n for n in range(1, 10**6) if n not in used)
        for _ in range(missing):
            self.spawn_worker(next(numbers))

    def spawn_worker(self, number: int) -> None:
        assert self.config is not None
        fds = [sock.fileno() for sock in self.listeners.values()]
        pid = os.fork()
        if pid:
            self.workers[pid] = WorkerProcess(pid, number, self.generation, time.monotonic())
            return
        self.become_worker(number, fds)

    def become_worker(self, number: int, fds: list[int]) -> None:
        try:
            signal.set_wakeup_fd(-1)
            os.close(self.wake_r)
            os.close(self.wake_w)
            for sig in self.SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            Worker(self.config, fds, number, os.getppid(), GRACEFUL_TIMEOUT).run()
        finally:
            os._exit(EXIT_BOOT_ERROR)

    def reap_workers(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is not None:
                self.note_exit(worker, status)

    def note_exit(self, worker: WorkerProcess, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        if self.stopping or worker.generation < self.generation or code == 0:
            return
        lived = time.monotonic() - worker.started
        self.log(f"worker {worker.number} (pid {worker.pid}) exited with "
                 f"{'signal ' + str(-code) if code < 0 else 'code ' + str(code)}")
        if code == EXIT_BOOT_ERROR or lived < BOOT_GRACE:
            self.failed_boots += 1
            delay = min(MAX_BACKOFF, 0.1 * 2 ** self.failed_boots)
            self.next_spawn_at = time.monotonic() + delay
        else:
            self.failed_boots = 0

    def kill_worker(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            self.workers.pop(pid, None)

    # -- stop -----------------------------------------------------------------------------

    def stop(self, graceful: bool) -> None:
        self.stopping = True
        for listener in self.listeners.values():
            listener.close()
        self.listeners.clear()
        for pid in list(self.workers):
            self.kill_worker(pid, signal.SIGTERM if graceful else signal.SIGINT)
        self.stop_deadline = time.monotonic() + (GRACEFUL_TIMEOUT if graceful else 2.0)

    def finish_stop(self) -> int:
        while self.workers and time.monotonic() < self.stop_deadline:
            self.wait_for_signal(0.05)
            self.signal_queue.clear()
            self.reap_workers()
        for pid in list(self.workers):
            self.kill_worker(pid, signal.SIGKILL)
        while self.workers:
            self.reap_workers()
            time.sleep(0.01)
        self.log("master stopped")
        return 0

    # -- misc -----------------------------------------------------------------------------

    def set_title(self) -> None:
        try:
            import setproctitle

            setproctitle.setproctitle("prefork-modpy: master")
        except ImportError:
            pass

    def log(self, message: str) -> None:
        stamp = time.strftime("%a %b %d %H:%M:%S %Y")
        print(f"[{stamp}] [mpm_prefork:notice] [pid {os.getpid()}] {message}",
              file=sys.stderr, flush=True)


def bind_socket(address: tuple[str, int]) -> socket.socket:
    host, port = address
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock
