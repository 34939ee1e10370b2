"""``mod_python.apache`` for prefork-modpy: constants, SERVER_RETURN and helper functions.

This module owns everything handlers reach through ``from mod_python import apache``
(spec section 4): every constant with mod_python 3.5's numbers, ``SERVER_RETURN``,
``table``/``make_table``, ``stat``, ``resolve_object``, ``build_cgi_env``, the CGI
emulation helpers and the functions that need the running server.  It is imported by
every handler, so it imports nothing heavy at module level.

Server hook interface
---------------------
Functions that need the server delegate to a *runtime* object that the worker installs
with ``apache._bind_server(runtime)`` (and removes with ``apache._bind_server(None)``).
The runtime provides:

``log_error(msg: str, level: int, server) -> None``
    write ``msg`` to the error log of ``server`` (an ``mp_server``) or of the main
    server when ``server`` is None; ``level`` is already normalised (0 -> APLOG_ERR).
``import_module(name: str, autoreload: bool, log: bool, path: list | None) -> module``
    mod_python's module cache/autoreload (spec 2.6).  A runtime without its own
    importer may delegate to ``apache._fallback_import_module``.
``register_cleanup(callback, data) -> None``
    call ``callback(data)`` when the worker process exits; errors are logged only.
``config_tree() -> tuple``, ``exists_config_define(name) -> bool``,
``server_root() -> str``, ``mpm_query(code: int) -> int``
    answers about the server configuration (spec 4.2).
``interpreter: str``, ``main_server: mp_server``
    read live (module ``__getattr__``) whenever a handler reads ``apache.interpreter``
    or ``apache.main_server``, so the runtime just updates its own attributes.
``allow_methods(mask: int) -> None`` (optional)
    receives the bitmask computed by ``apache.allow_methods(*methods)``.

Unbound (unit tests, scripts) everything still works: ``log_error`` writes Apache-style
lines to stderr, ``import_module`` uses importlib with mtime-based autoreload,
``register_cleanup`` uses ``atexit``, ``mpm_query`` answers like httpd's prefork MPM.
"""

from __future__ import annotations

import io  # already loaded by the interpreter (sys.stdout); costs nothing
import os
import sys
import time
from typing import Any, Callable, Iterable, List, Optional

from prefork_modpy.runtime.table import Table

# --------------------------------------------------------------------------- constants

# Handler return codes (spec 2.4)
OK = REQ_PROCEED = 0
DECLINED = REQ_NOACTION = -1
DONE = -2

HTTP_CONTINUE = 100
HTTP_SWITCHING_PROTOCOLS = 101
HTTP_PROCESSING = 102
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_ACCEPTED = 202
HTTP_NON_AUTHORITATIVE = 203
HTTP_NO_CONTENT = 204
HTTP_RESET_CONTENT = 205
HTTP_PARTIAL_CONTENT = 206
HTTP_MULTI_STATUS = 207
HTTP_MULTIPLE_CHOICES = 300
HTTP_MOVED_PERMANENTLY = 301
HTTP_MOVED_TEMPORARILY = 302
HTTP_SEE_OTHER = 303
HTTP_NOT_MODIFIED = 304
HTTP_USE_PROXY = 305
HTTP_TEMPORARY_REDIRECT = 307
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_PAYMENT_REQUIRED = 402
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
HTTP_REQUEST_TIME_OUT = 408
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_LENGTH_REQUIRED = 411
HTTP_PRECONDITION_FAILED = 412
HTTP_REQUEST_ENTITY_TOO_LARGE = 413
HTTP_REQUEST_URI_TOO_LARGE = 414
HTTP_UNSUPPORTED_MEDIA_TYPE = 415
HTTP_RANGE_NOT_SATISFIABLE = 416
HTTP_EXPECTATION_FAILED = 417
HTTP_IM_A_TEAPOT = 418
HTTP_UNPROCESSABLE_ENTITY = 422
HTTP_LOCKED = 423
HTTP_FAILED_DEPENDENCY = 424
HTTP_UPGRADE_REQUIRED = 426
HTTP_INTERNAL_SERVER_ERROR = 500
HTTP_NOT_IMPLEMENTED = 501
HTTP_BAD_GATEWAY = 502
HTTP_SERVICE_UNAVAILABLE = 503
HTTP_GATEWAY_TIME_OUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505
HTTP_VARIANT_ALSO_VARIES = 506
HTTP_INSUFFICIENT_STORAGE = 507
HTTP_NOT_EXTENDED = 510

REQ_ABORTED = HTTP_INTERNAL_SERVER_ERROR
REQ_EXIT = "REQ_EXIT"

# syslog numbering, as mod_python derives them from syslog.h
APLOG_EMERG = 0
APLOG_ALERT = 1
APLOG_CRIT = 2
APLOG_ERR = 3
APLOG_WARNING = 4
APLOG_NOTICE = 5
APLOG_INFO = 6
APLOG_DEBUG = 7
APLOG_NOERRNO = 0  # deprecated

# req.get_remote_host()
REMOTE_HOST = 0
REMOTE_NAME = 1
REMOTE_NOLOOKUP = 2
REMOTE_DOUBLE_REV = 3

# req.finfo tuple-style indexes
FINFO_MODE = 0
FINFO_INO = 1
FINFO_DEV = 2
FINFO_NLINK = 3
FINFO_UID = 4
FINFO_GID = 5
FINFO_SIZE = 6
FINFO_ATIME = 7
FINFO_MTIME = 8
FINFO_CTIME = 9
FINFO_FNAME = 10
FINFO_NAME = 11
FINFO_FILETYPE = 12

# req.parsed_uri indexes
URI_SCHEME = 0
URI_HOSTINFO = 1
URI_USER = 2
URI_PASSWORD = 3
URI_HOSTNAME = 4
URI_PORT = 5
URI_PATH = 6
URI_QUERY = 7
URI_FRAGMENT = 8

PROXYREQ_NONE = 0
PROXYREQ_PROXY = 1
PROXYREQ_REVERSE = 2
PROXYREQ_RESPONSE = 3

# req.method_number
M_GET = 0
M_PUT = 1
M_POST = 2
M_DELETE = 3
M_CONNECT = 4
M_OPTIONS = 5
M_TRACE = 6
M_PATCH = 7
M_PROPFIND = 8
M_PROPPATCH = 9
M_MKCOL = 10
M_COPY = 11
M_MOVE = 12
M_LOCK = 13
M_UNLOCK = 14
M_VERSION_CONTROL = 15
M_CHECKOUT = 16
M_UNCHECKOUT = 17
M_CHECKIN = 18
M_UPDATE = 19
M_LABEL = 20
M_REPORT = 21
M_MKWORKSPACE = 22
M_MKACTIVITY = 23
M_BASELINE_CONTROL = 24
M_MERGE = 25
M_INVALID = 26

# req.used_path_info
AP_REQ_ACCEPT_PATH_INFO = 0
AP_REQ_REJECT_PATH_INFO = 1
AP_REQ_DEFAULT_PATH_INFO = 2

# mpm_query answers and codes
AP_MPMQ_NOT_SUPPORTED = 0
AP_MPMQ_STATIC = 1
AP_MPMQ_DYNAMIC = 2
AP_MPMQ_MAX_DAEMON_USED = 1
AP_MPMQ_IS_THREADED = 2
AP_MPMQ_IS_FORKED = 3
AP_MPMQ_HARD_LIMIT_DAEMONS = 4
AP_MPMQ_HARD_LIMIT_THREADS = 5
AP_MPMQ_MAX_THREADS = 6
AP_MPMQ_MIN_SPARE_DAEMONS = 7
AP_MPMQ_MIN_SPARE_THREADS = 8
AP_MPMQ_MAX_SPARE_DAEMONS = 9
AP_MPMQ_MAX_SPARE_THREADS = 10
AP_MPMQ_MAX_REQUESTS_DAEMON = 11
AP_MPMQ_MAX_DAEMONS = 12

# magic MIME types
CGI_MAGIC_TYPE = "application/x-httpd-cgi"
INCLUDES_MAGIC_TYPE = "text/x-server-parsed-html"
INCLUDES_MAGIC_TYPE3 = "text/x-server-parsed-html3"
DIR_MAGIC_TYPE = "httpd/unix-directory"

# req.read_body
REQUEST_NO_BODY = 0
REQUEST_CHUNKED_ERROR = 1
REQUEST_CHUNKED_DECHUNK = 2

# req.connection.keepalive (httpd's ap_conn_keepalive_e)
AP_CONN_UNKNOWN = 0
AP_CONN_CLOSE = 1
AP_CONN_KEEPALIVE = 2

# finfo.filetype (APR's apr_filetype_e)
APR_NOFILE = 0
APR_REG = 1
APR_DIR = 2
APR_CHR = 3
APR_BLK = 4
APR_PIPE = 5
APR_LNK = 6
APR_SOCK = 7
APR_UNKFILE = 127

# apache.stat() "wanted" bits
APR_FINFO_LINK = 0x00000001
APR_FINFO_MTIME = 0x00000010
APR_FINFO_CTIME = 0x00000020
APR_FINFO_ATIME = 0x00000040
APR_FINFO_SIZE = 0x00000100
APR_FINFO_CSIZE = 0x00000200
APR_FINFO_DEV = 0x00001000
APR_FINFO_INODE = 0x00002000
APR_FINFO_NLINK = 0x00004000
APR_FINFO_TYPE = 0x00008000
APR_FINFO_USER = 0x00010000
APR_FINFO_GROUP = 0x00020000
APR_FINFO_UPROT = 0x00100000
APR_FINFO_GPROT = 0x00200000
APR_FINFO_WPROT = 0x00400000
APR_FINFO_ICASE = 0x01000000
APR_FINFO_NAME = 0x02000000
APR_FINFO_MIN = 0x00008170
APR_FINFO_IDENT = 0x00003000
APR_FINFO_OWNER = 0x00030000
APR_FINFO_PROT = 0x00700000
APR_FINFO_NORM = 0x0073B170
APR_FINFO_DIRENT = 0x02000000

# httpd 2.4 module magic number (tests branch on MAJOR > 20111130 for 2.4 names)
MODULE_MAGIC_NUMBER_MAJOR = 20120211
MODULE_MAGIC_NUMBER_MINOR = 124


class SERVER_RETURN(Exception):
    """Raise to end the current handler with a result: ``SERVER_RETURN(code)`` or
    ``SERVER_RETURN(code, status)`` (the latter also sets ``req.status``)."""


table = make_table = Table

# ------------------------------------------------------------------ server binding

_runtime: Any = None
# Values of `interpreter`/`main_server` when no runtime is bound (set by init()).
_unbound_attrs: dict = {"interpreter": None, "main_server": None}


def __getattr__(name: str) -> Any:
    """``apache.interpreter`` and ``apache.main_server`` are read live from the bound
    runtime, so a runtime switching interpreter names per request needs no extra call."""
    if name in _unbound_attrs:
        if _runtime is not None and hasattr(_runtime, name):
            return getattr(_runtime, name)
        return _unbound_attrs[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _bind_server(runtime: Any) -> None:
    """Install (or with None remove) the server runtime; see the module docstring."""
    global _runtime
    _runtime = runtime


def init(name: str, server: Any) -> None:
    """mod_python's per-interpreter initialisation: names (used while no runtime is
    bound) and ``sys.argv``."""
    _unbound_attrs["interpreter"] = name
    _unbound_attrs["main_server"] = server
    sys.argv = ["mod_python"]


# ------------------------------------------------------------------------- logging

_LEVEL_NAMES = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug")
# Apache writes control characters escaped so a message stays on one line.
_LOG_ESCAPES = {i: f"\\x{i:02x}" for i in range(32)}
_LOG_ESCAPES.update({9: "\\t", 10: "\\n", 13: "\\r", 0x7F: "\\x7f"})


def _format_log_line(msg: str, level: int) -> str:
    """``[Fri Nov 27 01:30:00.123456 2026] [:error] [pid N] msg`` (Apache 2.4 style)."""
    now = time.time()
    stamp = time.strftime("%a %b %d %H:%M:%S", time.localtime(now))
    usec = int((now % 1) * 1_000_000)
    year = time.strftime("%Y", time.localtime(now))
    name = _LEVEL_NAMES[level] if 0 <= level < len(_LEVEL_NAMES) else "error"
    text = msg.translate(_LOG_ESCAPES)
    return f"[{stamp}.{usec:06d} {year}] [:{name}] [pid {os.getpid()}] {text}\n"


def log_error(msg: Optional[str], level: int = APLOG_ERR, server: Any = None) -> None:
    """Log ``msg`` to the error log (of ``server`` if given).  None logs nothing."""
    if msg is None:
        return
    if not isinstance(msg, str):
        raise TypeError("log_error() argument 1 must be str or None")
    if not level:
        level = APLOG_ERR  # mod_python quirk: 0 (APLOG_EMERG) means "default"
    if _runtime is not None:
        _runtime.log_error(msg, level, server)
        return
    try:
        sys.stderr.write(_format_log_line(msg, level))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a closed stderr must never break a handler


# ----------------------------------------------------------------- server queries

# httpd's prefork MPM answers with its default configuration (used when unbound).
_PREFORK_ANSWERS = {
    AP_MPMQ_MAX_DAEMON_USED: 256,
    AP_MPMQ_IS_THREADED: AP_MPMQ_NOT_SUPPORTED,
    AP_MPMQ_IS_FORKED: AP_MPMQ_DYNAMIC,
    AP_MPMQ_HARD_LIMIT_DAEMONS: 256,
    AP_MPMQ_HARD_LIMIT_THREADS: 1,
    AP_MPMQ_MAX_THREADS: 1,
    AP_MPMQ_MIN_SPARE_DAEMONS: 5,
    AP_MPMQ_MIN_SPARE_THREADS: 0,
    AP_MPMQ_MAX_SPARE_DAEMONS: 10,
    AP_MPMQ_MAX_SPARE_THREADS: 0,
    AP_MPMQ_MAX_REQUESTS_DAEMON: 0,
    AP_MPMQ_MAX_DAEMONS: 256,
}


def mpm_query(code: int) -> int:
    """Answer an ``AP_MPMQ_*`` query (0 for unknown codes)."""
    if not isinstance(code, int):
        raise TypeError("The argument must be an integer")
    if _runtime is not None:
        return _runtime.mpm_query(code)
    return _PREFORK_ANSWERS.get(code, 0)


def exists_config_define(name: str) -> bool:
    """True iff the server was started with ``-D name``."""
    if not isinstance(name, str):
        raise TypeError("exists_config_define() argument must be str")
    if _runtime is not None:
        return bool(_runtime.exists_config_define(name))
    return False


# The mod_python docs call it exists_config; accept both spellings.
exists_config = exists_config_define


def server_root() -> str:
    """The ServerRoot directory."""
    if _runtime is not None:
        return _runtime.server_root()
    return os.getcwd()


def config_tree() -> Any:
    """Nested-tuple copy of the parsed main configuration (empty when unbound)."""
    if _runtime is not None:
        return _runtime.config_tree()
    return ()


def register_cleanup(callback: Callable[[Any], Any], data: Any = None) -> None:
    """Call ``callback(data)`` when the worker process exits."""
    if not callable(callback):
        raise ValueError("third argument must be a callable object")
    if _runtime is not None:
        _runtime.register_cleanup(callback, data)
        return
    import atexit

    atexit.register(_run_cleanup, callback, data)


def _run_cleanup(callback: Callable[[Any], Any], data: Any) -> None:
    """Run one exit cleanup; like mod_python, errors are logged, never raised."""
    try:
        callback(data)
    except Exception as exc:
        log_error(f"python_cleanup: Error calling cleanup object {callback!r}")
        log_error(f"    {type(exc).__name__}: {exc}")


def allow_methods(*methods: int) -> int:
    """Documented by mod_python but never defined in 3.4+: returns the ``req.allowed``
    bitmask for the given ``M_*`` numbers and hands it to the runtime if it accepts one.
    Prefer ``req.allow_methods(names)``."""
    mask = 0
    for method in methods:
        mask |= 1 << int(method)
    hook = getattr(_runtime, "allow_methods", None)
    if hook is not None:
        hook(mask)
    return mask


# ------------------------------------------------------------- query-string helpers


def parse_qs(qs: Any, keep_blank_values: int = 0, strict_parsing: int = 0) -> Any:
    """``util.parse_qs`` re-exported (a prefork-modpy addition; 3.5 has it in util only)."""
    from mod_python import _querystring

    return _querystring.parse_qs(qs, keep_blank_values, strict_parsing)


def parse_qsl(qs: Any, keep_blank_values: int = 0, strict_parsing: int = 0) -> Any:
    """``util.parse_qsl`` re-exported (a prefork-modpy addition)."""
    from mod_python import _querystring

    return _querystring.parse_qsl(qs, keep_blank_values, strict_parsing)


# ---------------------------------------------------------------------------- stat

_FINFO_FIELDS = ("protection", "inode", "device", "nlink", "user", "group", "size",
                 "atime", "mtime", "ctime", "fname", "name", "filetype")


class mp_finfo:
    """Result of ``apache.stat``; attribute or ``FINFO_*`` index access."""

    __slots__ = ("fname", "filetype", "valid", "protection", "user", "group", "size",
                 "inode", "device", "nlink", "atime", "mtime", "ctime", "name")
    fname: Optional[str]
    filetype: int
    valid: Optional[int]
    protection: Optional[int]
    user: Optional[int]
    group: Optional[int]
    size: Optional[int]
    inode: Optional[int]
    device: Optional[int]
    nlink: Optional[int]
    atime: Optional[int]
    mtime: Optional[int]
    ctime: Optional[int]
    name: Optional[str]

    def __init__(self, fname: Optional[str] = None) -> None:
        # A missing file: filetype APR_NOFILE, every other field None (as apr_stat's
        # zeroed finfo reads through finfoobject.c).
        self.fname = fname
        self.filetype = APR_NOFILE
        for field in self.__slots__[2:]:
            setattr(self, field, None)

    @classmethod
    def from_stat(cls, fname: str, st: os.stat_result, wanted: int) -> mp_finfo:
        """Fill the fields the way APR's unix ``fill_out_finfo`` does."""
        import stat as st_mod

        self = cls(fname)
        self.filetype = _filetype(st_mod, st.st_mode)
        valid = APR_FINFO_NORM | APR_FINFO_CSIZE
        if wanted & APR_FINFO_LINK:
            valid |= APR_FINFO_LINK
        self.protection = _apr_perms(st.st_mode)
        self.user, self.group = st.st_uid, st.st_gid
        self.size, self.inode, self.device, self.nlink = (st.st_size, st.st_ino,
                                                          st.st_dev, st.st_nlink)
        # finfoobject.c converts APR microseconds with PyLong_FromLong: whole seconds
        self.atime, self.mtime, self.ctime = int(st.st_atime), int(st.st_mtime), int(st.st_ctime)
        if wanted & APR_FINFO_NAME:
            self.name = os.path.basename(fname)
            valid |= APR_FINFO_NAME
        self.valid = valid
        return self

    def __getitem__(self, index: int) -> Any:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError("finfo indices must be integers")
        if index < 0 or index >= len(_FINFO_FIELDS):
            raise IndexError("tuple index out of range")
        return getattr(self, _FINFO_FIELDS[index])

    def __len__(self) -> int:
        return len(_FINFO_FIELDS)

    def __repr__(self) -> str:
        parts = ", ".join(f"{field!r}: {getattr(self, field)!r}" for field in self.__slots__)
        return "{" + parts + "}"


def _filetype(st_mod: Any, mode: int) -> int:
    for test, kind in ((st_mod.S_ISREG, APR_REG), (st_mod.S_ISDIR, APR_DIR),
                       (st_mod.S_ISCHR, APR_CHR), (st_mod.S_ISBLK, APR_BLK),
                       (st_mod.S_ISFIFO, APR_PIPE), (st_mod.S_ISLNK, APR_LNK),
                       (st_mod.S_ISSOCK, APR_SOCK)):
        if test(mode):
            return kind
    return APR_UNKFILE


def _apr_perms(mode: int) -> int:
    """apr_unix_mode2perms: octal rwx triplets become hex nibbles (0o644 -> 0x0644)."""
    perms = ((mode >> 6) & 7) << 8 | ((mode >> 3) & 7) << 4 | (mode & 7)
    if mode & 0o4000:
        perms |= 0x8000  # APR_FPROT_USETID
    if mode & 0o2000:
        perms |= 0x4000  # APR_FPROT_GSETID
    if mode & 0o1000:
        perms |= 0x2000  # APR_FPROT_WSTICKY
    return perms


def stat(fname: str, wanted: int) -> mp_finfo:
    """``apr_stat``: an mp_finfo; a missing file gives filetype ``APR_NOFILE``."""
    if not isinstance(fname, str) or not isinstance(wanted, int):
        raise TypeError("stat() takes (str fname, int wanted)")
    try:
        st = os.lstat(fname) if wanted & APR_FINFO_LINK else os.stat(fname)
    except FileNotFoundError:
        return mp_finfo()
    except OSError as exc:
        raise OSError(exc.errno, "apr_stat() failed") from None
    return mp_finfo.from_stat(fname, st, wanted)


# ---------------------------------------------------------------- module import


def import_module(module_name: str, autoreload: int = 1, log: int = 0,
                  path: Optional[List[str]] = None) -> Any:
    """Import (or, when its file changed, re-execute) a handler module (spec 2.6)."""
    if _runtime is not None:
        return _runtime.import_module(module_name, autoreload, log, path)
    return _fallback_import_module(module_name, autoreload, log, path)


def _module_mtime(module: Any) -> float:
    """Newest mtime of ``__file__`` and ``__file__[:-1]`` (a .py next to a .pyc)."""
    mtime = 0.0
    filepath = module.__dict__.get("__file__")
    if filepath:
        for candidate in (filepath, filepath[:-1]):
            try:
                mtime = max(mtime, os.path.getmtime(candidate))
            except OSError:
                pass
        module.__dict__["__mtime_check__"] = time.time()
    return mtime


def _needs_import(module: Any, autoreload: int, path: Optional[List[str]]) -> bool:
    if module is None:
        return True
    if not autoreload:
        return False
    filepath = module.__dict__.get("__file__")
    if not filepath or (path and not any(filepath.startswith(p) for p in path)):
        return True
    if time.time() - module.__dict__.get("__mtime_check__", 0) <= 1:
        return False  # mod_python stats a module at most once per second
    return _module_mtime(module) != module.__dict__.get("__mtime__", 0)


def _fallback_import_module(module_name: str, autoreload: int = 1, log: int = 0,
                            path: Optional[List[str]] = None) -> Any:
    """The documented mod_python behaviour with importlib: modules live in
    ``sys.modules`` by dotted name; with autoreload a module whose file changed is
    re-executed into the same module object (``importlib.reload``); ``path`` restricts
    where a top-level module is loaded from."""
    import importlib

    module = sys.modules.get(module_name)
    if not _needs_import(module, autoreload, path):
        return module
    if log:
        where = f" with path set to '{path}'" if path else ""
        log_error(f"mod_python: (Re)importing module '{module_name}'{where}", APLOG_NOTICE)
    if path and "." not in module_name:
        module = _import_from_path(module_name, path, module)
    elif module is None:
        module = importlib.import_module(module_name)
    elif module.__dict__.get("__file__"):
        module = importlib.reload(module)
    # A module takes any attribute: mod_python stamps the mtime its autoreload compares.
    module.__mtime__ = _module_mtime(module)  # type: ignore[union-attr]
    return module


def _import_from_path(name: str, path: List[str], old: Any) -> Any:
    """Load top-level module ``name`` from ``path`` only, replacing ``old`` on success."""
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named '{name}' in {path!r}", name=name)
    if old is not None and getattr(old, "__spec__", None) and old.__spec__.origin == spec.origin:
        return importlib.reload(old)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if old is not None:
            sys.modules[name] = old
        else:
            sys.modules.pop(name, None)
        raise
    return module


def resolve_object(module: Any, obj_str: str, arg: Any = None, silent: int = 0) -> Any:
    """Walk ``obj_str`` (dotted) from ``module``; when the parent of the next name is a
    class, instantiate it with ``arg`` and continue from the instance (spec 1.1)."""
    obj = module
    for name in obj_str.split("."):
        parent = obj
        if silent and not hasattr(obj, name):
            return None
        if obj is module and not hasattr(module, name) and hasattr(module, "__file__"):
            raise AttributeError(f"module '{module.__file__}' contains no '{name}'")
        obj = getattr(obj, name)
        if isinstance(parent, type):
            obj = getattr(parent(arg), name)
    return obj


# ------------------------------------------------------------------ CGI emulation


def build_cgi_env(req: Any) -> Table:
    """CGI variables of ``req``: ``add_cgi_vars()`` plus the CGI-handler adjustments."""
    req.add_cgi_vars()
    env = req.subprocess_env.copy()
    if req.path_info:
        env["SCRIPT_NAME"] = req.uri[: -len(req.path_info)]
    else:
        env["SCRIPT_NAME"] = req.uri
    env["GATEWAY_INTERFACE"] = "Python-CGI/1.1"
    if "authorization" in req.headers_in:
        env["HTTP_AUTHORIZATION"] = req.headers_in["authorization"]
    return env


class NullIO:
    """A file-like object that reads nothing and discards writes."""

    def tell(self) -> int:
        return 0

    def read(self, n: int = -1) -> str:
        return ""

    def readline(self, length: Optional[int] = None) -> str:
        return ""

    def readlines(self, hint: int = -1) -> List[str]:
        return []

    def write(self, s: Any) -> Optional[int]:
        return None

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def detach(self) -> None:
        pass

    def seek(self, pos: int, mode: int = 0) -> None:
        pass


class _RequestRaw(io.RawIOBase):
    """Raw binary reader over ``req.read`` (wrapped in a BufferedReader for CGI)."""

    def __init__(self, req: Any) -> None:
        super().__init__()
        self._req = req

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self._req.read(len(buf))
        buf[: len(data)] = data
        return len(data)


class CGIStdin(NullIO):
    """``sys.stdin`` for CGI scripts: text methods (UTF-8, surrogateescape) and a binary
    ``.buffer``, both reading the request body."""

    def __init__(self, req: Any) -> None:
        self.req = req
        self.buffer = io.BufferedReader(_RequestRaw(req))
        self._text = io.TextIOWrapper(self.buffer, encoding="utf-8", errors="surrogateescape")

    def read(self, n: int = -1) -> str:
        return self._text.read(n)

    def readline(self, length: Optional[int] = None) -> str:
        return self._text.readline(-1 if length is None else length)

    def readlines(self, hint: int = -1) -> List[str]:
        return self._text.readlines(hint)


class _CGIStdoutBuffer:
    """``sys.stdout.buffer`` of a CGI script: bytes into the same header parser."""

    def __init__(self, owner: CGIStdout) -> None:
        self._owner = owner

    def write(self, data: bytes) -> int:
        self._owner.write(data)
        return len(data)

    def flush(self) -> None:
        pass


class CGIStdout(NullIO):
    """``sys.stdout`` for CGI scripts: parses the CGI header block (``Status``,
    ``Content-Type`` and other headers) and writes the rest through ``req.write``."""

    def __init__(self, req: Any) -> None:
        self.pos = 0
        self.req = req
        self.headers_sent = 0
        self.headers = b""
        self.buffer = _CGIStdoutBuffer(self)

    def write(self, s: Any) -> int:
        if not s:
            return 0
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        if self.headers_sent:
            self.req.write(data)
        else:
            self._collect_headers(data)
        self.pos += len(s)
        return len(s)

    def _collect_headers(self, data: bytes) -> None:
        self.headers += data
        head, sep, body = self.headers.partition(b"\r\n\r\n")
        if not sep:
            head, sep, body = self.headers.partition(b"\n\n")
        if not sep:
            return
        for line in head.replace(b"\r\n", b"\n").split(b"\n"):
            self._header_line(line.decode("latin-1"))
        self.headers_sent = 1
        if body:
            self.req.write(body)

    def _header_line(self, line: str) -> None:
        if ":" not in line:
            return
        name, value = line.split(":", 1)
        value = value.strip()
        lname = name.lower()
        if lname == "status":
            self.req.status = int(value.split()[0])
        elif lname == "content-type":
            self.req.content_type = value
            self.req.headers_out[name] = value
        else:
            self.req.headers_out.add(name, value)

    def tell(self) -> int:
        return self.pos


def setup_cgi(req: Any) -> tuple:
    """Swap ``os.environ``/``sys.stdin``/``sys.stdout`` for a CGI script; returns what
    ``restore_nocgi`` needs to undo it."""
    save_env = os.environ.copy()
    si, so = sys.stdin, sys.stdout
    for key, value in build_cgi_env(req).items():
        os.environ[key] = value
    sys.stdout = CGIStdout(req)
    sys.stdin = CGIStdin(req)
    sys.argv = []  # keeps cgi.py happy
    return save_env, si, so


def restore_nocgi(sav_env: Any, si: Any, so: Any) -> None:
    """Undo ``setup_cgi``."""
    os.environ.clear()
    os.environ.update(sav_env)
    sys.stdin = si
    sys.stdout = so
