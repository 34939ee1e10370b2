"""The `req` object handlers receive: mod_python's `mp_request` over the request record.

Owns mod_python's method surface (requestobject.c over request_rec): authentication
helpers, CGI variables, validators and conditional requests, allowed methods,
`parsed_uri`/`finfo`, URL building, `sendfile`, `add_handler`, cleanups, internal redirects
and filters, and the attributes mod_python makes read-only. The data and the response live
in `runtime.record.RequestRec`; each method here delegates to the module that owns the rule
(auth, cgienv, conditional, mime, filters, dispatch). Must not know about processes or
config files.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from mod_python import apache

from ..config.directives import DEFAULT_OBJECT, PYTHON_HANDLER_NAMES, HandlerEntry
from ..httpd import auth, cgienv, conditional, forwardedproto, mime, ssl
from ..runtime.objects import purge_empty
from ..runtime.record import METHOD_NUMBERS, STREAM_THRESHOLD, RequestRec
from ..runtime.table import Table
from . import filters


def _not_writable(name: str, attr: str = "") -> property:
    """A read-only attribute with mod_python's message for getset attributes."""
    def refuse(self: Any, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'mp_request' objects is not writable")
    attr = attr or "_" + name
    return property(lambda self: getattr(self, attr), refuse)


def _readonly_member(name: str, attr: str = "") -> property:
    """A read-only attribute with mod_python's message for struct members."""
    def refuse(self: Any, value: Any) -> None:
        raise AttributeError("readonly attribute")
    attr = attr or "_" + name
    return property(lambda self: getattr(self, attr), refuse)


def refuse_assignment(cls: type) -> None:
    """Give every setter-less public property of `cls` (and its bases) mod_python's
    "not writable" error; getters are unchanged, so reading costs nothing more."""
    seen: set[str] = set()
    for klass in cls.__mro__:  # the nearest definition of a name is the one that counts
        for name, value in list(vars(klass).items()):
            if name in seen:
                continue
            seen.add(name)
            if isinstance(value, property) and value.fset is None and not name.startswith("__"):
                setattr(cls, name, _not_writable_getter(name, value))


def _not_writable_getter(name: str, prop: property) -> property:
    def refuse(self: Any, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'mp_request' objects is not writable")
    return property(prop.fget, refuse, doc=prop.__doc__)


class Request(RequestRec):
    """mod_python's request object: the record plus the methods handlers call."""

    prev: Optional[Request] = None
    next: Optional[Request] = None
    main: Optional[Request] = None
    # What the dispatcher keeps on the request (class defaults: the hot path pays nothing).
    # It sets them directly; handlers read phase, hlist, extension and interpreter below.
    dynamic_handlers: Optional[dict[str, list]] = None  # req.add_handler() for later phases
    running_handlers: Optional[list] = None  # the list of the phase being run
    running_phase: Optional[str] = None
    running_hlist: Any = None  # the handler entry being run
    handler_extension: Optional[str] = None  # the `| .ext` that chose the running list
    interpreter_name: Optional[str] = None  # where the running handler was imported
    filter_registry: Optional[filters.Registry] = None  # req.register_*_filter()
    cleanup_callbacks: tuple = ()  # (callback, data) of req.register_cleanup(), oldest first
    _allowed_names: tuple = ()
    _finfo: Any = None
    _clength = 0
    _allowed = 0  # r->allowed: httpd 2.x keeps the allowed methods elsewhere
    _allowed_xmethods: tuple = ()
    _read_body_policy = apache.REQUEST_NO_BODY
    _content_languages: tuple = ()
    _vlist_validator = None
    _eos_sent = 0
    _content_type_set = _readonly_member("_content_type_set", "_ct_set")
    phase = _readonly_member("phase", "running_phase")
    extension = _readonly_member("extension", "handler_extension")
    hlist = _readonly_member("hlist", "running_hlist")
    interpreter = _not_writable("interpreter", "interpreter_name")
    allowed = _not_writable("allowed")
    allowed_xmethods = _not_writable("allowed_xmethods")
    read_body = _not_writable("read_body", "_read_body_policy")
    content_languages = _not_writable("content_languages")
    vlist_validator = _not_writable("vlist_validator")
    eos_sent = _not_writable("eos_sent")

    # -- what mod_mime and ap_set_content_length decided ---------------------------------

    def default_type(self) -> Optional[str]:
        """mod_mime's type checker: directories are httpd/unix-directory."""
        filename = self.filename
        if filename is None:
            return None
        if self.is_dir or filename.endswith("/"):
            return mime.DIR_MAGIC_TYPE
        return mime.find_type(filename, self.per_dir_config)[0]

    def default_language(self) -> Optional[str]:
        """mod_mime's AddLanguage for the file name, sent as Content-Language."""
        filename = self.filename
        if filename is None or self.is_dir or filename.endswith("/"):
            return None
        return mime.find_type(filename, self.per_dir_config)[2]

    @property
    def clength(self) -> int:
        return self._clength

    def set_content_length(self, length: int) -> None:
        self._clength = int(length)
        self.headers_out["Content-Length"] = str(self._clength)

    def send_http_header(self) -> None:
        """No-op kept for old handlers (mod_python 2.x API)."""

    @property
    def content_encoding(self) -> Optional[str]:
        filename = self.filename
        return mime.find_type(filename, self.per_dir_config)[1] if filename else None

    # -- configuration --------------------------------------------------------------------

    def get_config(self) -> Table:
        settings = self.per_dir_config
        return _table_of(settings.python_config if settings else {}, purge=False)

    def get_options(self) -> Table:
        settings = self.per_dir_config
        return _table_of(settings.options if settings else {}, purge=True)

    def get_addhandler_exts(self) -> str:
        """The AddHandler extensions that map to mod_python here, e.g. 'py '."""
        settings = self.per_dir_config
        if settings is None:
            return ""
        return "".join(f"{ext} " for ext, handler in settings.add_handlers.items()
                       if handler in PYTHON_HANDLER_NAMES)

    # -- authentication -------------------------------------------------------------------

    def get_basic_auth_pw(self) -> Optional[str]:
        return auth.get_basic_auth_pw(self)

    def requires(self) -> tuple[str, ...]:
        return auth.requires(self)

    # -- CGI ------------------------------------------------------------------------------

    def add_common_vars(self) -> None:
        cgienv.add_common_vars(self)

    def add_cgi_vars(self) -> None:
        cgienv.add_cgi_vars(self)

    def build_wsgi_env(self) -> Optional[dict[str, Any]]:
        """mod_python 3.4+'s environ builder for mod_python.wsgi."""
        from mod_python import wsgi

        return wsgi.build_wsgi_env(self)

    def wsgi_start_response(self, status: str, headers: list[tuple[str, str]],
                            exc_info: Any = None) -> Any:
        from mod_python import wsgi

        return wsgi.StartResponse(self)(status, headers, exc_info)

    # -- validators and conditional requests ----------------------------------------------

    def set_etag(self) -> None:
        conditional.set_etag(self)

    def set_last_modified(self) -> None:
        conditional.set_last_modified(self)

    def meets_conditions(self) -> int:
        return conditional.meets_conditions(self)

    # -- allowed methods ------------------------------------------------------------------

    @property
    def allowed_methods(self) -> tuple:
        """Names given to allow_methods() that httpd does not know (its method_list)."""
        return self._allowed_names

    def allow_methods(self, methods: Any, reset: int = 0) -> None:
        """ap_allow_methods: known names set bits of the `Allow` header of a 405/501,
        others are kept by name."""
        if isinstance(methods, (str, bytes)) or not hasattr(methods, "__len__"):
            raise TypeError("First argument must be a sequence")
        if reset:
            self.allowed_mask, self._allowed_names = 0, ()
        for method in methods:
            if not isinstance(method, str):
                raise TypeError("not an ISO-8859-1 string")
            number = METHOD_NUMBERS.get(method)
            if number is not None:
                self.allowed_mask |= 1 << number
            elif method not in self._allowed_names:
                self._allowed_names = (*self._allowed_names, method)

    # -- the resource ---------------------------------------------------------------------

    @property
    def parsed_uri(self) -> tuple:
        """(scheme, hostinfo, user, password, hostname, port, path, query, fragment) of
        the request-target as sent (apr_uri_parse)."""
        from urllib.parse import urlsplit

        target = self.unparsed_uri
        if target.startswith("/"):
            path, sep, query = target.partition("?")
            # httpd fills the port from the Host header (fix_hostname)
            port = cgienv.host_port(self.headers_in.get("Host"))
            return (None, None, None, None, None, port, path, query if sep else None, None)
        parts = urlsplit(target)
        return (parts.scheme or None, parts.netloc or None, parts.username, parts.password,
                parts.hostname, parts.port, parts.path or None,
                parts.query if "?" in target else None, parts.fragment or None)

    @property
    def finfo(self) -> Any:
        """apr_stat of req.filename (filetype APR_NOFILE when it does not exist)."""
        if self._finfo is None:
            filename = self.filename
            if filename is None:
                return None
            info = apache.stat(filename, apache.APR_FINFO_MIN)
            if info.filetype == apache.APR_NOFILE:
                info.fname = filename
            self._finfo = info
        return self._finfo

    @finfo.setter
    def finfo(self, value: Any) -> None:
        if not isinstance(value, apache.mp_finfo):
            raise TypeError("finfo must be a finfoobject")
        self._finfo = value

    def construct_url(self, uri: str) -> str:
        """ap_construct_url: scheme, the name and port the client used (UseCanonicalName
        Off), then `uri`; the scheme's default port is left out (ap_default_port)."""
        host = cgienv.server_name(self)
        port = cgienv.server_port(self)
        default = cgienv.default_port(self)
        scheme = forwardedproto.scheme_of(self.raw)
        return f"{scheme}://{host}{'' if port == default else f':{port}'}{uri}"

    # -- logging and misc -----------------------------------------------------------------

    def register_cleanup(self, callback: Callable, data: Any = None) -> None:
        if not callable(callback):
            raise ValueError("first argument must be a callable object")
        self.cleanup_callbacks = (*self.cleanup_callbacks, (callback, data))

    def get_remote_host(self, kind: int = apache.REMOTE_NAME, str_is_ip: Any = None) -> Any:
        host = None if kind == apache.REMOTE_HOST else self.raw.remote_addr[0]
        return host if str_is_ip is None else (host, int(host is not None))

    def is_https(self) -> int:
        # A TLS connection, or a trusted proxy's X-Forwarded-Proto.
        return int(forwardedproto.scheme_of(self.raw) == forwardedproto.HTTPS)

    def ssl_var_lookup(self, name: str) -> Optional[str]:
        """mod_ssl's ssl_var_lookup (httpd/ssl.py): "" for a name without a value; None
        where no TLS is configured, as mod_python answers without mod_ssl."""
        if not self.runtime.config.tls_listen:
            return None
        return ssl.lookup(self, name)

    def sendfile(self, path: str, offset: int = 0, length: int = -1) -> int:
        """The file's bytes (from `offset`, `length` of them or up to its end) join the body.
        A piece that fits the output buffer is buffered like write() (a small response
        keeps its Content-Length); a larger one streams through sendfile(2), with no copy
        through Python. Output filters see the bytes as written data."""
        try:
            os.stat(path)
        except OSError:
            raise OSError("Could not stat file for reading") from None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            raise OSError("Could not open file for reading") from None
        try:
            size = os.fstat(fd).st_size
            count = max(0, size - offset if length < 0 else min(length, size - offset))
            response = self.response
            if count + response.buffered <= STREAM_THRESHOLD or response.sink is not None:
                return self.copy_file(fd, offset, count)
            response.send_file(self, fd, offset, count)
        finally:
            os.close(fd)
        return count

    def add_handler(self, phase: str, handler: str, directory: Optional[str] = None) -> None:
        """Run `handler` later in this request: in the running list if `phase` is the
        current phase, else after the configured handlers of `phase`."""
        if phase not in DEFAULT_OBJECT or phase == "PythonCleanupHandler":
            raise IndexError(f"Invalid phase: {phase}")
        module, _, obj = handler.partition("::")
        if directory is not None:
            directory = os.path.join(os.path.abspath(directory), "")
        elif self.hlist is not None and not self.hlist.is_location:
            directory = self.hlist.directory
        entry = HandlerEntry(handler, module, obj or DEFAULT_OBJECT[phase], directory, False)
        if phase == self.phase and self.running_handlers is not None:
            self.running_handlers.append(entry)
        else:
            if self.dynamic_handlers is None:
                self.dynamic_handlers = {}
            self.dynamic_handlers.setdefault(phase, []).append(entry)

    # -- filters --------------------------------------------------------------------------

    def add_output_filter(self, filter_name: str) -> None:
        filters.add(self, self.filter_registry, filter_name, is_input=False)

    def add_input_filter(self, filter_name: str) -> None:
        filters.add(self, self.filter_registry, filter_name, is_input=True)

    def register_output_filter(self, filter_name: str, filter: str,
                               dir: Optional[str] = None) -> None:
        self.filter_registry = filters.register(self.filter_registry, filter_name, filter,
                                                dir, is_input=False)

    def register_input_filter(self, filter_name: str, filter: str,
                              dir: Optional[str] = None) -> None:
        self.filter_registry = filters.register(self.filter_registry, filter_name, filter,
                                                dir, is_input=True)

    # -- redirects ------------------------------------------------------------------------

    def internal_redirect(self, new_uri: str) -> None:
        """Serve `new_uri` as a new request on the same connection (ap_internal_redirect);
        the new request's `prev` is this one. The handler should then return OK."""
        if not isinstance(new_uri, str):
            raise TypeError("internal_redirect() argument must be str")
        self.runtime.dispatcher.internal_redirect(self, new_uri)


# The tables get_config()/get_options() copy, built (and validated) once per settings dict:
# id -> (the dict, its table). The dicts belong to the loaded config and are not changed
# after it is read; holding them keeps their ids from being reused. Bounded (.htaccess).
_tables: dict[tuple[int, bool], tuple[dict, Table]] = {}


def _table_of(mapping: dict[str, str], purge: bool) -> Table:
    """A fresh table of `mapping` (a handler may change its copy, as in mod_python)."""
    key = (id(mapping), purge)
    known = _tables.get(key)
    if known is None or known[0] is not mapping:
        if len(_tables) >= 1024:
            _tables.clear()
        table = Table(mapping)
        known = _tables[key] = (mapping, purge_empty(table) if purge else table)
    return known[1].copy()


Request.__name__ = Request.__qualname__ = "mp_request"
Request.__module__ = "builtins"  # str(type(req)) is "<class 'mp_request'>", a C type's name
refuse_assignment(Request)
