"""``_apache``: the module mod_python's C code creates in every interpreter, in Python.

Owns the names handlers and mod_python's own modules reach as ``import _apache``:
``log_error``, ``table``, ``config_tree``, ``server_root``, ``mpm_query``,
``exists_config_define``, ``stat``, ``register_cleanup(interpreter, server, callback[, data])``,
``parse_qs``/``parse_qsl``, ``SERVER_RETURN``, the ``AP_CONN_*``/``APR_*``/magic-number
constants, and the global locks ``_global_lock``/``_global_trylock``/``_global_unlock``.
``mod_python/__init__.py`` registers it as the top-level ``_apache`` (mod_python's C code
does the same before any handler runs).

Global locks (src/_apachemodule.c): mod_python creates ``PythonOption mod_python.mutex_locks``
(default 8) APR global mutexes in ``mod_python.mutex_directory`` (default /tmp), named
``mpmtx<parent pid><n>``, shared by all children. Lock 0 is reserved for dbm files; a key
without an index picks ``hash(key) % (locks - 1) + 1``. Here each lock is an ``fcntl.flock``
on such a file: it serialises all workers of one server (whose parent is the master), and
the kernel releases it when a worker dies, so a killed worker never leaves it held.

Must not hold per-request state, nor import prefork_modpy beyond what mod_python.apache does.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import zlib
from typing import Any, Callable

from mod_python import apache, util

SERVER_RETURN = apache.SERVER_RETURN
table = apache.table
log_error = apache.log_error
config_tree = apache.config_tree
server_root = apache.server_root
mpm_query = apache.mpm_query
exists_config_define = apache.exists_config_define
stat = apache.stat
parse_qs = util.parse_qs
parse_qsl = util.parse_qsl

AP_CONN_UNKNOWN = apache.AP_CONN_UNKNOWN
AP_CONN_CLOSE = apache.AP_CONN_CLOSE
AP_CONN_KEEPALIVE = apache.AP_CONN_KEEPALIVE
APR_NOFILE = apache.APR_NOFILE
APR_REG = apache.APR_REG
APR_DIR = apache.APR_DIR
APR_CHR = apache.APR_CHR
APR_BLK = apache.APR_BLK
APR_PIPE = apache.APR_PIPE
APR_LNK = apache.APR_LNK
APR_SOCK = apache.APR_SOCK
APR_UNKFILE = apache.APR_UNKFILE
MODULE_MAGIC_NUMBER_MAJOR = apache.MODULE_MAGIC_NUMBER_MAJOR
MODULE_MAGIC_NUMBER_MINOR = apache.MODULE_MAGIC_NUMBER_MINOR

DEFAULT_LOCKS = 8  # mod_python's MAX_LOCKS

# (pid, path) -> open descriptor. flock belongs to the open file, so a process keeps one
# descriptor per lock; the pid in the key drops descriptors inherited through fork().
_descriptors: dict[tuple[int, str], int] = {}


def _check_server(server: Any, what: str, error: type[Exception]) -> None:
    # MpServer_Check: only mod_python's server object names the server's config.
    if type(server).__name__ != "mp_server":
        raise error(f"{what} must be a server object")


def register_cleanup(interpreter: str, server: Any, callback: Callable[[Any], Any],
                     data: Any = None) -> None:
    """Call ``callback(data)`` when the worker exits (mod_python: child pool cleanup)."""
    if not isinstance(interpreter, str):
        raise TypeError("register_cleanup() argument 1 must be str")
    _check_server(server, "second argument", ValueError)
    if not callable(callback):
        raise ValueError("third argument must be a callable object")
    apache.register_cleanup(callback, data)


def _main_options(server: Any) -> Any:
    # init_mutexes() reads the main server's PythonOptions, whatever vhost asks.
    main = getattr(apache, "main_server", None)
    return (main if main is not None else server).get_options()


def _lock_count(server: Any) -> int:
    text = _main_options(server).get("mod_python.mutex_locks")
    try:
        return int(text) if text else DEFAULT_LOCKS
    except ValueError:
        return DEFAULT_LOCKS


def _lock_index(server: Any, key: Any, index: int) -> int:
    count = _lock_count(server)
    if index >= count or index < -1:
        log_error(f"Index {index} is out of range for number of global mutex locks",
                  apache.APLOG_WARNING, server)
        raise ValueError("Lock index is out of range for number of global mutex locks")
    if index != -1:
        return index
    # A stable hash for strings: workers forked from one master agree on hash(), but a
    # restarted worker with another seed would not; the lock must not depend on that.
    digest = zlib.crc32(key.encode() if isinstance(key, str) else key) \
        if isinstance(key, (str, bytes)) else abs(hash(key))
    return digest % (count - 1) + 1  # never 0, which is reserved for dbm locking


def _lock_path(server: Any, index: int) -> str:
    directory = _main_options(server).get("mod_python.mutex_directory") \
        or tempfile.gettempdir()
    # The workers' parent is the master: one set of locks per running server.
    owner = os.getppid() if apache._runtime is not None else os.getpid()
    return os.path.join(directory, f"mpmtx{owner}{index}")


def _descriptor(server: Any, index: int) -> int:
    path = _lock_path(server, index)
    key = (os.getpid(), path)
    if key not in _descriptors:
        for stale in [k for k in _descriptors if k[0] != os.getpid()]:
            del _descriptors[stale]  # inherited from the parent: its lock, not ours
        try:
            _descriptors[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            log_error(f"Failed to open global mutex file {path}: {exc.strerror}",
                      apache.APLOG_WARNING, server)
            raise ValueError("Failed to acquire global mutex lock") from exc
    return _descriptors[key]


def _global_lock(server: Any, key: Any, index: int = -1) -> None:
    """Block until global lock ``index`` (or the one ``key`` hashes to) is held."""
    _check_server(server, "First argument", TypeError)
    number = _lock_index(server, key, index)
    fd = _descriptor(server, number)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        log_error(f"Failed to acquire global mutex lock at index {number}",
                  apache.APLOG_WARNING, server)
        raise ValueError("Failed to acquire global mutex lock") from exc


def _global_trylock(server: Any, key: Any, index: int = -1) -> bool:
    """Take the lock if it is free: True, or False when another process holds it."""
    _check_server(server, "First argument", TypeError)
    number = _lock_index(server, key, index)
    fd = _descriptor(server, number)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        log_error(f"Failed to acquire global mutex lock at index {number}",
                  apache.APLOG_WARNING, server)
        raise ValueError("Failed to acquire global mutex lock") from exc
    return True


def _global_unlock(server: Any, key: Any, index: int = -1) -> None:
    """Release a lock taken by ``_global_lock``/``_global_trylock``."""
    _check_server(server, "First argument", TypeError)
    number = _lock_index(server, key, index)
    fcntl.flock(_descriptor(server, number), fcntl.LOCK_UN)
