"""A worker process: the serve loop after fork.

Owns what happens in a child: resetting signals, running `PythonImport`s, building the
runtime and the Rust engine over the inherited listening sockets, then accept → parse (Rust)
→ dispatch → respond → log until told to stop. Must not read config files or touch other
workers.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from typing import TYPE_CHECKING

from . import _core
from .dispatch import Dispatcher
from .runtime import Runtime

if TYPE_CHECKING:
    from .config import ServerConfig

# How long one wait for a request may last before the loop checks its flags and its parent.
POLL_INTERVAL = 0.5
# Exit code telling the master this worker could not start (do not respawn in a tight loop).
EXIT_BOOT_ERROR = 3


class Worker:
    """One child of the master."""

    def __init__(self, config: ServerConfig, listen_fds: list[int], number: int,
                 master_pid: int, graceful_timeout: float) -> None:
        self.config = config
        self.listen_fds = listen_fds
        self.number = number
        self.master_pid = master_pid
        self.graceful_timeout = graceful_timeout
        self.stopping = False
        self.reopen_logs = False

    def run(self) -> None:
        """Never returns: the process exits when the loop ends."""
        code = 0
        try:
            self._set_title()
            self._install_signals()
            runtime = Runtime(self.config)
            self._run_python_imports(runtime)
            engine = _core.Engine(self.listen_fds, engine_limits(self.config))
        except Exception:
            traceback.print_exc()
            os._exit(EXIT_BOOT_ERROR)
        try:
            self._serve(engine, Dispatcher(runtime), runtime)
            self._drain(engine, Dispatcher(runtime))
            runtime.run_child_cleanups()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)

    def _serve(self, engine: _core.Engine, dispatcher: Dispatcher, runtime: Runtime) -> None:
        while not self.stopping:
            raw = engine.next_request(POLL_INTERVAL)
            if raw is not None:
                dispatcher.handle(raw)
                continue
            if os.getppid() != self.master_pid:
                return  # orphaned: the master is gone, so is our supervision
            if self.reopen_logs:
                self.reopen_logs = False
                runtime.error_log.reopen()

    def _drain(self, engine: _core.Engine, dispatcher: Dispatcher) -> None:
        """Graceful stop: no new connections; finish what clients already sent."""
        engine.stop_accepting()
        deadline = time.monotonic() + self.graceful_timeout
        while time.monotonic() < deadline:
            raw = engine.next_request(0.05)
            if raw is not None:
                dispatcher.handle(raw)
            elif engine.close_idle() == 0:
                return

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._handle_term)
        signal.signal(signal.SIGUSR1, self._handle_usr1)
        signal.signal(signal.SIGINT, _exit_now)
        signal.signal(signal.SIGQUIT, _exit_now)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for sig in (signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_IGN)

    def _handle_term(self, signum: int, frame: object) -> None:
        # Only a flag: the loop notices it between requests, so no request is cut.
        self.stopping = True

    def _handle_usr1(self, signum: int, frame: object) -> None:
        self.reopen_logs = True

    def _run_python_imports(self, runtime: Runtime) -> None:
        """PythonImport runs in every child, last directive first (as mod_python does)."""
        for spec, interpreter, file, line in reversed(self.config.python_imports):
            module_name, _, function = spec.partition("::")
            try:
                runtime.interpreter = interpreter
                module = runtime.import_module(module_name)
                if function:
                    getattr(module, function)()
            except Exception:
                runtime.error_log.log(f"directive_PythonImport ({file}:{line}): error importing "
                                      f"{spec}\n{traceback.format_exc()}")

    def _set_title(self) -> None:
        try:
            import setproctitle

            setproctitle.setproctitle(f"prefork-modpy: worker {self.number}")
        except ImportError:
            pass


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def engine_limits(config: ServerConfig) -> _core.Limits:
    limits = config.limits
    return _core.Limits(
        request_line=limits.request_line, field_size=limits.field_size, fields=limits.fields,
        body=limits.body, timeout=limits.timeout, keepalive_timeout=limits.keepalive_timeout,
        max_keepalive_requests=limits.max_keepalive_requests, keepalive=limits.keepalive)
