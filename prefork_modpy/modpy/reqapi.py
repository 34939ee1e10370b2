"""The parts of mod_python's request object that are off the hot path.

`RequestAPI` is a base class of `request.Request`: authentication helpers, CGI variables,
validators and conditional requests, allowed methods, `parsed_uri`/`finfo`, URL building,
internal redirects and filters. Each method delegates to the module that owns the rule
(auth, cgienv, conditional, filters, dispatch); nothing here runs unless a handler calls it.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any, Optional

from mod_python import apache

from ..httpd import auth, cgienv, conditional, mime

if TYPE_CHECKING:
    from ..config.directives import DirSettings

# httpd's method registry (ap_method_number_of): names → M_* numbers; HEAD counts as GET.
METHOD_NUMBERS = {
    "GET": 0, "HEAD": 0, "PUT": 1, "POST": 2, "DELETE": 3, "CONNECT": 4, "OPTIONS": 5,
    "TRACE": 6, "PATCH": 7, "PROPFIND": 8, "PROPPATCH": 9, "MKCOL": 10, "COPY": 11,
    "MOVE": 12, "LOCK": 13, "UNLOCK": 14, "VERSION-CONTROL": 15, "CHECKOUT": 16,
    "UNCHECKOUT": 17, "CHECKIN": 18, "UPDATE": 19, "LABEL": 20, "REPORT": 21,
    "MKWORKSPACE": 22, "MKACTIVITY": 23, "BASELINE-CONTROL": 24, "MERGE": 25,
}

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
    for klass in cls.__mro__:
        for name, value in list(vars(klass).items()):
            if isinstance(value, property) and value.fset is None and not name.startswith("__"):
                setattr(cls, name, _not_writable_getter(name, value))


def _not_writable_getter(name: str, prop: property) -> property:
    def refuse(self: Any, value: Any) -> None:
        raise AttributeError(f"attribute '{name}' of 'mp_request' objects is not writable")
    return property(prop.fget, refuse, doc=prop.__doc__)


# `req._content_type` before anyone set it: the type mod_mime gives the file (computed when
# first needed, so handlers that set their own type never pay for the lookup).
FROM_MIME = object()


class RequestAPI:
    """mod_python request methods that handlers call now and then (see module doc)."""

    _settings: Optional[DirSettings]
    _allowed_mask = 0
    _allowed_names: tuple = ()
    _mtime = 0.0
    _finfo: Any = None
    _clength = 0
    _phase: Optional[str] = None
    _interpreter: Optional[str] = None
    _extension: Optional[str] = None
    _hlist: Any = None
    _allowed = 0  # r->allowed: httpd 2.x keeps the allowed methods elsewhere
    _allowed_xmethods: tuple = ()
    _read_body_policy = apache.REQUEST_NO_BODY
    _content_languages: tuple = ()
    _vlist_validator = None
    _eos_sent = 0
    _filter_registry: Optional[dict] = None
    _output_filters: Optional[list] = None
    _input_filters: Optional[list] = None
    _filtered_body: Optional[bytes] = None
    _root: Optional[str] = None  # the Alias directory the URI was mapped under
    _headers_final = False  # error documents: Python output filters may not change them
    _content_type_set = _readonly_member("_content_type_set", "_ct_set")
    phase = _readonly_member("phase")
    extension = _readonly_member("extension")
    hlist = _readonly_member("hlist")
    interpreter = _not_writable("interpreter")
    allowed = _not_writable("allowed")
    allowed_xmethods = _not_writable("allowed_xmethods")
    read_body = _not_writable("read_body", "_read_body_policy")
    content_languages = _not_writable("content_languages")
    vlist_validator = _not_writable("vlist_validator")
    eos_sent = _not_writable("eos_sent")

    @property
    def status(self) -> int:
        return self._status

    @status.setter
    def status(self, value: Any) -> None:
        # mod_python converts with PyLong_AsLong: "'str' object cannot be interpreted as
        # an integer" for anything that is not an integer.
        self._status = value if value.__class__ is int else operator.index(value)

    # -- what mod_mime and ap_set_content_length decided -----------------------------

    @property
    def clength(self) -> int:
        return self._clength

    def _mime_type(self) -> Optional[str]:
        """mod_mime's type checker: directories are httpd/unix-directory."""
        filename = self.filename  # type: ignore[attr-defined]
        if filename is None:
            return None
        if self._is_dir or filename.endswith("/"):  # type: ignore[attr-defined]
            return mime.DIR_MAGIC_TYPE
        return mime.find_type(filename, self._settings)[0]

    @property
    def content_encoding(self) -> Optional[str]:
        filename = self.filename  # type: ignore[attr-defined]
        return mime.find_type(filename, self._settings)[1] if filename else None

    # -- authentication ---------------------------------------------------------------

    def get_basic_auth_pw(self) -> Optional[str]:
        return auth.get_basic_auth_pw(self)  # type: ignore[arg-type]

    def requires(self) -> tuple[str, ...]:
        return auth.requires(self)  # type: ignore[arg-type]

    # -- CGI --------------------------------------------------------------------------

    def add_common_vars(self) -> None:
        cgienv.add_common_vars(self)  # type: ignore[arg-type]

    def build_wsgi_env(self) -> Optional[dict[str, Any]]:
        """mod_python 3.4+'s environ builder for mod_python.wsgi."""
        from mod_python import wsgi

        return wsgi.build_wsgi_env(self)

    def wsgi_start_response(self, status: str, headers: list[tuple[str, str]],
                            exc_info: Any = None) -> Any:
        from mod_python import wsgi

        return wsgi.StartResponse(self)(status, headers, exc_info)

    def add_cgi_vars(self) -> None:
        cgienv.add_cgi_vars(self)  # type: ignore[arg-type]

    # -- validators and conditional requests ------------------------------------------

    @property
    def mtime(self) -> float:
        return self._mtime

    def update_mtime(self, dependency_mtime: float) -> None:
        """ap_update_mtime: the resource's mtime only ever moves forward."""
        value = float(dependency_mtime)
        if value > self._mtime:
            self._mtime = value

    def set_etag(self) -> None:
        conditional.set_etag(self)  # type: ignore[arg-type]

    def set_last_modified(self) -> None:
        conditional.set_last_modified(self)  # type: ignore[arg-type]

    def meets_conditions(self) -> int:
        return conditional.meets_conditions(self)  # type: ignore[arg-type]

    # -- allowed methods --------------------------------------------------------------

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
            self._allowed_mask, self._allowed_names = 0, ()
        for method in methods:
            if not isinstance(method, str):
                raise TypeError("not an ISO-8859-1 string")
            number = METHOD_NUMBERS.get(method)
            if number is not None:
                self._allowed_mask |= 1 << number
            elif method not in self._allowed_names:
                self._allowed_names = (*self._allowed_names, method)

    # -- the resource -----------------------------------------------------------------

    @property
    def parsed_uri(self) -> tuple:
        """(scheme, hostinfo, user, password, hostname, port, path, query, fragment) of
        the request-target as sent (apr_uri_parse)."""
        from urllib.parse import urlsplit

        target = self.unparsed_uri  # type: ignore[attr-defined]
        if target.startswith("/"):
            path, sep, query = target.partition("?")
            # httpd fills the port from the Host header (fix_hostname)
            port = cgienv.host_port(self.headers_in.get("Host"))  # type: ignore[attr-defined]
            return (None, None, None, None, None, port, path, query if sep else None, None)
        parts = urlsplit(target)
        return (parts.scheme or None, parts.netloc or None, parts.username, parts.password,
                parts.hostname, parts.port, parts.path or None,
                parts.query if "?" in target else None, parts.fragment or None)

    @property
    def finfo(self) -> Any:
        """apr_stat of req.filename (filetype APR_NOFILE when it does not exist)."""
        if self._finfo is None:
            filename = self.filename  # type: ignore[attr-defined]
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

    def get_addhandler_exts(self) -> str:
        """The AddHandler extensions that map to mod_python here, e.g. 'py '."""
        from ..config.directives import PYTHON_HANDLER_NAMES

        settings = self._settings
        if settings is None:
            return ""
        return "".join(f"{ext} " for ext, handler in settings.add_handlers.items()
                       if handler in PYTHON_HANDLER_NAMES)

    def construct_url(self, uri: str) -> str:
        """ap_construct_url: scheme, the name and port the client used (UseCanonicalName
        Off), then `uri`; port 80 is left out."""
        host = cgienv.server_name(self)  # type: ignore[arg-type]
        port = cgienv.server_port(self)  # type: ignore[arg-type]
        return f"http://{host}{'' if port == 80 else f':{port}'}{uri}"

    # -- filters ----------------------------------------------------------------------

    def add_output_filter(self, filter_name: str) -> None:
        from . import filters

        filters.add(self, filter_name, is_input=False)  # type: ignore[arg-type]

    def add_input_filter(self, filter_name: str) -> None:
        from . import filters

        filters.add(self, filter_name, is_input=True)  # type: ignore[arg-type]

    def register_output_filter(self, filter_name: str, filter: str,
                               dir: Optional[str] = None) -> None:  # noqa: A002
        from . import filters

        filters.register(self, filter_name, filter, dir, is_input=False)  # type: ignore[arg-type]

    def register_input_filter(self, filter_name: str, filter: str,
                              dir: Optional[str] = None) -> None:  # noqa: A002
        from . import filters

        filters.register(self, filter_name, filter, dir, is_input=True)  # type: ignore[arg-type]

    # -- redirects --------------------------------------------------------------------

    def internal_redirect(self, new_uri: str) -> None:
        """Serve `new_uri` as a new request on the same connection (ap_internal_redirect);
        the new request's `prev` is this one. The handler should then return OK."""
        if not isinstance(new_uri, str):
            raise TypeError("internal_redirect() argument must be str")
        self._runtime.dispatcher.internal_redirect(self, new_uri)  # type: ignore[attr-defined]
