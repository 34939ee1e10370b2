"""mod_python's server-side include element: `<!--#python exec="code" -->` and
`<!--#python eval="expression" -->` (mod_python.c's handle_python, apache.IncludeDispatch).

Owns running the element's code with `req.ssi_globals` as its globals (created empty when a
handler did not set it), `filter` (the INCLUDES filter, whose `write()` puts text in place)
and `__file__` added; `eval` writes `str()` of a result that is not None. An exception is
logged as mod_python logs a handler's (and shown in place under PythonDebug On). Refused
under `Options IncludesNOEXEC`, as mod_python does. Must not parse SSI: httpd/include.py
calls it through its ELEMENTS table.
"""

from __future__ import annotations

from typing import Any

from ..httpd import include
from .filters import debug_block


def python_element(ctx: include.Context, attributes: list[tuple[str, str]]) -> None:
    req = ctx.req
    if ctx.noexec:
        ctx.error(f"#python used but not allowed in {req.filename} (Options IncludesNOEXEC)")
        return
    for tag, code in attributes:
        if tag not in ("exec", "eval"):
            ctx.error(f"unexpected \"{tag}\" in a #python element (exec or eval)")
            return
        if not _run(ctx, tag, code):
            return


def _run(ctx: include.Context, tag: str, code: str) -> bool:
    req = ctx.req
    if getattr(req, "ssi_globals", None) is None:
        req.ssi_globals = {}
    scope: dict[str, Any] = req.ssi_globals
    scope["filter"] = ctx.filter
    scope["__file__"] = req.filename
    code = code.replace("\r\n", "\n").rstrip()
    try:
        if tag == "eval":
            result = eval(code, scope)  # noqa: S307 - the site's own SSI code, as mod_python
            if result is not None:
                ctx.write(str(result))
        else:
            exec(code, scope)  # noqa: S102 - the site's own SSI code, as mod_python runs it
    except Exception as exc:
        settings = req.per_dir_config
        debug = settings is not None and settings.python_config.get("PythonDebug") == "1"
        req.runtime.dispatcher.report_error(req, "INCLUDES", req.filename or "", exc, False)
        ctx.write(debug_block("INCLUDES", req.filename or "", exc) if debug else ctx.errmsg)
        return False
    return True


include.ELEMENTS["python"] = python_element
