"""mod_python.cgihandler: `PythonHandler mod_python.cgihandler` runs a CGI-style Python
script in the worker (spec 5.7).

Per request, under a process lock: `chdir` to the script's directory, swap `os.environ`
for the CGI variables (`apache.build_cgi_env`) and `sys.stdin`/`sys.stdout` for the request
(`apache.setup_cgi`), execute the script (`subprocess_env['script_filename']` or
`req.filename`; missing → 404), then restore everything. The script prints a CGI header
block (`Status:`, `Content-Type:`, others) and a body; `apache.CGIStdout` turns the
headers into `req.status`, `req.content_type` and `headers_out`.

Differences from mod_python 3.5, which uses the removed `imp` module:
- `os.environ` is a plain dict holding only the CGI variables while the script runs and
  the process environment is restored afterwards (mod_python replaces `os.environ` with an
  empty dict for good when it loads);
- before each request only the modules imported from the script's own directory are
  forgotten, so the script's helpers are re-read (mod_python drops every non-stdlib module
  imported since it loaded, which would also drop the server's own modules);
- the script is executed as a module named after its file but not left in `sys.modules`
  (where it could shadow a real module of the same name);
- `sys.exit()` in the script ends it normally, as it would end a CGI process.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import threading
from typing import Any

from . import apache

__all__ = ["handler"]

_lock = threading.Lock()


class _CGIStdout(apache.CGIStdout):
    """`apache.CGIStdout` that puts a script's `Content-Type` in `req.content_type` only:
    httpd replaces a `headers_out` Content-Type with `content_type`, prefork-modpy's
    request object sends both."""

    def _header_line(self, line: str) -> None:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "content-type":
            self.req.content_type = value.strip()
        else:
            super()._header_line(line)


def _forget_script_modules(directory: str) -> None:
    """Drop modules loaded from the script's directory so that edits are picked up."""
    prefix = os.path.join(os.path.realpath(directory), "")
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if filename and os.path.realpath(filename).startswith(prefix):
            del sys.modules[name]


def handler(req: Any) -> int:
    """Execute the script named by the request with CGI stdin/stdout/environ."""
    script = req.subprocess_env.get("script_filename") or req.filename
    directory, file = os.path.split(script)
    module_name = os.path.splitext(file)[0]
    if not module_name or not os.path.isdir(directory):
        raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
    spec = importlib.machinery.PathFinder.find_spec(module_name, [directory])
    if spec is None or spec.loader is None or spec.origin is None \
            or os.path.dirname(spec.origin) != directory.rstrip("/"):
        raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)

    with _lock:
        _forget_script_modules(directory)
        cwd = os.getcwd()
        real_environ = os.environ
        # a plain dict holding only the CGI variables; the process environment stays
        os.environ = {}  # type: ignore[assignment]  # noqa: B003
        saved: Any = None
        try:
            os.chdir(directory)
            saved = apache.setup_cgi(req)
            sys.stdout = _CGIStdout(req)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    raise
            finally:
                sys.stdout.flush()
        finally:
            if saved is not None:
                apache.restore_nocgi(*saved)
            os.environ = real_environ  # noqa: B003
            os.chdir(cwd)
    return apache.OK
