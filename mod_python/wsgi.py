"""mod_python.wsgi: `PythonHandler mod_python.wsgi` runs a WSGI application (spec 5.6).

    PythonOption mod_python.wsgi.application module[::callable]   (callable: application)
    PythonOption mod_python.wsgi.application /path/to/app.wsgi[::callable]
    PythonOption mod_python.wsgi.base_uri /prefix                 (optional)

Owns the PEP 3333 gateway between one request object and one application: the environ,
`start_response`, `wsgi.input`, and sending the iterable. Must not reach below the request's
public API (no engine calls): framing, timeouts and the error log belong to the server. Two
record helpers spare it tables nobody else asks for: the pairs subprocess_env is still to be
made from (`deferred_env`) and the headers as sent (`sent_headers()`) while headers_in is
unmade.

The application is a module (imported as PythonHandler modules are) or, as mod_wsgi's
WSGIScriptAlias takes it, a script file (a value holding `/` or ending in `.wsgi`; relative
to ServerRoot): the file Django's startproject and `trac-admin deploy` write. A script is
executed once per interpreter and again when its mtime moves (PythonAutoReload On, the
default), as mod_wsgi reloads a changed script.

SCRIPT_NAME is `base_uri`, else the enclosing `<Location>` path without its trailing `/`,
else `''`; PATH_INFO is the rest of the URI (`req.path_info` is set to it). The environ is
the CGI variables of `add_cgi_vars()` plus `HTTP_AUTHORIZATION`, `wsgi.input` (the request
object, as in mod_python: read/readline/readlines, ending at the end of the body, so
`wsgi.input_terminated` is true and a chunked body, which has no CONTENT_LENGTH, is read
whole, as mod_wsgi and gunicorn give it), `wsgi.errors` (`sys.stderr`), `wsgi.version`,
`wsgi.multithread`/`wsgi.multiprocess` from the MPM and `wsgi.url_scheme`.

PEP 3333 rules kept here (where mod_python 3.5 differs, PEP 3333 wins):
- `start_response(status, headers, exc_info)` with `exc_info` replaces the status and headers
  while nothing was sent (an application's error page), and re-raises once the headers went
  out; without `exc_info` a second call is an error. mod_python 3.5 always re-raises.
- Headers are not sent before the first non-empty block (or the write callable).
- Each block of an iterable is written and flushed before the next is requested, so a
  generator streams; a list or tuple is already whole and goes out as one body. A first
  block that is the whole body the application's Content-Length declares goes out as the
  complete response (the same bytes; a block after it is dropped and logged).
- The result's `close()` is called whatever happens.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import types
from typing import Any, Callable, Iterable, Optional

from . import apache

__all__ = ["handler", "build_wsgi_env", "StartResponse", "load_script"]

_STATUS = re.compile(r"^([1-9][0-9]{2})(?: |$)")


def _flag(config: Any, name: str, default: bool) -> bool:
    value = config.get(name)  # a config table holds each directive once
    if value is not None:
        return str(value) == "1"
    return default


# A section's PythonOption mapping -> its keys in lower case, without the options set to ""
# (what get_options() leaves out): handler() reads it as get_options() would answer, without
# a table copy per request. Keyed on the mapping's identity (a config's mappings live as
# long as it does); bounded.
_option_views: dict[int, tuple[dict[str, str], dict[str, str]]] = {}


def _read_options(req: Any) -> Any:
    """The request's PythonOptions for reading (case-insensitive names in lower case)."""
    mapping = getattr(getattr(req, "per_dir_config", None), "options", None)
    if not isinstance(mapping, dict):
        return req.get_options()
    known = _option_views.get(id(mapping))
    if known is None or known[0] is not mapping:
        if len(_option_views) >= 1024:
            _option_views.clear()
        view = {name.lower(): value for name, value in mapping.items() if value != ""}
        known = _option_views[id(mapping)] = (mapping, view)
    return known[1]


def _read_config(req: Any) -> Any:
    """The request's Python* flags for reading (get_config() without its copy)."""
    config = getattr(getattr(req, "per_dir_config", None), "python_config", None)
    return config if isinstance(config, dict) else req.get_config()


def handler(req: Any) -> int:
    """Import the configured application, call it and write what it returns."""
    options = _read_options(req)
    app_str = options["mod_python.wsgi.application"]  # KeyError → error report, as 3.5
    app = _application(req, app_str) if app_str else None
    if not app:
        req.log_error(f"WSGI handler: mod_python.wsgi.application ({app_str!r}) not found,"
                      " declining.", apache.APLOG_WARNING)
        return apache.DECLINED

    env = build_wsgi_env(req, options)
    if env is None:
        base = options.get("mod_python.wsgi.base_uri")
        req.log_error(f"WSGI handler: req.uri ({req.uri!r}) does not start with"
                      f" mod_python.wsgi.base_uri ({base!r}), declining.", apache.APLOG_WARNING)
        return apache.DECLINED

    start_response = StartResponse(req)
    response: Optional[Iterable[Any]] = None
    try:
        response = app(env, start_response)
        start_response.send_all(response)
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
    return apache.OK


# -- finding the application ------------------------------------------------------------

def _application(req: Any, app_str: str) -> Optional[Callable[..., Any]]:
    """The callable `app_str` names: `target[::callable]`, target a module or a file."""
    target, callable_str, is_script = _parsed(app_str)
    config = _read_config(req)
    autoreload = _flag(config, "PythonAutoReload", True)
    if is_script:
        path = os.path.join(apache.server_root(), target)
        module = load_script(path, autoreload, interpreter=getattr(req, "interpreter", None))
    else:
        module = apache.import_module(target, autoreload=autoreload,
                                      log=_flag(config, "PythonDebug", False))
    return module.__dict__.get(callable_str)


# mod_python.wsgi.application value → (module or script, callable, whether a script):
# a pure function of the value, kept for the few values a site has (bounded).
_parses: dict[str, tuple[str, str, bool]] = {}


def _parsed(app_str: str) -> tuple[str, str, bool]:
    found = _parses.get(app_str)
    if found is None:
        target, _, callable_str = app_str.partition("::")
        found = (target, callable_str or "application", _is_script_path(target))
        if len(_parses) < 64 and type(app_str) is str:
            _parses[app_str] = found
    return found


def _is_script_path(target: str) -> bool:
    """A module name never holds '/'; '.wsgi' is the script suffix mod_wsgi users have."""
    return "/" in target or target.endswith(".wsgi")


# (interpreter, absolute path) → (module, mtime it was executed at)
_scripts: dict[tuple[Optional[str], str], tuple[types.ModuleType, float]] = {}


def load_script(path: str, autoreload: bool = True,
                interpreter: Optional[str] = None) -> types.ModuleType:
    """Execute a WSGI script file as a module (mod_wsgi names it `_mod_wsgi_<md5>`; here
    `_mod_python_wsgi_<md5 of the path>`) and keep it; run it again when autoreload finds
    its mtime changed."""
    path = os.path.abspath(path)
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise ImportError(f"mod_python.wsgi.application: cannot read the WSGI script"
                          f" {path!r}: {exc.strerror}") from None
    key = (interpreter, path)
    cached = _scripts.get(key)
    if cached is not None and (not autoreload or cached[1] == mtime):
        return cached[0]
    name = "_mod_python_wsgi_" + hashlib.md5(path.encode()).hexdigest()  # noqa: S324 - a name
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    assert spec is not None  # a SourceFileLoader always gives one
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pickling and tracebacks find it, as under mod_wsgi
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    _scripts[key] = (module, mtime)
    return module


# -- the environ ----------------------------------------------------------------------------

def _base_uri(req: Any, options: Any = None) -> str:
    if options is None:
        options = req.get_options()
    base = options.get("mod_python.wsgi.base_uri")
    if base is not None:
        if base.endswith("/"):
            raise ValueError("mod_python.wsgi.base_uri must not end with '/'")
        return base
    hlist = getattr(req, "hlist", None)
    if hlist is not None and getattr(hlist, "is_location", False) and hlist.directory:
        return str(hlist.directory).rstrip("/")
    return ""


def build_wsgi_env(req: Any, options: Any = None) -> Optional[dict[str, Any]]:
    """The WSGI environ of `req`, or None when the URI is outside the base URI (also
    `req.build_wsgi_env()`). `options`: req.get_options() when the caller has it."""
    base = _base_uri(req, options)
    uri = req.uri
    if not uri.startswith(base):
        return None
    path_info = uri[len(base):]
    req.path_info = path_info
    req.add_cgi_vars()
    # The items of subprocess_env: the pairs it is still to be made from, if nothing asked
    # for the table yet (the usual case; the record makes it when first used).
    pairs = getattr(req, "deferred_env", None)
    env: dict[str, Any] = dict(pairs if pairs is not None else req.subprocess_env.items())
    env["SCRIPT_NAME"] = base
    if path_info:
        env["PATH_INFO"] = path_info
    else:
        env.pop("PATH_INFO", None)  # as mod_python: absent, not empty
    authorization = _authorization(req)
    if authorization is not None:
        env["HTTP_AUTHORIZATION"] = authorization
    env["wsgi.input"] = req  # mod_python 3.5's; its read methods end at the body's end
    # The request's reads end at the end of the body, chunked or not (mod_wsgi, gunicorn).
    env["wsgi.input_terminated"] = True
    env["wsgi.errors"] = sys.stderr
    env["wsgi.version"] = (1, 0)
    env["wsgi.multithread"], env["wsgi.multiprocess"] = _mpm_flags()
    env["wsgi.url_scheme"] = "https" if env.get("HTTPS", "").lower() in ("on", "1") else "http"
    env["wsgi.run_once"] = False
    return env


def _authorization(req: Any) -> Optional[str]:
    """headers_in's Authorization, read from the headers as sent while headers_in was never
    made (their first Authorization, unless the name repeats: headers_in merges those)."""
    sent = req.sent_headers() if hasattr(req, "sent_headers") else None
    if sent is None:
        return req.headers_in.get("Authorization")
    found = [value for name, value in sent if name.lower() == "authorization"]
    if len(found) > 1:
        return req.headers_in.get("Authorization")
    return found[0] if found else None


# (runtime, wsgi.multithread, wsgi.multiprocess): mod_python asks the MPM once per process
# (req_build_wsgi_env keeps the answers in statics); here once per runtime it is bound to.
_mpm_answers: tuple[Any, bool, bool] = (object(), False, False)


def _mpm_flags() -> tuple[bool, bool]:
    global _mpm_answers
    runtime = apache._runtime
    if _mpm_answers[0] is not runtime:
        _mpm_answers = (runtime, apache.mpm_query(apache.AP_MPMQ_IS_THREADED) > 0,
                        apache.mpm_query(apache.AP_MPMQ_IS_FORKED) > 0)
    return _mpm_answers[1], _mpm_answers[2]


# -- start_response and the body ------------------------------------------------------------

class StartResponse:
    """WSGI `start_response` bound to one request (mod_python's wsgi_start_response), and
    the sending of the body it starts."""

    called = False
    headers_sent = False
    # headers_out and content_type as the earlier phases left them, restored when an
    # exc_info call replaces what the application set.
    _saved_headers: list[tuple[str, str]]  # set with `called`
    _saved_content_type: Optional[str] = None

    def __init__(self, req: Any) -> None:
        self.req = req

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info:
            try:
                if self.headers_sent:
                    # PEP 3333: too late to replace them; the error goes on up.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no cycle through the traceback
        elif self.called:
            raise RuntimeError("start_response() called a second time without exc_info")
        _check(status, headers)
        self._apply(status, headers)
        return self.write

    def _apply(self, status: str, headers: list[tuple[str, str]]) -> None:
        req = self.req
        headers_out = req.headers_out
        if self.called:
            headers_out.clear()
            for name, value in self._saved_headers:
                headers_out.add(name, value)
            req.content_type = self._saved_content_type
        else:
            self._saved_headers = headers_out.items()  # a new list
            self._saved_content_type = req.content_type
            self.called = True
        for name, value in headers:
            if name.lower() == "content-type":
                req.content_type = value
            else:
                headers_out.add(name, value)
        req.status = int(status[:3])
        req.status_line = status

    def write(self, data: bytes) -> None:
        """The write callable: the bytes reach the client before it returns. It takes what
        req.write() takes (str too), since mod_python returns req.write itself."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._send(data, flush=True)

    def send_all(self, response: Iterable[Any]) -> None:
        """Send the application's iterable: a list or tuple is already complete, so it
        goes out as one body (with its Content-Length); any other iterable block by block,
        each flushed before the next is asked for."""
        flush = not isinstance(response, (list, tuple))
        for block in response:
            self._send(block, flush)
        if not self.called:
            raise RuntimeError("the WSGI application returned without calling"
                               " start_response()")

    def _send(self, data: Any, flush: bool) -> None:
        if not self.called:
            raise RuntimeError("the WSGI application sent body data before calling"
                               " start_response()")
        if isinstance(data, str):  # mod_python 3.5 hands each block to req.write, str too
            data = data.encode("utf-8")
        elif not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"a WSGI application must yield bytes, not {type(data).__name__}")
        if not data:
            return  # PEP 3333: no headers go out before the first non-empty block
        if flush:
            self.req.write(data)
            self.req.flush()
            self.headers_sent = True
        else:
            self.req.write(data, 0)


# Status lines found valid (exact str only: a subclass may compare differently); bounded.
_valid_statuses: set[str] = set()


def _check(status: str, headers: list[tuple[str, str]]) -> None:
    if not isinstance(status, str):
        raise TypeError("status must be a string")
    if type(status) is not str or status not in _valid_statuses:
        if _STATUS.match(status) is None:
            raise ValueError(f"Invalid status line: {status!r}")
        if type(status) is str and len(_valid_statuses) < 256 and len(status) <= 64:
            _valid_statuses.add(status)
    if not isinstance(headers, list):
        raise TypeError("headers must be a list of (name, value) tuples")
    for item in headers:
        if type(item) is tuple and len(item) == 2 and type(item[0]) is str \
                and type(item[1]) is str:
            continue  # the usual case, decided without the generic test below
        if (not isinstance(item, tuple) or len(item) != 2
                or not all(isinstance(part, str) for part in item)):
            raise TypeError("headers must be a list of 2-tuples of str")
