"""A worker process: the serve loop after fork.

Owns what happens in a child: its signals, opening its logs, dropping privileges, running
`PythonImport`s, building the runtime and the Rust engine over the inherited listening
sockets, then accept → parse (Rust) → dispatch → respond → log until told to stop, keeping
its scoreboard slot current; and the graceful drain: stop accepting, answer what clients
send with `Connection: close`, close idle keep-alive connections, exit. Must not read config
files or touch other workers.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional

from .. import _core
from ..httpd import errorpages
from ..httpd.accesslog import AccessLogger
from ..httpd.forwarded import ProxiedRequest, proxies_of
from ..httpd.forwardedproto import with_forwarded_scheme
from ..httpd.staticplan import StaticPlanner
from ..modpy.connection import raw_connection_table, serve_connection
from ..modpy.dispatch import Dispatcher
from ..runtime.runtime import Runtime
from . import tls
from .health import HANDLER_NAME as HEALTH_HANDLER
from .health import HealthCheck
from .scoreboard import GRACEFUL, READY, WorkerSlot, read_rss_kb
from .status import HANDLER_NAME as STATUS_HANDLER
from .status import StatusPage

if TYPE_CHECKING:
    from ..config.server import Processes, ServerConfig
    from .scoreboard import Scoreboard

# How long one wait for a request may last before the loop checks its flags and its parent.
# Under load, how often the between-requests checks run (heartbeat, parent, log reopen).
TICK_INTERVAL = 0.2
POLL_INTERVAL = 0.5
# Exit code telling the master this worker could not start (do not respawn in a tight loop).
EXIT_BOOT_ERROR = 3
# During a drain, idle keep-alive connections get this long (at most KeepAliveTimeout) to
# send their next request, which is then answered with `Connection: close`. Closing them at
# once would race clients that are just sending on them.
DRAIN_IDLE_GRACE = 1.0
# On SIGTERM, keep accepting while connections are queued on the listening sockets (at most
# this long): once the last listening fd closes, the kernel resets whatever is still queued.
ACCEPT_LINGER = 1.0
MEMORY_CHECK_INTERVAL = 1.0
PR_SET_PDEATHSIG = 1


class BootError(Exception):
    """The worker cannot serve: the master must not respawn it in a loop."""


class HandlerTimeout(Exception):
    """Raised in a handler the master found stuck past `Timeout` (SIGUSR2)."""


@dataclass(frozen=True)
class WorkerSpec:
    """What the master decided for one worker before forking it."""

    number: int
    slot: int
    generation: int
    max_requests: int  # 0: no limit; jitter already applied
    accept_linger: bool = True
    proxy_fds: tuple[int, ...] = ()  # listeners whose connections start with a PROXY header
    tls: tuple[tuple[int, _core.TlsContext], ...] = ()  # -- mod_ssl -- (fd, TlsContext)


class Worker:
    """One child of the master. Built before fork: the constructor must not change any
    process state; everything process-wide happens in `run()`, in the child."""

    def __init__(self, config: ServerConfig, listen_fds: list[int], spec: WorkerSpec,
                 master_pid: int, board: Scoreboard,
                 handoff_fds: Optional[tuple[int, int]] = None) -> None:
        self.config = config
        self.listen_fds = listen_fds
        self.handoff_fds = handoff_fds  # the master's pair: see the engine's handoff.rs
        self.spec = spec
        self.master_pid = master_pid
        self.slot = WorkerSlot(board, spec.slot)
        self.processes: Processes = config.processes
        self.stopping = False
        self.stop_reason = ""
        self.accept_linger = False
        self.reopen_logs = False
        self.busy = False
        self.connection_handlers = False  # set at boot: some listener hands connections over
        self.serving = ("", "")  # (method, target) of the request being handled
        self.timed_out = False
        self.next_memory_check = 0.0
        self.runtime: Optional[Runtime] = None
        self.engine: Optional[_core.Engine] = None
        self.proxies = proxies_of(config)
        self.has_proxies = bool(self.proxies)  # asked per request: decided once
        self.access_log: Optional[AccessLogger] = None
        self.static_planner: Optional[StaticPlanner] = None

    # -- life -----------------------------------------------------------------------------

    def run(self) -> NoReturn:
        """Never returns: the process exits when the loop ends."""
        self.slot.booting(os.getpid())
        try:
            engine, dispatcher = self._boot()
        except BaseException as exc:  # anything at all here means "cannot serve"
            self._boot_failed(exc)
        code = 0
        try:
            self.slot.set_state(READY)
            self._serve(engine, dispatcher)
            self._drain(engine, dispatcher)
            self.runtime.run_child_cleanups()  # type: ignore[union-attr]
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        except BaseException:
            self._log(f"worker failed: {traceback.format_exc()}")
            code = 1
        self._flush_access_logs()  # httpd's flush_all_logs, a child pool cleanup
        os._exit(code)

    def _boot(self) -> tuple[_core.Engine, Dispatcher]:
        raise_nofile_limit()
        self._set_title()
        self._install_signals()
        access_log = AccessLogger(self.config)
        self.access_log = access_log if access_log else None
        runtime = self.runtime = Runtime(self.config)
        runtime.progress = self.slot.progress  # the watchdog sees streaming progress
        runtime.child_number = self.spec.number
        self._stderr_to_error_log()
        dispatcher = Dispatcher(runtime, access_log=self.access_log)
        status = StatusPage(self.slot.board, self._queued_connections,
                            self.config.extended_status)
        dispatcher.builtin_handlers[STATUS_HANDLER] = status.handle
        dispatcher.builtin_handlers[HEALTH_HANDLER] = HealthCheck(self.slot.board).handle
        self._install_faulthandler()
        drop_privileges(self.processes)
        # Set after the privilege drop: changing credentials clears it.
        _set_parent_death_signal(signal.SIGTERM, self.master_pid)
        self._run_python_imports(runtime)
        raw_table = raw_connection_table(self.config, self.listen_fds)
        self.connection_handlers = bool(raw_table)
        engine = self.engine = _core.Engine(self.listen_fds, self.config.limits,
                                            errorpages.STATUS_LINES, refusal_page(self.config),
                                            raw_table, self.handoff_fds, list(self.spec.proxy_fds),
                                            list(self.spec.tls),  # -- mod_ssl --
                                            tls.plain_http_page() if self.spec.tls else b"")
        if self.access_log is not None:
            # One writer for every access line, Python's and the plans': BufferedLogs holds
            # them in the engine, in the order the requests were answered.
            self.access_log.write_through(engine.write_log)
            engine.buffered_logs = self.config.buffered_logs
        if self._plans_allowed():
            self.static_planner = StaticPlanner(engine, self.access_log)
            dispatcher.static_planner = self.static_planner
        return engine, dispatcher

    def _plans_allowed(self) -> bool:
        """Whether the engine may answer repeats of static requests (httpd/staticplan.py):
        not where every request must reach Python to be counted (MaxRequestsPerChild,
        MaxConnectionsPerChild) or to learn its client (TrustedProxies)."""
        return not (self.spec.max_requests or self.processes.max_connections_per_child
                    or self.has_proxies)

    def _boot_failed(self, exc: BaseException) -> NoReturn:
        reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, BootError) else str(exc)
        self.slot.note(reason)
        if not isinstance(exc, BootError):
            reason += "\n" + traceback.format_exc()
        self._log(f"worker {self.spec.number} could not start: {reason}")
        os._exit(EXIT_BOOT_ERROR)

    # -- serving --------------------------------------------------------------------------

    def _serve(self, engine: _core.Engine, dispatcher: Dispatcher) -> None:
        max_requests = self.spec.max_requests
        max_connections = self.processes.max_connections_per_child
        connections = 0
        next_tick = 0.0
        while not self.stopping:
            raw = engine.next_request(POLL_INTERVAL)
            if raw is not None and self.connection_handlers and type(raw) is _core.RawConnection:
                self._handle_connection(raw)
            elif raw is not None:
                # The request that reaches MaxRequestsPerChild tells its client to go.
                last = max_requests > 0 and self.slot.requests + 1 >= max_requests
                self._handle(dispatcher, raw, closing=last)
                if last:
                    self._stop("MaxRequestsPerChild reached")
                # -- MaxConnectionsPerChild: a connection counts at its first request
                # (prefork's requests_this_child counts connections); after the last one
                # the worker drains and exits, and the master starts another.
                # (a RawConnection never gets here: the branch above takes every one of
                # them whenever the engine was given raw-connection listeners)
                elif max_connections and raw.keepalive_count == 1:  # type: ignore[union-attr]
                    connections += 1
                    if connections >= max_connections:
                        self._stop("MaxConnectionsPerChild reached")
            # end_request() already refreshed the heartbeat: under load, the other checks
            # (a syscall or two each) run a few times a second, not once per request.
            now = time.monotonic()
            if raw is None or now >= next_tick:
                next_tick = now + TICK_INTERVAL
                self._tick()

    def _handle(self, dispatcher: Dispatcher, raw: Any, closing: bool) -> None:
        slot = self.slot
        if self.has_proxies:
            client = self.proxies.client_of(raw)
            if client is not None:
                raw = ProxiedRequest(raw, client)
            raw = with_forwarded_scheme(raw, self.proxies)  # -- forwardedproto --
        method, target = raw.method, raw.target
        slot.begin_request(method, target, raw.remote_addr[0])
        # For the Timeout report: read now, as the signal may arrive while the request
        # object is inside one of its own (Rust) calls and cannot be read.
        self.serving = (method, target)
        self.busy = True
        if closing or self.stopping:
            # Draining or recycling: the response says `Connection: close`.
            self.engine.set_draining(True)  # type: ignore[union-attr]
        try:
            dispatcher.handle(raw)
        finally:
            self.busy = False
        slot.end_request(raw.bytes_sent, GRACEFUL if self.stopping or closing else READY)
        if self.timed_out:
            raise SystemExit(0)  # the master is about to kill us; leave first

    def _handle_connection(self, raw: Any) -> None:
        """A PythonConnectionHandler's connection: the worker is busy until it returns."""
        self.slot.begin_request("-", "(PythonConnectionHandler)", raw.remote_addr[0])
        self.busy = True
        try:
            serve_connection(self.runtime, raw)  # type: ignore[arg-type]
        finally:
            self.busy = False
        self.slot.end_request(0, GRACEFUL if self.stopping else READY)
        if self.timed_out:
            raise SystemExit(0)

    def _tick(self) -> None:
        """Between requests: heartbeat, log reopen, parent and memory checks, and the
        requests the engine refused itself into the access log."""
        self.slot.heartbeat()
        self._count_planned()
        self._log_refusals()
        self._flush_access_logs()
        if self.reopen_logs:
            self.reopen_logs = False
            self._reopen_logs()
        if os.getppid() != self.master_pid:
            self._stop("the master is gone")
        now = time.monotonic()
        if now >= self.next_memory_check:
            self.next_memory_check = now + MEMORY_CHECK_INTERVAL
            self._check_memory()

    def _count_planned(self) -> None:
        """Requests the engine answered from static plans, into the scoreboard."""
        if self.static_planner is not None and self.engine is not None:
            served, sent, last = self.engine.take_static_counts()
            if served and last is not None:
                self.slot.add_requests(served, sent, *last)

    def _flush_access_logs(self) -> None:
        """Under BufferedLogs, write what the engine holds: at each tick (so a quiet server's
        lines reach the file within POLL_INTERVAL; httpd holds them until 4 KiB gather or the
        child exits), before the logs are reopened and when the worker exits."""
        engine = self.engine
        if engine is not None and engine.buffered_logs:
            engine.flush_logs()

    def _log_refusals(self) -> None:
        if self.access_log is not None and self.engine is not None:
            refused = self.engine.take_refusals()
            if refused:
                self.access_log.refused(refused)

    def _check_memory(self) -> None:
        rss_kb = read_rss_kb()
        self.slot.rss_kb = rss_kb
        limit = self.processes.max_memory_per_child
        if limit and rss_kb * 1024 > limit and not self.stopping:
            self._stop(f"MaxMemoryPerChild reached ({rss_kb} KiB resident)")

    def _stop(self, reason: str) -> None:
        if not self.stopping:
            self.stopping = True
            self.stop_reason = reason
            self.slot.note(reason)
            self._log(f"worker {self.spec.number} stopping: {reason}", level=6)

    # -- the graceful drain ---------------------------------------------------------------

    def _drain(self, engine: _core.Engine, dispatcher: Dispatcher) -> None:
        """Finish what clients already sent, then close: no request is cut."""
        self.slot.set_state(GRACEFUL)
        engine.set_draining(True)
        if self.accept_linger:
            self._serve_queued_connections(engine, dispatcher)
        engine.stop_accepting()
        timeout = self.processes.graceful_shutdown_timeout or float("inf")
        deadline = time.monotonic() + timeout
        grace = min(DRAIN_IDLE_GRACE, self.config.limits.keepalive_timeout)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            raw = engine.next_request(0.05)
            if raw is not None:
                self._handle(dispatcher, raw, closing=True)
                quiet_since = time.monotonic()
            elif engine.open_connections == 0:
                break
            elif time.monotonic() - quiet_since >= grace and engine.close_idle() == 0:
                break
            self.slot.heartbeat()
            self._log_refusals()
            self._flush_access_logs()
        self._log_refusals()

    def _queued_connections(self) -> int:
        return self.engine.queued_connections() if self.engine is not None else 0

    def _serve_queued_connections(self, engine: _core.Engine, dispatcher: Dispatcher) -> None:
        """SIGTERM: the master has closed its copies of the listening sockets; whichever
        worker closes the last copy resets the connections still queued, so accept until
        the queues are empty (or ACCEPT_LINGER passes)."""
        deadline = time.monotonic() + ACCEPT_LINGER
        while time.monotonic() < deadline and engine.queued_connections() > 0:
            raw = engine.next_request(0.01)
            if raw is not None:
                self._handle(dispatcher, raw, closing=True)

    # -- signals --------------------------------------------------------------------------

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._handle_term)
        signal.signal(signal.SIGUSR1, self._handle_usr1)
        signal.signal(signal.SIGUSR2, self._handle_usr2)
        signal.signal(signal.SIGWINCH, self._handle_winch)
        signal.signal(signal.SIGINT, _exit_now)
        signal.signal(signal.SIGQUIT, _exit_now)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        for sig in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_IGN)
        # Blocked since before the fork (Master.spawn_worker): one that came while booting
        # is delivered now, to the handler above.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})

    def _handle_term(self, signum: int, frame: object) -> None:
        # Only flags: the loop notices them between requests, so no request is cut.
        # SIGTERM is the stop of the whole server: drain the accept queue too.
        self.accept_linger = self.spec.accept_linger
        self._stop_flag("graceful stop")

    def _handle_winch(self, signum: int, frame: object) -> None:
        # The master retires this worker (reload, fewer workers): others keep accepting.
        self._stop_flag("retired by the master")

    def _stop_flag(self, reason: str) -> None:
        if not self.stopping:
            self.stopping = True
            self.stop_reason = reason
            if self.busy and self.engine is not None:
                # A request is running (the engine is not inside next_request): its
                # response says `Connection: close` and its connection closes after it.
                self.engine.set_draining(True)

    def _handle_usr1(self, signum: int, frame: object) -> None:
        self.reopen_logs = True

    def _handle_usr2(self, signum: int, frame: Any) -> None:
        """The master found this worker busy past `Timeout`. faulthandler has already
        written the C-level stack dump; say which handler it was, then abort it so the
        client still gets a 500 and the worker exits before the master's SIGKILL."""
        if not self.busy or self.timed_out:
            return
        self.timed_out = True
        self._log(f"Timeout: the stuck request was in {_handler_in(frame)} for "
                  f"{' '.join(self.serving)}")
        raise HandlerTimeout(f"request exceeded Timeout ({self.config.limits.timeout:g}s)")

    # -- logs -----------------------------------------------------------------------------

    def _install_faulthandler(self) -> None:
        """Fatal signals and the master's SIGUSR2 dump the Python stack to the error log."""
        fd = self.runtime.error_log.fd  # type: ignore[union-attr]
        faulthandler.enable(file=fd, all_threads=True)
        faulthandler.register(signal.SIGUSR2, file=fd, all_threads=True, chain=True)

    def _reopen_logs(self) -> None:
        try:
            self.runtime.reopen_error_logs()  # type: ignore[union-attr]
            if self.access_log is not None:
                if self.static_planner is not None:  # the plans hold the old fds
                    self.static_planner.clear()
                self._flush_access_logs()  # held lines belong to the old files
                self.access_log.reopen()
        except OSError as exc:
            self._log(f"cannot reopen log files (the old ones stay in use): {exc}")
        else:
            self._log("log files reopened", level=6)
        self._stderr_to_error_log()
        self._install_faulthandler()

    def _stderr_to_error_log(self) -> None:
        """httpd points every child's fd 2 at the main server's error log: what handlers
        write to sys.stderr (wsgi.errors, print, logging's default handler) lands there as
        raw lines. Done again after a reopen, so it follows the rotated file."""
        error_log = self.runtime.error_log  # type: ignore[union-attr]
        if error_log.path is None:
            return  # the error log is stderr already
        sys.stderr.flush()
        os.dup2(error_log.fd, 2)

    def _log(self, message: str, level: int = 3) -> None:
        if self.runtime is not None:
            self.runtime.error_log.log(message, level, "mpm_prefork")
        else:
            os.write(2, f"prefork-modpy worker: {message}\n".encode(errors="replace"))

    # -- boot steps -----------------------------------------------------------------------

    def _run_python_imports(self, runtime: Runtime) -> None:
        """PythonImport runs in every child, last directive first (as mod_python does).
        A failure is logged in mod_python's words; unless `PythonImportErrors Log` says
        otherwise it is also a boot failure, so a broken deploy never replaces a working
        generation."""
        for spec, interpreter, file, line in reversed(self.config.python_imports):
            module_name, _, function = spec.partition("::")
            try:
                runtime.interpreter = interpreter
                module = runtime.import_module(module_name)
                if function:
                    getattr(module, function)()
            except Exception as exc:
                runtime.error_log.log(f"directive_PythonImport ({file}:{line}): error importing "
                                      f"{spec}\n{traceback.format_exc()}")
                if self.processes.python_import_errors == "fatal":
                    raise BootError(f"{file}:{line}: PythonImport {spec} failed: "
                                    f"{type(exc).__name__}: {exc}{_searched(exc)}") from exc

    def _set_title(self) -> None:
        try:
            import setproctitle

            setproctitle.setproctitle(f"prefork-modpy: worker {self.spec.number}")
        except ImportError:
            pass


def refusal_page(config: ServerConfig) -> Callable[..., bytes]:
    """The page of a request the engine refuses itself: the stock page, with the main
    server's ServerSignature footer. Its port is ap_get_server_port's for a request whose
    Host was never read: ServerName's port, else the scheme's default (80, 443 where every
    socket is TLS); with plain and TLS sockets and no ServerName port the engine's
    callback cannot tell which, and the footer is left out."""
    main = config.main
    tls_count = len(config.tls_listen)
    port = main.server_port or (80 if not tls_count else
                                443 if tls_count == len(config.listen) else 0)
    if main.server_signature not in ("on", "email") or not port:
        return errorpages.error_body
    footer = errorpages.signature_footer(main.server_signature, config.server_banner,
                                         main.server_name, port,
                                         main.server_admin or "[no address given]")

    def page(status: int, method: str = "GET") -> bytes:
        return errorpages.error_body(status, method, signature=footer)
    return page


def _searched(exc: Exception) -> str:
    """For a module that cannot be found: the path that was searched (sys.path as the
    PythonImport saw it)."""
    if not isinstance(exc, ModuleNotFoundError) or exc.path:
        return ""
    return f" (searched: {', '.join(entry or '.' for entry in sys.path)})"


def _handler_in(frame: Any) -> str:
    """The phase and handler the dispatcher is running, found by walking up the stack.
    Reads only plain Python values (the phase name, the handler entry): the signal may
    interrupt a call of the Rust request object, which then cannot be borrowed again
    ("Already mutably borrowed")."""
    from ..modpy.dispatch import Dispatcher

    target = Dispatcher._call.__code__
    while frame is not None:
        if frame.f_code is target:
            local = frame.f_locals
            return f"{local.get('phase')} {getattr(local.get('entry'), 'token', '?')}"
        frame = frame.f_back
    return "no handler (the server's own code)"


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def drop_privileges(processes: Processes) -> None:
    """Become `User`/`Group` (only when started as root, as Apache does). Every step is
    checked: a worker that silently stayed root is worse than one that does not start."""
    uid, gid = processes.uid, processes.gid
    if os.geteuid() != 0 or (uid is None and gid is None):
        return
    try:
        if gid is not None:
            if processes.user is not None:
                os.initgroups(processes.user, gid)
            else:
                os.setgroups([])
            os.setresgid(gid, gid, gid)
        if uid is not None:
            os.setresuid(uid, uid, uid)
    except OSError as exc:
        raise BootError(f"cannot switch to User {processes.user} / Group "
                        f"{processes.group}: {exc}") from exc
    if gid is not None and os.getresgid() != (gid, gid, gid):
        raise BootError(f"group is {os.getresgid()} after setresgid({gid})")
    if uid is not None and os.getresuid() != (uid, uid, uid):
        raise BootError(f"user is {os.getresuid()} after setresuid({uid})")
    if uid not in (None, 0):
        try:
            os.setuid(0)
        except PermissionError:
            return
        raise BootError("could become root again after dropping privileges")


def raise_nofile_limit() -> None:
    """Every connection the engine holds (idle keep-alive ones included) is a descriptor:
    raise the soft RLIMIT_NOFILE to the hard limit."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        # An unlimited hard limit still cannot exceed fs.nr_open (2**20 by default).
        wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        pass  # keep the limit we have


def _set_parent_death_signal(sig: int, master_pid: int) -> None:
    """Ask the kernel to send `sig` when the master dies (Linux prctl), so an orphan drains
    and exits even while it is busy; the getppid() check in the loop is the fallback."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != master_pid:  # the master died before prctl took effect
        os.kill(os.getpid(), sig)

