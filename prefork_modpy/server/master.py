"""The master process (gunicorn's arbiter shape): bind, fork, supervise, act on signals.

Owns the listening sockets, the scoreboard, the set of workers and their generations, the
config in force and a reload in progress, the pid file and what systemd is told. Signal
handlers only queue the signal and wake the loop; the loop calls one `handle_<sig>` method
per signal, then reaps, supervises (boot failures, back-off, the `Timeout` watchdog, spare
workers) and reports. Must not parse HTTP or import handler modules.

A generation is the set of workers started from one config. A reload starts the next
generation next to the running one and retires the old workers only once every new worker
is accepting; if the new workers cannot start, the old generation keeps serving.
"""

from __future__ import annotations

import errno
import gc
import os
import random
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

from ..config.checks import file_problems
from ..config.server import ServerConfig, load_config
from ..config.syntax import ConfigError
from ..runtime import pipedlogs
from ..runtime.errorlog import LEVELS, ErrorLog
from . import systemd, tls
from .listeners import Address, BindError, Listeners
from .scoreboard import BUSY, GRACEFUL, READY, STARTING, BoardHeader, Scoreboard
from .worker import EXIT_BOOT_ERROR, Worker, WorkerSpec

# A worker that dies sooner than this after its start counts as a failed boot.
BOOT_GRACE = 1.0
MAX_BACKOFF = 10.0
# This many failed boots, with no worker of the generation ever ready, end the attempt:
# fatal at start, a refused reload later.
BOOT_ATTEMPTS = 3
# Between the stack-dump signal and SIGKILL for a worker stuck past Timeout.
TIMEOUT_KILL_GRACE = 1.0
# After GracefulShutdownTimeout, how long the master waits before it SIGKILLs.
STOP_MARGIN = 1.0
FAST_STOP_TIMEOUT = 2.0
# Apache's perform_idle_server_maintenance: at most this many spawns per second.
MAX_SPAWN_RATE = 32
STATUS_INTERVAL = 2.0
# Apache's default MaxRequestWorkers for prefork; sizes the scoreboard (512 B a slot).
DEFAULT_MAX_REQUEST_WORKERS = 256
SAFE_UMASK = 0o027


class HaltServer(Exception):
    """The server cannot run (no worker can start): exit with this message."""


@dataclass
class MasterOptions:
    """What the command line asked for; the config file fills in the rest."""

    config_path: str
    workers: Optional[int] = None
    binds: list[tuple[str, int]] = field(default_factory=list)
    defines: frozenset[str] = frozenset()
    max_requests: Optional[int] = None
    max_requests_jitter: Optional[int] = None


@dataclass
class WorkerProcess:
    pid: int
    number: int
    generation: int
    slot: int
    started: float
    retiring: bool = False
    kill_at: Optional[float] = None
    killed: bool = False  # SIGKILLed by the master (watchdog or stop deadline)
    stuck_since: float = 0.0  # busy_since of the request the watchdog flagged


@dataclass
class Generation:
    """One config and the workers started from it."""

    number: int
    config: ServerConfig
    ready_seen: bool = False
    boot_failures: int = 0
    last_failure: str = ""
    started: float = field(default_factory=time.monotonic)
    # -- mod_ssl -- the TLS contexts of the TLS Listen addresses (server/tls.py)
    tls: dict = field(default_factory=dict)


class Master:
    """Supervises the workers serving `options.config_path`."""

    SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGCHLD,
               signal.SIGUSR1, signal.SIGTTIN, signal.SIGTTOU)

    def __init__(self, options: MasterOptions) -> None:
        self.loaded_tls: dict = {}  # -- mod_ssl -- the last load()'s TLS contexts
        self.options = options
        self.current: Optional[Generation] = None
        self.pending: Optional[Generation] = None
        self.listeners = Listeners()
        self.workers: dict[int, WorkerProcess] = {}
        self.num_workers = options.workers or os.cpu_count() or 1
        self.signal_queue: list[int] = []
        self.stopping = False
        self.reload_after_start = False
        self.stop_deadline = 0.0
        self.health_delay_until = 0.0  # GracefulShutdownHealthDelay: when the drain starts
        self.failed_boots = 0
        self.next_spawn_at = 0.0
        self.spawn_rate = 1
        self.next_maintenance = 0.0
        self.next_deadline = 0.0
        self.wake_r, self.wake_w = -1, -1
        self.board: Optional[Scoreboard] = None
        # The workers hand connections to each other through this pair while one is busy
        # in Python (the engine's handoff.rs); made once, shared by every generation.
        self.handoff = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.error_log = ErrorLog(None, LEVELS["debug"])
        self.notifier = systemd.Notifier()
        self.next_watchdog = 0.0
        self.next_status = 0.0
        self.pid_file: Optional[str] = None
        self.started = time.time()
        self.counters = {"reloads": 0, "crashes": 0, "timeouts": 0, "recycles": 0,
                         "exited_requests": 0, "exited_bytes": 0}
        self.last_reload = 0.0

    # -- start ----------------------------------------------------------------------------

    def run(self) -> int:
        os.umask(SAFE_UMASK)
        try:
            config = self.load()
            # What would stop the start half-way, with the line that configured it: a log or
            # PidFile directory that is missing, a log program that does not exist.
            problems = file_problems(config)
            if problems:
                raise ConfigError("\nprefork-modpy: ".join(problems))
            pipedlogs.start(piped_targets(config))
            self.open_error_log(config)
            self.open_listeners(config)
            if self.listeners.activated:
                self.unbind_vhost_addresses(config, "systemd's sockets replace Listen")
                self.check_tls_sockets(config)  # -- mod_ssl --
            self.write_pid_file(config)
        except BindError as exc:
            print(f"prefork-modpy: {self.listen_source(config, exc.address)}Listen "
                  f"{exc.strerror}", file=sys.stderr)
            return 1
        except (ConfigError, OSError) as exc:
            print(f"prefork-modpy: {exc}", file=sys.stderr)
            return 1
        if not self.options.workers and config.processes.start_servers:
            self.num_workers = config.processes.start_servers
        self.board = Scoreboard(self.scoreboard_capacity(config))
        preload_shared_modules()
        self.set_title()
        self.install_signals()
        self.warn_about_privileges(config)
        self.pending = Generation(1, config, tls=self.loaded_tls)
        self.log(f"master started (pid {os.getpid()}), listening on "
                 f"{self.listeners.describe()}")
        self.log_config_warnings(config)
        try:
            return self.loop()
        except HaltServer as exc:
            self.log(f"fatal: {exc}", LEVELS["crit"])
            self.notifier.send(f"STATUS=fatal: {exc}")
            self.kill_all(signal.SIGKILL)
            return 1
        finally:
            self.remove_pid_file()
            pipedlogs.stop_all()

    def load(self) -> ServerConfig:
        config = load_config(self.options.config_path, self.options.defines)
        if self.options.binds:
            config.listen = list(self.options.binds)
            self.unbind_vhost_addresses(config, "--bind replaces Listen")
        processes = config.processes
        if self.options.max_requests is not None:
            processes.max_requests_per_child = self.options.max_requests
        if self.options.max_requests_jitter is not None:
            processes.max_requests_jitter = self.options.max_requests_jitter
        # -- mod_ssl -- keys are read here, by the master; a bad one refuses the load
        if self.options.binds:
            for address in config.tls_listen:
                if address.address not in config.listen:
                    raise ConfigError(f"{address.where}: SSLEngine on for "
                                      f"{address.address[0]}:{address.address[1]}, which "
                                      "--bind replaces: bind that address too, or use Listen")
        self.loaded_tls = tls.build_contexts(config)
        return config

    # -- mod_ssl --
    def check_tls_sockets(self, config: ServerConfig) -> None:
        """Under socket activation, a TLS address systemd gives no socket for would leave its
        hosts unserved or plain: refused with the SSLEngine line."""
        for address in config.tls_listen:
            if address.address not in self.listeners.sockets:
                raise ConfigError(f"{address.where}: SSLEngine on for {address.address[0]}:"
                                  f"{address.address[1]}, which systemd's sockets do not "
                                  "include: list it in the .socket unit")

    def unbind_vhost_addresses(self, config: ServerConfig, why: str) -> None:
        """Sockets that are not the config's Listen addresses cannot be related to
        <VirtualHost addr:port>: the hosts are then chosen by name only (the first one for
        an unknown Host), with a warning when some host names an address."""
        config.match_vhost_addresses = False
        if any(vhost.binds and any(ip is not None or port for ip, port in vhost.binds)
               for vhost in config.vhosts):
            config.warnings.append(f"{config.path}: {why}: <VirtualHost> addresses and ports "
                                   "are not matched; virtual hosts are chosen by name only")

    def listen_source(self, config: ServerConfig, address: tuple[str, int]) -> str:
        """`file:line: ` of the Listen line (or `--bind: `) an address came from."""
        if self.options.binds:
            return "--bind: "
        where = config.listen_sources.get(address)
        return f"{where}: " if where else ""

    def log_config_warnings(self, config: ServerConfig) -> None:
        """What the config asks and prefork-modpy leaves unapplied (`file:line: ...`), in
        the error log at each start and reload, as httpd logs its AH warnings."""
        for warning in config.warnings:
            self.log(f"config: {warning}", LEVELS["warn"])

    def scoreboard_capacity(self, config: ServerConfig) -> int:
        # Two full generations side by side during a reload, each up to MaxRequestWorkers.
        most = max(self.num_workers, config.processes.max_request_workers or 0)
        return 2 * max(DEFAULT_MAX_REQUEST_WORKERS, most)

    def open_error_log(self, config: ServerConfig) -> None:
        """Follow the config's ErrorLog (at start, and when a reload changes it)."""
        if config.error_log == self.error_log.path:
            return
        old = self.error_log
        try:
            self.error_log = ErrorLog(config.error_log, LEVELS["debug"])
        except OSError as exc:
            if self.current is None:
                raise
            self.log(f"cannot open ErrorLog {config.error_log}: {exc}", LEVELS["error"])
            return
        old.close()

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
                if not self.workers:
                    return self.finish_stop()
                self.end_health_delay()
                self.enforce_stop_deadline()
            else:
                self.check_generations()
                self.manage_spares()
                self.maintain_workers()
                self.murder_workers()
            self.report()
            self.wait_for_signal(self.sleep_time())
            while self.signal_queue:
                self.dispatch_signal(self.signal_queue.pop(0))

    def dispatch_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name.lower()
        getattr(self, f"handle_{name[3:]}")()

    def sleep_time(self) -> float:
        """Poll quickly while something is changing, else once a second."""
        busy = self.pending is not None or self.stopping or any(
            w.kill_at is not None for w in self.workers.values())
        timeout = 0.05 if busy else max(0.05, min(1.0, self.next_deadline - time.monotonic()))
        if self.notifier.watchdog_interval:
            timeout = min(timeout, max(0.0, self.next_watchdog - time.monotonic()))
        return timeout

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
        """Reload: a valid config starts a new generation next to the running one; an
        invalid one changes nothing."""
        if self.stopping:
            return
        if self.current is None:
            # Still starting: reload as soon as the first generation serves.
            self.reload_after_start = True
            return
        self.notifier.reloading("reloading the configuration")
        if self.pending is not None:
            self.abandon_pending("superseded by a newer reload")
        try:
            config = self.load()
            self.open_listeners(config)
            if self.listeners.activated:
                self.unbind_vhost_addresses(config, "systemd's sockets replace Listen")
                self.check_tls_sockets(config)  # -- mod_ssl --
            pipedlogs.start(piped_targets(config))
        except BindError as exc:
            self.refuse_reload(f"{self.listen_source(config, exc.address)}Listen "
                               f"{exc.strerror}")
            return
        except (ConfigError, OSError) as exc:
            self.refuse_reload(str(exc))
            return
        self.pending = Generation(self.current.number + 1, config, tls=self.loaded_tls)
        self.log(f"reloading {self.options.config_path}: starting generation "
                 f"{self.pending.number}")
        self.log_config_warnings(config)

    def handle_term(self) -> None:
        self.stop(graceful=True)

    def handle_int(self) -> None:
        self.stop(graceful=False)

    def handle_quit(self) -> None:
        self.stop(graceful=False)

    def handle_usr1(self) -> None:
        """Reopen log files (logrotate): the master's, then every worker's."""
        try:
            self.error_log.reopen()
        except OSError as exc:
            self.log(f"cannot reopen the error log: {exc}", LEVELS["error"])
        for pid in list(self.workers):
            self.kill_worker(pid, signal.SIGUSR1)

    def handle_ttin(self) -> None:
        if self.num_workers >= self.worker_ceiling():
            self.log(f"SIGTTIN ignored: {self.num_workers} workers is the most allowed "
                     "(MaxRequestWorkers, or the scoreboard's size)", LEVELS["warn"])
            return
        self.num_workers += 1
        self.log(f"SIGTTIN: {self.num_workers} workers")

    def handle_ttou(self) -> None:
        self.num_workers = max(1, self.num_workers - 1)
        self.log(f"SIGTTOU: {self.num_workers} workers")

    # -- generations ----------------------------------------------------------------------

    def check_generations(self) -> None:
        """Promote a pending generation once all its workers accept; give up on it when
        its workers cannot start."""
        pending = self.pending
        if pending is None:
            return
        ready = [w for w in self.active(pending.number) if self.slot_state(w) in (READY, BUSY)]
        if ready:
            pending.ready_seen = True
        if len(ready) >= self.num_workers:
            self.promote(pending)
        elif pending.boot_failures >= BOOT_ATTEMPTS and not pending.ready_seen:
            reason = pending.last_failure or "the workers exited during start-up"
            if self.current is None:
                raise HaltServer(f"no worker could start ({pending.boot_failures} attempts): "
                                 f"{reason}")
            self.abandon_pending(f"the new workers could not start: {reason}")
            self.notifier.ready(f"reload failed, generation {self.current.number} "
                                f"keeps serving: {reason}")

    def promote(self, pending: Generation) -> None:
        old = self.current
        self.current, self.pending = pending, None
        self.open_error_log(pending.config)
        pipedlogs.keep_only(set(piped_targets(pending.config)))
        self.publish()
        if old is None:
            self.log(f"serving with {self.num_workers} worker(s)")
            self.notifier.ready(self.status_line())
            if self.reload_after_start:
                self.handle_hup()
            return
        if not self.options.workers and pending.config.processes.start_servers:
            self.num_workers = pending.config.processes.start_servers
        self.listeners.close(self.open_listeners(pending.config))
        for worker in list(self.workers.values()):
            if worker.generation < pending.number:
                self.retire(worker)
        self.counters["reloads"] += 1
        self.last_reload = time.time()
        self.log(f"generation {pending.number} is serving; generation {old.number} is "
                 "finishing its requests")
        self.notifier.ready(self.status_line())

    def abandon_pending(self, reason: str) -> None:
        pending = self.pending
        assert pending is not None and self.current is not None
        self.pending = None
        for worker in self.active(pending.number):
            self.retire(worker)
        # Listeners the abandoned config added are not the running config's.
        self.listeners.close(self.open_listeners(self.current.config))
        self.log(f"reload refused, generation {self.current.number} keeps serving: {reason}",
                 LEVELS["error"])

    def refuse_reload(self, reason: str) -> None:
        self.log(f"reload refused, old config keeps serving: {reason}", LEVELS["error"])
        self.notifier.ready(f"reload refused: {reason}")

    # -- workers --------------------------------------------------------------------------

    def active(self, generation: int) -> list[WorkerProcess]:
        """Workers of `generation` that are not on their way out."""
        return [w for w in self.workers.values()
                if w.generation == generation and not w.retiring
                and self.slot_state(w) != GRACEFUL]

    def slot_state(self, worker: WorkerProcess) -> int:
        assert self.board is not None
        slot = self.board.read(worker.slot)
        return slot.state if slot.pid in (0, worker.pid) else STARTING

    def maintain_workers(self) -> None:
        """Bring each live generation to `num_workers`: spawn what is missing (unless
        backing off after failed boots), retire the surplus, idle ones first."""
        for generation in (self.current, self.pending):
            if generation is None:
                continue
            workers = self.active(generation.number)
            surplus = len(workers) - self.num_workers
            if surplus > 0:
                workers.sort(key=lambda w: (self.slot_state(w) == BUSY, -w.started))
                for worker in workers[:surplus]:
                    self.retire(worker)
                continue
            if surplus < 0 and time.monotonic() >= self.next_spawn_at:
                used = {w.number for w in workers}
                numbers = (n for n in range(1, 10**6) if n not in used)
                for _ in range(-surplus):
                    self.spawn_worker(generation, next(numbers))

    def spawn_worker(self, generation: Generation, number: int) -> None:
        assert self.board is not None
        taken = {w.slot for w in self.workers.values()}
        slot = next((i for i in range(self.board.capacity) if i not in taken), None)
        if slot is None:
            self.log("scoreboard full: not starting a worker", LEVELS["error"])
            return
        processes = generation.config.processes
        max_requests = processes.max_requests_per_child
        if max_requests:
            # Jitter staggers the recycling so that workers do not all restart together.
            max_requests += random.randint(0, processes.max_requests_jitter)
        spec = WorkerSpec(number, slot, generation.number, max_requests,
                          accept_linger=not self.listeners.activated,
                          proxy_fds=self.listeners.proxy_protocol_fds(
                              generation.config.proxy_protocol_listen),
                          tls=self.listeners.tls_fds(generation.tls))
        self.board.assign(slot, generation.number, number)
        fds = self.listeners.fds_for(generation.config.listen)
        # SIGUSR1 (reopen the logs) reaches every worker, booting ones too, and its default
        # action kills: the child starts with it blocked and unblocks it once its handler is
        # in place (Worker._install_signals), so a reopen asked meanwhile is done then.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            pid = fork_keeping_pages_shared()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
            # Out of processes or memory: try again later rather than take the master down.
            self.board.release(slot)
            self.log(f"cannot fork a worker: {exc}", LEVELS["error"])
            self.next_spawn_at = time.monotonic() + MAX_BACKOFF / 10
            return
        if pid:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
            self.workers[pid] = WorkerProcess(pid, number, generation.number, slot,
                                              time.monotonic())
            return
        self.become_worker(generation.config, fds, spec)

    def become_worker(self, config: ServerConfig, fds: list[int], spec: WorkerSpec) -> None:
        try:
            signal.set_wakeup_fd(-1)
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.notifier.close()
            self.listeners.close_except(fds)
            self.error_log.close()
            for sig in self.SIGNALS:
                signal.signal(sig, signal.SIG_DFL)
            assert self.board is not None
            handoff = (self.handoff[0].fileno(), self.handoff[1].fileno())
            Worker(config, fds, spec, os.getppid(), self.board, handoff).run()
        finally:
            os._exit(EXIT_BOOT_ERROR)

    def retire(self, worker: WorkerProcess) -> None:
        """Graceful: the worker stops accepting, finishes its connections, exits."""
        if worker.retiring:
            return
        worker.retiring = True
        timeout = self.config_for(worker).processes.graceful_shutdown_timeout
        if timeout:
            worker.kill_at = time.monotonic() + timeout + STOP_MARGIN
        # A worker still booting may not handle SIGWINCH yet (its default is "ignore");
        # SIGTERM stops it either way.
        starting = self.slot_state(worker) == STARTING
        self.kill_worker(worker.pid, signal.SIGTERM if starting else signal.SIGWINCH)

    def config_for(self, worker: WorkerProcess) -> ServerConfig:
        for generation in (self.pending, self.current):
            if generation is not None and generation.number == worker.generation:
                return generation.config
        assert self.current is not None or self.pending is not None
        return (self.current or self.pending).config  # type: ignore[union-attr]

    def reap_workers(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None and pipedlogs.owns(pid):
                for message in pipedlogs.restart_exited():
                    self.log(message, LEVELS["error"])
            if worker is not None:
                self.note_exit(worker, status)
                assert self.board is not None
                # Free the slot and publish its counts together, so the status page's
                # totals do not drop while a worker is replaced.
                self.board.release(worker.slot)
                self.publish()

    def note_exit(self, worker: WorkerProcess, status: int) -> None:
        assert self.board is not None
        slot = self.board.read(worker.slot)
        code = os.waitstatus_to_exitcode(status)
        lived = time.monotonic() - worker.started
        self.counters["exited_requests"] += slot.requests
        self.counters["exited_bytes"] += slot.bytes
        if slot.note.startswith("Max"):
            self.counters["recycles"] += 1
        if worker.killed and not self.stopping:
            self.log(f"worker {worker.number} (pid {worker.pid}) killed", LEVELS["warn"])
            return
        if self.stopping or worker.retiring or (code == 0 and slot.state != STARTING):
            if lived >= BOOT_GRACE:
                self.failed_boots = 0
            return
        self.counters["crashes"] += 1
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
        doing = (f" while serving {slot.method} {slot.url} for {slot.client}"
                 if slot.state == BUSY else "")
        hint = " (not by the master: out of memory?)" if code == -signal.SIGKILL else ""
        self.log(f"worker {worker.number} (pid {worker.pid}, generation {worker.generation}) "
                 f"exited with {how}{doing}{hint}", LEVELS["error"])
        # A crash loop is a worker that dies before it could serve anything; one killed
        # after serving (an operator's kill -9) is simply replaced.
        if code == EXIT_BOOT_ERROR or slot.state == STARTING or (
                lived < BOOT_GRACE and slot.requests == 0):
            self.note_failed_boot(worker, slot.note or how)
        else:
            self.failed_boots = 0

    def note_failed_boot(self, worker: WorkerProcess, reason: str) -> None:
        for generation in (self.current, self.pending):
            if generation is not None and generation.number == worker.generation:
                generation.boot_failures += 1
                generation.last_failure = reason
        self.failed_boots += 1
        delay = min(MAX_BACKOFF, 0.1 * 2 ** self.failed_boots)
        self.next_spawn_at = time.monotonic() + delay
        if self.failed_boots > 1:
            self.log(f"workers keep failing to start; next attempt in {delay:.1f}s",
                     LEVELS["warn"])

    def kill_worker(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass  # already dead: the next reap removes it

    def kill_all(self, sig: int) -> None:
        for worker in list(self.workers.values()):
            worker.killed = sig == signal.SIGKILL
            self.kill_worker(worker.pid, sig)
        if sig == signal.SIGKILL:
            while self.workers:
                self.reap_workers()
                time.sleep(0.01)

    # -- the watchdog ---------------------------------------------------------------------

    def murder_workers(self) -> None:
        """A worker busy in one request with no progress for `Timeout` (or silent that
        long) gets SIGUSR2: it writes its Python stack to the error log and aborts the
        handler; a second later it is SIGKILLed if it is still in that request. Progress
        is the slot's heartbeat, moved by each streamed batch, file or body read
        (WorkerSlot.progress); a worker inside the engine's I/O is left alone, since the
        engine bounds each of its waits by `Timeout` itself (httpd's Timeout)."""
        assert self.board is not None
        now = time.monotonic()
        self.next_deadline = now + 1.0
        for worker in list(self.workers.values()):
            if worker.kill_at is not None and now >= worker.kill_at:
                self.kill_overdue(worker)
                continue
            if worker.stuck_since:
                continue
            slot = self.board.read(worker.slot)
            timeout = self.config_for(worker).limits.timeout
            if slot.pid != worker.pid:
                continue
            if slot.state == BUSY and slot.in_io:
                continue
            # Busy: the heartbeat is the last progress (begin_request sets it to busy_since).
            last_progress = max(slot.busy_since, slot.heartbeat)
            if slot.state == BUSY:
                # Wake up when this request reaches Timeout, not up to a second later.
                self.next_deadline = min(self.next_deadline, last_progress + timeout + 0.01)
            if slot.state == BUSY and now - last_progress > timeout:
                self.flag_stuck(worker, slot.busy_since,
                                f"busy for {now - slot.busy_since:.1f}s (Timeout {timeout:g}s) "
                                f"serving {slot.method} {slot.url} for {slot.client}, no "
                                f"progress for {now - last_progress:.1f}s")
            elif slot.state in (READY, GRACEFUL) and now - slot.heartbeat > max(timeout, 5.0):
                self.flag_stuck(worker, slot.heartbeat,
                                f"silent for {now - slot.heartbeat:.1f}s outside any request")

    def flag_stuck(self, worker: WorkerProcess, since: float, what: str) -> None:
        self.counters["timeouts"] += 1
        self.log(f"Timeout: worker {worker.number} (pid {worker.pid}) {what}; its Python "
                 "stack follows, then it is killed", LEVELS["error"])
        worker.stuck_since = since
        worker.kill_at = time.monotonic() + TIMEOUT_KILL_GRACE
        self.kill_worker(worker.pid, signal.SIGUSR2)

    def kill_overdue(self, worker: WorkerProcess) -> None:
        assert self.board is not None
        slot = self.board.read(worker.slot)
        if worker.stuck_since and slot.pid == worker.pid and slot.busy_since != \
                worker.stuck_since and slot.heartbeat != worker.stuck_since:
            # It moved on (the abort worked, or the request ended as we looked): let it be.
            worker.stuck_since, worker.kill_at = 0.0, None
            return
        worker.kill_at = None
        worker.killed = True
        self.kill_worker(worker.pid, signal.SIGKILL)

    # -- spare workers (dynamic sizing) ---------------------------------------------------

    def manage_spares(self) -> None:
        """Apache's idle-server maintenance, once a second, only when MinSpareServers or
        MaxSpareServers is set: above MaxSpareServers idle workers retire one; below
        MinSpareServers spawn 1, 2, 4 … (up to 32) per second, never past MaxRequestWorkers."""
        current = self.current
        now = time.monotonic()
        if current is None or self.pending is not None or now < self.next_maintenance:
            return
        processes = current.config.processes
        if processes.min_spare_servers is None and processes.max_spare_servers is None:
            return
        self.next_maintenance = now + 1.0
        ceiling = self.worker_ceiling()
        idle = sum(1 for w in self.active(current.number) if self.slot_state(w) == READY)
        if processes.max_spare_servers is not None and idle > processes.max_spare_servers:
            self.num_workers = max(1, self.num_workers - 1)
            self.spawn_rate = 1
        elif processes.min_spare_servers is not None and idle < processes.min_spare_servers:
            if self.num_workers >= ceiling:
                return
            self.num_workers = min(ceiling, self.num_workers + self.spawn_rate)
            self.spawn_rate = min(MAX_SPAWN_RATE, self.spawn_rate * 2)
        else:
            self.spawn_rate = 1

    def worker_ceiling(self) -> int:
        assert self.board is not None
        config = (self.current or self.pending).config  # type: ignore[union-attr]
        limit = config.processes.max_request_workers or DEFAULT_MAX_REQUEST_WORKERS
        return min(limit, self.board.capacity // 2)

    # -- stop -----------------------------------------------------------------------------

    def stop(self, graceful: bool) -> None:
        if self.stopping and graceful:
            return
        self.stopping = True
        self.notifier.stopping("stopping" if graceful else "stopping now")
        assert self.board is not None
        self.board.set_draining()  # server-health answers 503 from now on
        config = (self.current or self.pending).config  # type: ignore[union-attr]
        delay = config.processes.graceful_shutdown_health_delay
        if graceful and delay:
            # Serve on while the balancer's health checks notice; loop() stops after it.
            self.health_delay_until = time.monotonic() + delay
            self.log(f"graceful stop: server-health answers 503; serving {delay:g}s more "
                     "(GracefulShutdownHealthDelay)")
            return
        self.stop_workers(graceful)

    def end_health_delay(self) -> None:
        if self.health_delay_until and time.monotonic() >= self.health_delay_until:
            self.health_delay_until = 0.0
            self.stop_workers(graceful=True)

    def stop_workers(self, graceful: bool) -> None:
        self.health_delay_until = 0.0
        self.log("graceful stop: finishing in-flight requests" if graceful else "fast stop")
        # Close our copies first: the last worker to close its copy drains the accept queue.
        self.listeners.close_all()
        for pid in list(self.workers):
            self.kill_worker(pid, signal.SIGTERM if graceful else signal.SIGINT)
        config = (self.current or self.pending).config  # type: ignore[union-attr]
        timeout = config.processes.graceful_shutdown_timeout if graceful else FAST_STOP_TIMEOUT
        self.stop_deadline = time.monotonic() + timeout + STOP_MARGIN if timeout else 0.0

    def enforce_stop_deadline(self) -> None:
        if self.stop_deadline and time.monotonic() >= self.stop_deadline:
            self.log(f"{len(self.workers)} workers did not finish in time: killing them",
                     LEVELS["warn"])
            self.kill_all(signal.SIGKILL)

    def finish_stop(self) -> int:
        self.log("master stopped")
        return 0

    # -- reporting ------------------------------------------------------------------------

    def report(self) -> None:
        """Scoreboard header for the status page, STATUS= and WATCHDOG=1 for systemd."""
        now = time.monotonic()
        if self.notifier.watchdog_interval and now >= self.next_watchdog:
            # Pinged from the loop itself: a wedged master stops pinging and is restarted.
            self.notifier.watchdog()
            self.next_watchdog = now + self.notifier.watchdog_interval
        if now < self.next_status:
            return
        self.next_status = now + (0.2 if self.pending is not None else STATUS_INTERVAL)
        self.publish()
        if self.current is not None and not self.stopping:
            self.notifier.status(self.status_line())

    def publish(self) -> None:
        assert self.board is not None
        generation = self.current.number if self.current else 0
        counters = self.counters
        self.board.publish(BoardHeader(
            os.getpid(), generation, self.num_workers, self.started, counters["reloads"],
            counters["crashes"], counters["timeouts"], counters["recycles"], self.last_reload,
            counters["exited_requests"], counters["exited_bytes"]))

    def status_line(self) -> str:
        assert self.board is not None
        slots = [s for s in self.board.slots() if s.pid]
        busy = sum(1 for s in slots if s.state == BUSY)
        ready = sum(1 for s in slots if s.state == READY)
        generation = self.current.number if self.current else 0
        return (f"{ready + busy}/{self.num_workers} workers serving ({busy} busy), "
                f"generation {generation}")

    # -- misc -----------------------------------------------------------------------------

    def write_pid_file(self, config: ServerConfig) -> None:
        path = config.processes.pid_file
        if path is None:
            return
        other = _running_pid(path)
        if other is not None and other != os.getpid():
            raise OSError(f"PidFile {path}: prefork-modpy is already running as pid {other}")
        temp = f"{path}.{os.getpid()}.tmp"
        with open(temp, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        os.chmod(temp, 0o644)
        os.replace(temp, path)  # atomic: a reader never sees an empty file
        self.pid_file = path

    def remove_pid_file(self) -> None:
        if self.pid_file is not None and _running_pid(self.pid_file) == os.getpid():
            try:
                os.unlink(self.pid_file)
            except OSError:
                pass

    def warn_about_privileges(self, config: ServerConfig) -> None:
        processes = config.processes
        if (processes.user or processes.group) and os.geteuid() != 0:
            self.log("User/Group ignored: the master was not started as root", LEVELS["warn"])

    def set_title(self) -> None:
        try:
            import setproctitle

            setproctitle.setproctitle("prefork-modpy: master")
        except ImportError:
            pass

    def open_listeners(self, config: ServerConfig) -> list[Address]:
        """Bind what `config` lists (Listeners.open) and apply its AcceptFilter to every
        socket; returns the bound addresses it does not list."""
        unused = self.listeners.open(config.listen)
        for failure in self.listeners.apply_accept_filters(config.defers_accept):
            self.log(f"AH00076: Failed to enable APR_TCP_DEFER_ACCEPT on {failure}",
                     LEVELS["warn"])
        return unused

    def log(self, message: str, level: int = LEVELS["notice"]) -> None:
        """To the error log (Apache logs its notices whatever LogLevel says); errors also
        to stderr when the error log is a file, so `systemctl status` shows them."""
        self.error_log.log(message, level, "mpm_prefork")
        if level <= LEVELS["error"] and self.error_log.path is not None:
            print(f"prefork-modpy: {message}", file=sys.stderr, flush=True)


def preload_shared_modules() -> None:
    """Import in the master what every worker's runtime imports at boot anyway (mod_python's
    `_apache`, and through it `mod_python.util`): their code and objects then live in pages
    the workers share instead of one private copy each. Handler modules are never imported
    here (mod_python imports them per child, and `PythonImport` runs in each worker)."""
    import mod_python._apache  # noqa: F401


def fork_keeping_pages_shared() -> int:
    """`os.fork()` after `gc.freeze()`, CPython's advice for fork without exec: the master's
    objects go to the permanent generation, so a worker's collector never writes their GC
    headers and their pages stay shared copy-on-write (about 3 MiB less private memory per
    worker, bench/README.md). The master unfreezes at once, so that its own cyclic garbage
    (an old generation's config after a reload) is still collected."""
    gc.freeze()  # no gc.collect() first: it would write every header the workers share
    pid = -1
    try:
        pid = os.fork()
    finally:
        if pid != 0:
            gc.unfreeze()
    return pid


def piped_targets(config: ServerConfig) -> list[str]:
    """Every `|command` log of the configuration (ErrorLog and CustomLog)."""
    error_log = config.error_log
    targets = [error_log] if error_log is not None and pipedlogs.is_piped(error_log) else []
    for host in [config.main, *config.vhosts]:
        targets += [path for path, _, _ in host.custom_logs if pipedlogs.is_piped(path)]
    return list(dict.fromkeys(targets))


def _running_pid(path: str) -> Optional[int]:
    """The pid in `path` if that process is alive and is a prefork-modpy master."""
    try:
        with open(path) as handle:
            pid = int(handle.read().strip() or 0)
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except (OSError, ValueError):
        return None
    return pid if pid and b"prefork" in cmdline else None
