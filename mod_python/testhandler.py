"""``mod_python.testhandler``: a handler that shows how the server sees a request.

Owns the page mod_python 3.5 documents for checking an installation
(``SetHandler mod_python`` + ``PythonHandler mod_python.testhandler``): server and Python
facts, the request's headers, CGI environment, config, options and notes, the server's
config and options, ``apache.config_tree()``; with ``?view_log=1`` the last 100 lines of the
error log as text/plain. Must not change anything: it only reads.
"""

from __future__ import annotations

import html
import os
import sys
from collections import deque
from typing import Any, Iterable, Iterator

from mod_python import apache, util

LOG_LINES = 100  # ?view_log=1 shows this many trailing lines, as mod_python does


class bounded_buffer:  # noqa: N801 - mod_python's public name
    """Keeps the last `size` values appended (mod_python's helper, kept for importers)."""

    def __init__(self, size: int) -> None:
        self.max_size = size
        self._items: deque[Any] = deque(maxlen=size)

    def append(self, value: Any) -> None:
        self._items.append(value)

    def items(self) -> list[Any]:
        return list(self._items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items())


def _cell(value: object) -> str:
    return f"<code>{html.escape(str(value))}</code>"


def write_table(req: Any, table: Any) -> None:
    """An HTML table of a mapping's keys and values."""
    req.write('<table border="1">')
    req.write("<tr><th>Key</th><th>Value</th></tr>\n")
    for key in table:
        req.write(f"<tr><td>{_cell(key)}</td><td>{_cell(table[key])}</td></tr>\n")
    req.write("</table>")


def write_tree(req: Any, tree: Iterable[Any], level: int) -> None:
    """apache.config_tree() as indented directive lines (a list is a nested section)."""
    for entry in tree:
        if isinstance(entry, list):
            write_tree(req, entry, level + 1)
        else:
            req.write("    " * level + html.escape(" ".join(entry)) + "\n")


def _error_log_path(req: Any) -> str:
    return os.path.join(apache.server_root(), req.server.error_fname or "")


def _view_log(req: Any) -> int:
    lines = bounded_buffer(LOG_LINES)
    with open(_error_log_path(req), "rb") as log:
        for line in log:
            lines.append(line)
    req.content_type = "text/plain"
    for line in lines:
        req.write(line)
    return apache.OK


def _mpm_rows() -> list[tuple[str, str]]:
    threaded = apache.mpm_query(apache.AP_MPMQ_IS_THREADED)
    forked = apache.mpm_query(apache.AP_MPMQ_IS_FORKED)
    return [
        ("Apache threaded MPM",
         f"Yes, maximum {apache.mpm_query(apache.AP_MPMQ_MAX_THREADS)} threads / process"
         if threaded else "No (single thread MPM)"),
        ("Apache forked MPM",
         f"Yes, maximum {apache.mpm_query(apache.AP_MPMQ_MAX_DAEMONS)} processes"
         if forked else "No (single process MPM)"),
    ]


def _importable(name: str) -> str:
    try:
        __import__(f"mod_python.{name}")
    except Exception:  # any failure means "not available", as the page reports it
        return "No"
    return "Yes"


def _general_rows(req: Any) -> list[tuple[str, str]]:
    log = _error_log_path(req) if req.server.error_fname else "None"
    return [
        ("Apache version", str(req.subprocess_env.get("SERVER_SOFTWARE"))),
        *_mpm_rows(),
        ("Apache server root", apache.server_root()),
        ("Apache document root", req.document_root()),
        ("Apache error log", log),
        ("Python sys.version", sys.version),
        ("Python sys.path", "\n".join(sys.path)),
        ("Python interpreter name", req.interpreter),
        ("mod_python.publisher available", _importable("publisher")),
        ("mod_python.psp available", _importable("psp")),
    ]


def handler(req: Any) -> int:
    req.form = util.FieldStorage(req)
    if req.form.getfirst("view_log"):
        return _view_log(req)
    req.add_common_vars()
    req.content_type = "text/html"
    req.write("<html><head><title>mod_python test page</title></head><body>\n")
    req.write("<h3>General information</h3>\n")
    write_table(req, dict(_general_rows(req)))
    sections = [("Request input headers", req.headers_in),
                ("Request environment", req.subprocess_env),
                ("Request configuration", req.get_config()),
                ("Request options", req.get_options()),
                ("Request notes", req.notes),
                ("Server configuration", req.server.get_config()),
                ("Server options", req.server.get_options())]
    for title, table in sections:
        req.write(f"<h3>{title}</h3>\n")
        write_table(req, table)
    req.write("<h3>Server configuration tree</h3>\n<pre>")
    write_tree(req, apache.config_tree(), 0)
    req.write("</pre>\n</body></html>")
    return apache.OK
