"""mod_python.wsgi: `PythonHandler mod_python.wsgi` runs a WSGI application (spec 5.6).

    PythonOption mod_python.wsgi.application module[::callable]   (callable: application)
    PythonOption mod_python.wsgi.base_uri /prefix                 (optional)

SCRIPT_NAME is `base_uri`, else the enclosing `<Location>` path without its trailing `/`,
else `''`; PATH_INFO is the rest of the URI (`req.path_info` is set to it). The environ is
the CGI variables of `add_cgi_vars()` plus `HTTP_AUTHORIZATION`, `wsgi.input` (the request
object: read/readline/readlines), `wsgi.errors` (`sys.stderr`, the error log),
`wsgi.version`, `wsgi.multithread`/`wsgi.multiprocess` from the MPM and `wsgi.url_scheme`.
`start_response(status, headers, exc_info=None)` adds the headers to `headers_out`, sets
`status`/`status_line` and returns `req.write`; with `exc_info` it re-raises the
exception (mod_python's rule: the normal error report follows). Every item of the result is
written and flushed; the result's `close()` is called even when iterating fails.

mod_python 3.5 builds the environ in C (`req.build_wsgi_env`, `req.wsgi_start_response`);
prefork-modpy's request object does not have them, so this module builds both from the
request's public API and uses the request's methods when they exist.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Callable, Iterable, Optional

from . import apache

__all__ = ["handler", "build_wsgi_env", "StartResponse"]

_STATUS = re.compile(r"^([1-9][0-9]{2})(?: |$)")


def _flag(config: Any, name: str, default: bool) -> bool:
    if name in config:
        return str(config[name]) == "1"
    return default


def handler(req: Any) -> int:
    """Import the configured application, call it and write what it returns."""
    options = req.get_options()
    app_str = options["mod_python.wsgi.application"]  # KeyError → error report, as 3.5
    app: Optional[Callable[..., Any]] = None
    if app_str:
        if "::" in app_str:
            mod_str, callable_str = app_str.split("::", 1)
        else:
            mod_str, callable_str = app_str, "application"
        config = req.get_config()
        module = apache.import_module(mod_str, autoreload=_flag(config, "PythonAutoReload", True),
                                      log=_flag(config, "PythonDebug", False))
        app = module.__dict__.get(callable_str)
    if not app:
        req.log_error(f"WSGI handler: mod_python.wsgi.application ({app_str!r}) not found,"
                      " declining.", apache.APLOG_WARNING)
        return apache.DECLINED

    env = build_wsgi_env(req)
    if env is None:
        base = options.get("mod_python.wsgi.base_uri")
        req.log_error(f"WSGI handler: req.uri ({req.uri!r}) does not start with"
                      f" mod_python.wsgi.base_uri ({base!r}), declining.", apache.APLOG_WARNING)
        return apache.DECLINED

    response: Optional[Iterable[Any]] = None
    try:
        response = app(env, StartResponse(req))
        for token in response:
            req.write(token)
    finally:
        if response is not None and not isinstance(response, (list, tuple)):
            close = getattr(response, "close", None)
            if close is not None:
                close()
    return apache.OK


def _base_uri(req: Any) -> str:
    base = req.get_options().get("mod_python.wsgi.base_uri")
    if base is not None:
        if base.endswith("/"):
            raise ValueError("mod_python.wsgi.base_uri must not end with '/'")
        return base
    hlist = getattr(req, "hlist", None)
    if hlist is not None and getattr(hlist, "is_location", False) and hlist.directory:
        return str(hlist.directory).rstrip("/")
    return ""


def build_wsgi_env(req: Any) -> Optional[dict[str, Any]]:
    """The WSGI environ of `req`, or None when the URI is outside the base URI (also
    `req.build_wsgi_env()`)."""
    base = _base_uri(req)
    uri = req.uri
    if not uri.startswith(base):
        return None
    path_info = uri[len(base):]
    req.path_info = path_info
    req.add_cgi_vars()
    env: dict[str, Any] = dict(req.subprocess_env.items())
    env["SCRIPT_NAME"] = base
    if path_info:
        env["PATH_INFO"] = path_info
    else:
        env.pop("PATH_INFO", None)  # as mod_python: absent, not empty
    authorization = req.headers_in.get("Authorization")
    if authorization is not None:
        env["HTTP_AUTHORIZATION"] = authorization
    env["wsgi.input"] = req
    env["wsgi.errors"] = sys.stderr
    env["wsgi.version"] = (1, 0)
    env["wsgi.multithread"] = apache.mpm_query(apache.AP_MPMQ_IS_THREADED) > 0
    env["wsgi.multiprocess"] = apache.mpm_query(apache.AP_MPMQ_IS_FORKED) > 0
    env["wsgi.url_scheme"] = "https" if env.get("HTTPS", "").lower() in ("on", "1") else "http"
    env["wsgi.run_once"] = False
    return env


class StartResponse:
    """WSGI `start_response` bound to one request (mod_python's wsgi_start_response)."""

    def __init__(self, req: Any) -> None:
        self.req = req

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[..., None]:
        if exc_info:
            try:
                raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no cycle through the traceback
        if not isinstance(status, str):
            raise TypeError("status must be a string")
        match = _STATUS.match(status)
        if match is None:
            raise ValueError(f"Invalid status line: {status!r}")
        if not isinstance(headers, list):
            raise TypeError("headers must be a list of (name, value) tuples")
        req = self.req
        for item in headers:
            if (not isinstance(item, tuple) or len(item) != 2
                    or not all(isinstance(part, str) for part in item)):
                raise TypeError("headers must be a list of 2-tuples of str")
        for name, value in headers:
            if name.lower() == "content-type":
                req.content_type = value
            else:
                req.headers_out.add(name, value)
        req.status = int(match.group(1))
        req.status_line = status
        return req.write
