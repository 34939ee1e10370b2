"""What one worker process holds for the requests it serves.

Owns the worker's loaded config, error log, module cache and interpreters, the `server`
objects, child-exit cleanups, and the binding of `mod_python.apache`'s module-level functions
to this process. Built once per worker after fork; requests only read it. Must not know
about requests: which interpreter a handler runs in is the dispatcher's choice.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from .. import _core
from .errorlog import ErrorLog, parse_level
from .importer import ModuleCache
from .interpreters import Namespaces
from .objects import mp_server

if TYPE_CHECKING:
    from ..config.server import ServerConfig, VirtualHost

MAIN_INTERPRETER = "main_interpreter"


class Runtime:
    """Per-worker state shared by all requests; also what `mod_python.apache` calls."""

    def __init__(self, config: ServerConfig, error_log: Optional[ErrorLog] = None) -> None:
        self.config = config
        self.error_log = error_log or ErrorLog(config.error_log, parse_level(config.log_level))
        self.modules = ModuleCache()
        self._servers: dict[int, mp_server] = {}
        self._base_servers: dict[tuple[str, int], mp_server] = {}
        # -- per-vhost ErrorLog/LogLevel: one ErrorLog per (file, level) --
        self._error_logs = {(self.error_log.path, self.error_log.level): self.error_log}
        self._child_cleanups: list[tuple[Callable, Any]] = []
        self._sys_path_added: set[tuple[str, str]] = set()
        self.namespaces = Namespaces()
        self.entered: Optional[str] = None  # the interpreter whose namespace is installed
        self.dispatcher: Any = None  # set by the Dispatcher serving with this runtime
        # Told when a response enters (True) and leaves (False) a blocking transfer in the
        # engine, whose every wait `Timeout` bounds: the worker's scoreboard heartbeat, so
        # the master's watchdog sees a streaming handler progress (server/worker.py).
        self.progress: Optional[Callable[[bool], None]] = None
        self.child_number = 0  # the worker's scoreboard slot (conn.id), set by the worker
        sys.argv = ["mod_python"]  # what apache.init() gives every mod_python interpreter
        if config.python_optimize and sys.flags.optimize < 2:
            # mod_python sets Py_OptimizeFlag before its interpreter starts; ours is running.
            self.error_log.log("PythonOptimize On has no effect: start prefork-modpy with "
                               "python -OO (or PYTHONOPTIMIZE=2) instead", apache.APLOG_WARNING)
        for vhost in config.vhosts:  # opened before the worker drops privileges, as httpd
            self.error_log_for(vhost)
        self.interpreter = config.main.server_name  # apache.interpreter; set per handler
        self.main_server = self.server_object(config.main)
        self.http_date = _core.http_date
        apache._bind_server(self)
        # `import _apache` works in handlers, as mod_python's C code makes it in every
        # interpreter (imported here, not by the mod_python package: no import cycle)
        from mod_python import _apache

        sys.modules.setdefault("_apache", _apache)
        self._prepare_python_imports()

    def _prepare_python_imports(self) -> None:
        """mod_python's ImportDispatch applies the main server's PythonPath in each
        PythonImport's interpreter before importing (the worker imports right after)."""
        expression = self.config.main.settings.python_config.get("PythonPath")
        if expression is None:
            return
        for _, interpreter, _, _ in self.config.python_imports:
            self.enter_interpreter(interpreter)
            self.modules.apply_python_path(self.modules.interpreter(interpreter), expression)

    # -- interpreters and sys.path --------------------------------------------------------

    def enter_interpreter(self, name: str) -> None:
        """Install interpreter `name`'s own sys.modules and sys.path (interpreters.py).
        Callers compare `name` with `entered` first: the same name as last time is free."""
        self.namespaces.enter(name)
        self.entered = self.interpreter = name

    def prepend_sys_path(self, directory: str) -> None:
        """mod_python puts a handler's directory first on sys.path, once per interpreter."""
        key = (self.interpreter, directory)
        if key in self._sys_path_added:
            return
        self._sys_path_added.add(key)
        if directory not in sys.path:
            sys.path.insert(0, directory)

    # -- objects handed to handlers -------------------------------------------------------

    def server_object(self, vhost: VirtualHost) -> mp_server:
        server = self._servers.get(id(vhost))
        if server is None:
            server = self._servers[id(vhost)] = mp_server(
                vhost, self.config, self.error_log_for(vhost), self._child_cleanups)
        return server

    def base_server(self, local_addr: tuple[str, int]) -> mp_server:
        """conn->base_server for a connection accepted on `local_addr` (cached: the
        listening addresses are few)."""
        server = self._base_servers.get(local_addr)
        if server is None:
            vhost = self.config.base_vhost(local_addr[0], local_addr[1])
            server = self._base_servers[local_addr] = self.server_object(vhost)
        return server

    def error_log_for(self, vhost: VirtualHost) -> ErrorLog:
        """A <VirtualHost>'s own ErrorLog/LogLevel (the main server's when unset)."""
        if vhost.error_log is None and vhost.log_level is None:
            return self.error_log
        path = vhost.error_log if vhost.error_log is not None else self.error_log.path
        level = parse_level(vhost.log_level) if vhost.log_level else self.error_log.level
        error_log = self._error_logs.get((path, level))
        if error_log is None:
            error_log = self._error_logs[(path, level)] = ErrorLog(path, level)
        return error_log

    def reopen_error_logs(self) -> None:
        """After logrotate (SIGUSR1): every error log this worker opened."""
        for error_log in self._error_logs.values():
            error_log.reopen()

    def is_servable(self, root: str, filename: str) -> bool:
        """Static files must resolve (symlinks followed) to a path inside the root, both
        as they resolve now: a root that is a link (a deploy's `current`) may be switched
        to a new target at any time. The default handler asks httpd/servable.py, which
        needs this only for the rare paths openat2(2) cannot prove."""
        real_root = os.path.realpath(root).rstrip("/") + "/"
        return os.path.realpath(filename).startswith(real_root)

    # -- logging and cleanups -------------------------------------------------------------

    def register_child_cleanup(self, callback: Callable, data: Any = None) -> None:
        self._child_cleanups.append((callback, data))

    def run_child_cleanups(self) -> None:
        for callback, data in self._child_cleanups:
            try:
                callback(data)
            except Exception as exc:
                self.error_log.log(f"python_cleanup: Error calling cleanup object "
                                   f"{callback!r}\n    {type(exc).__name__}: {exc}")

    # -- the hooks mod_python.apache delegates to -----------------------------------------

    def log_error(self, message: str, level: int = apache.APLOG_ERR,
                  server: Optional[mp_server] = None) -> None:
        if server is not None:  # that server's own ErrorLog
            server.log_error(message, level)
            return
        self.error_log.log(message, level, "")  # `[:error]`, as mod_python's lines

    def import_module(self, name: str, autoreload: int = 1, log: int = 0,
                      path: Optional[list[str]] = None) -> Any:
        if self.interpreter != self.entered:  # PythonImport names its interpreter this way
            self.enter_interpreter(self.interpreter)
        interp = self.modules.interpreter(self.interpreter)
        logger = (lambda msg: self.error_log.log(msg, apache.APLOG_NOTICE)) if log else None
        return self.modules.import_module(interp, name, bool(autoreload), logger, path)

    def register_cleanup(self, callback: Callable, data: Any = None) -> None:
        self.register_child_cleanup(callback, data)

    def exists_config_define(self, name: str) -> bool:
        return name in self.config.defines

    def server_root(self) -> str:
        return self.config.server_root

    def mpm_query(self, code: int) -> int:
        answers = {apache.AP_MPMQ_IS_THREADED: apache.AP_MPMQ_NOT_SUPPORTED,
                   apache.AP_MPMQ_IS_FORKED: apache.AP_MPMQ_DYNAMIC}
        return answers.get(code, 0)

    def config_tree(self) -> tuple:
        return ()
