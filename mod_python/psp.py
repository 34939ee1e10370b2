"""``mod_python.psp`` for prefork-modpy: Python Server Pages (spec section 5.5).

``PythonHandler mod_python.psp`` (usually with ``AddHandler mod_python .psp``) runs the page
named by ``req.filename``; with ``PythonDebug On`` a URL ending in ``_`` (``page.psp_``, with
``AddHandler mod_python .psp .psp_``) shows the page next to the Python code generated for it.
``PSP(req, filename=None, string=None, vars={})`` with ``run(vars={}, flush=0)``,
``display_code()`` and ``__str__``; in the page, ``req``, ``psp`` (``set_error_page``,
``apply_data``, ``redirect``), ``form`` and ``session`` (created only when the page's code
names them) and ``__file__``.  ``parse(filename, dir=None)`` and ``parsestring(text)`` return
the generated source.

mod_python's parser is a C flex scanner (``_psp``); ``_Parser`` below is the same scanner
written in Python, rule for rule, so the generated code is the same text: page text becomes
``req.write(\"\"\"...\"\"\",0)`` (``"`` escaped, literal ``\\n``/``\\r``/``\\t`` in text kept
literal), ``<%= e %>`` becomes ``req.write(str( e ),0)``, ``<% code %>`` is copied with the
indentation rules of the manual (the indentation of the code block's last line applies to the
text that follows; a block ending in ``:`` adds a tab), ``<%@ include file="x" %>`` splices
``x`` (relative to the page's directory) and ``<%-- --%>`` is dropped.

Compiled pages are cached per process by file name and the mtimes of the page and the files
it includes (mod_python checks the page's mtime only).  Differences from mod_python 3.5: the
optional dbm code cache (``mod_python.psp.cache_database_filename``) and precompiled
``.psc`` companions are not used (their marshalled code objects are Python-version specific;
pages are always compiled from source); an exception in a page is re-raised as it is (mod_python
re-wraps it as ``type(value)(value)``).
"""

from __future__ import annotations

import os
import sys
from html import escape
from typing import Any, Dict, List, Optional, Tuple

from mod_python import Session, apache, util

tempdir = Session.tempdir


def path_split(filename: str) -> Tuple[str, str]:
    """``(directory + "/", name)``, as mod_python passes them to its parser."""
    directory, fname = os.path.split(filename)
    return directory + "/", fname


def _read_text(path: str) -> str:
    with open(path, "rb") as fp:
        data = fp.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# -- the parser ----------------------------------------------------------------------------

_TEXT, _PYCODE, _INDENT, _DIR, _COMMENT = range(5)


class _Parser:
    """mod_python's psp_parser.l as a hand-written scanner over a stack of buffers."""

    def __init__(self, directory: Optional[str]) -> None:
        self.dir = directory
        self.out: List[str] = []
        self.whitespace = ""
        self.is_psp_echo = False
        self.seen_newline = False
        self.after_colon = False
        self.included: List[str] = []

    def include_path(self, name: str) -> str:
        return (self.dir + name) if self.dir else name

    def run(self, text: str) -> str:
        if not text:
            return ""
        out = self.out
        out.append('req.write("""')
        stack: List[Tuple[str, int]] = []
        buf, i, state = text, 0, _TEXT
        while True:
            if i >= len(buf):
                if state == _TEXT and stack:  # end of an included file
                    buf, i = stack.pop()
                    state = _DIR
                    continue
                if state == _TEXT:
                    out.append('""",0)\n')
                return "".join(out)  # EOF in code, directive or comment: as flex, stop
            c = buf[i]
            if state == _TEXT:
                if buf.startswith("<%", i):
                    if buf.startswith("<%--", i):
                        state, i = _COMMENT, i + 4
                    elif buf.startswith("<%=", i):
                        out.append('""",0); req.write(str(')
                        self.is_psp_echo = True
                        state, i = _PYCODE, i + 3
                    elif buf.startswith("<%@", i):
                        state, i = _DIR, i + 3
                    else:
                        out.append('""",0);')
                        self.whitespace = ""
                        self.seen_newline = False
                        state, i = _PYCODE, i + 2
                elif c == "\\" and buf[i + 1:i + 2] in ("n", "r", "t"):
                    out.append("\\\\" + buf[i + 1])
                    i += 2
                elif c == "\n":
                    out.append("\n")
                    i += 1
                elif c == "\r" and buf[i + 1:i + 2] == "\n":
                    out.append("\n")
                    i += 2
                elif c == '"':
                    out.append('\\"')
                    i += 1
                else:
                    out.append(c)
                    i += 1
            elif state == _PYCODE:
                if c in "\r\n":
                    i += 2 if buf.startswith("\r\n", i) else 1
                    out.append("\n")
                    self.seen_newline = True
                    state = _INDENT
                elif buf.startswith("%>", i):
                    i += 2
                    if self.is_psp_echo:
                        out.append('),0); req.write("""')
                        self.is_psp_echo = False
                    else:
                        if not self.seen_newline:
                            out.append(";")  # <%%> or code on one line
                        if self.after_colon:
                            self.whitespace += "\t"
                            self.after_colon = False
                        out.append(self.whitespace)
                        out.append('req.write("""')
                    state = _TEXT
                else:
                    out.append(c)
                    self.after_colon = c == ":"
                    i += 1
            elif state == _INDENT:
                # `^[\t ]*`: flex's `^` holds only after "\n" (not after a bare "\r")
                j = i
                if i > 0 and buf[i - 1] == "\n":
                    while j < len(buf) and buf[j] in " \t":
                        j += 1
                if j > i:
                    self.whitespace = buf[i:j]
                    out.append(self.whitespace)
                    i = j
                elif not buf.startswith("%>", i):
                    self.whitespace = ""
                state = _PYCODE
            elif state == _DIR:
                name, end = _match_include(buf, i)
                if name is not None:
                    path = self.include_path(name)
                    try:
                        included = _read_text(path)
                    except OSError as exc:
                        raise OSError(exc.errno, exc.strerror, path) from None
                    self.included.append(path)
                    stack.append((buf, end))
                    buf, i, state = included, 0, _TEXT
                elif buf.startswith("%>", i):
                    state, i = _TEXT, i + 2
                else:
                    i += 1  # flex echoes unmatched input to stdout; it is not code
            else:  # _COMMENT
                if buf.startswith("--%>", i):
                    state, i = _TEXT, i + 4
                else:
                    i += 1


def _match_include(buf: str, i: int) -> Tuple[Optional[str], int]:
    """flex's ``"include"[ ]+"file"[ ]?=[ ]?"\\""[^ ]+"\\""`` at ``i`` (longest match):
    (the file name up to its first closing quote, end of the match) or (None, i)."""
    if not buf.startswith("include", i):
        return None, i
    j = i + 7
    k = j
    while k < len(buf) and buf[k] == " ":
        k += 1
    if k == j or not buf.startswith("file", k):
        return None, i
    k += 4
    if buf.startswith(" ", k):
        k += 1
    if not buf.startswith("=", k):
        return None, i
    k += 1
    if buf.startswith(" ", k):
        k += 1
    if not buf.startswith('"', k):
        return None, i
    start = k + 1
    end = start
    while end < len(buf) and buf[end] != " ":
        end += 1
    last = buf.rfind('"', start + 1, end)
    if last < 0:
        return None, i
    name = buf[start:buf.index('"', start)]
    return name, last + 1


def _parse(text: str, directory: Optional[str]) -> Tuple[str, List[str]]:
    parser = _Parser(directory)
    return parser.run(text), parser.included


def parse(filename: str, dir: Optional[str] = None) -> str:
    """The Python source generated for the page ``dir + filename``."""
    path = (dir + filename) if dir else filename
    return _parse(_read_text(path), dir)[0]


def parsestring(str: str) -> str:
    """The Python source generated for a page given as text (includes relative to cwd)."""
    if isinstance(str, bytes):
        str = str.decode("utf-8")
    return _parse(str, None)[0]


# -- caches --------------------------------------------------------------------------------

class HitsCache:
    """mod_python's cache: at most ``size`` entries, the least hit quarter dropped."""

    def __init__(self, size: int = 512) -> None:
        self.cache: Dict[Any, Any] = {}
        self.size = size

    def store(self, key: Any, val: Any) -> None:
        self.cache[key] = [1, val]
        if len(self.cache) > self.size:
            self.clean()

    def get(self, key: Any) -> Any:
        entry = self.cache.get(key)
        if entry is None:
            return None
        entry[0] += 1
        return entry[1]

    def clean(self) -> None:
        byhits = sorted(self.cache.items(), key=lambda item: item[1][0])
        for key, _ in byhits[:len(self.cache) - int(self.size * .75)]:
            del self.cache[key]


class FileCache(HitsCache):
    """Code per page file, valid while the page and its includes keep their mtimes."""

    def store(self, filename: str, mtime: Any, code: Any) -> None:  # type: ignore[override]
        HitsCache.store(self, filename, (mtime, code))

    def get(self, filename: str, mtime: Any) -> Any:  # type: ignore[override]
        entry = HitsCache.get(self, filename)
        if entry is None:
            return None
        cached_mtime, code = entry
        if cached_mtime != mtime:
            del self.cache[filename]
            return None
        return code


mem_scache = HitsCache()
mem_fcache = FileCache()
_includes: Dict[str, List[str]] = {}


def _mtimes(filename: str) -> Tuple[float, ...]:
    stamps = [os.path.getmtime(filename)]
    for path in _includes.get(filename, ()):
        try:
            stamps.append(os.path.getmtime(path))
        except OSError:
            stamps.append(-1.0)
    return tuple(stamps)


# -- pages ---------------------------------------------------------------------------------

class PSPInterface:
    """The ``psp`` object of a page."""

    def __init__(self, req: Any, filename: Optional[str], form: Any) -> None:
        self.req = req
        self.filename = filename
        self.error_page: Optional[PSP] = None
        self.form = form

    def set_error_page(self, page: str) -> None:
        """Run ``page`` (``/x`` below DocumentRoot, else beside this page) if this page
        raises; it gets ``exception = (type, value, traceback)``."""
        if page and page[0] == "/":
            self.error_page = PSP(self.req, self.req.document_root() + page)
        else:
            directory = path_split(self.filename or self.req.filename)[0]
            self.error_page = PSP(self.req, directory + page)

    def apply_data(self, object: Any) -> Any:
        """Call ``object`` with the form fields matching its arguments (and ``req``)."""
        if not self.form:
            if not hasattr(self.req, "form"):
                self.form = util.FieldStorage(self.req, keep_blank_values=1)
                self.req.form = self.form
            else:
                self.form = self.req.form
        return util.apply_fs_data(object, self.form, req=self.req)

    def redirect(self, location: str, permanent: Any = 0) -> None:
        util.redirect(self.req, location, permanent)


class PSP:
    """A page from a file (default ``req.filename``) or from a string."""

    code: Any = None
    dbmcache: Optional[str] = None

    def __init__(self, req: Any, filename: Optional[str] = None, string: Optional[str] = None,
                 vars: Optional[Dict[str, Any]] = None) -> None:
        if string and filename:
            raise ValueError("Must specify either filename or string")
        self.req, self.vars = req, dict(vars or {})
        if not filename and not string:
            filename = req.filename
        self.filename, self.string = filename, string
        if filename:
            if not os.path.isabs(filename):
                base = os.path.split(req.filename)[0]
                self.filename = os.path.join(base, filename)
            self.load_from_file()
        else:
            cached = mem_scache.get(string)
            if cached is not None:
                self.code = cached
            else:
                code = compile(parsestring(string or ""), "__psp__", "exec")
                mem_scache.store(string, code)
                self.code = code

    def load_from_file(self) -> None:
        filename: str = self.filename  # type: ignore[assignment]
        if not os.path.isfile(filename):
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        mtimes = _mtimes(filename)
        code = mem_fcache.get(filename, mtimes)
        if code is None:
            directory, fname = path_split(filename)
            source, included = _parse(_read_text(filename), directory)
            code = compile(source, filename, "exec")
            _includes[filename] = included
            mem_fcache.store(filename, _mtimes(filename), code)
        self.code = code

    def run(self, vars: Optional[Dict[str, Any]] = None, flush: Any = 0) -> None:
        """Execute the page; save ``req.session`` afterwards; on an exception run the error
        page if one was set, else re-raise."""
        code, req = self.code, self.req
        session = None
        if "session" in code.co_names and not hasattr(req, "session"):
            req.session = session = Session.Session(req)
        form = None
        if "form" in code.co_names:
            if not hasattr(req, "form"):
                form = util.FieldStorage(req, keep_blank_values=1)
                req.form = form
            else:
                form = req.form
        psp = PSPInterface(req, self.filename, form)
        try:
            global_scope = dict(globals())
            global_scope.update({"req": req, "form": form, "psp": psp,
                                 "session": getattr(req, "session", None)})
            global_scope.update(self.vars)  # passed to __init__()
            global_scope.update(vars or {})  # passed to run()
            global_scope["__file__"] = req.filename
            global_scope["__mp_path__"] = []
            try:
                exec(code, global_scope)
                if flush:
                    req.flush()
                if hasattr(req, "session"):
                    req.session.save()
            except Exception:
                if psp.error_page is None:
                    raise
                psp.error_page.run({"exception": sys.exc_info()}, flush)
        finally:
            if session is not None:
                session.unlock()
                del req.session

    def __str__(self) -> str:
        self.req.content_type = "text/html"
        self.run()
        return ""

    def display_code(self) -> None:
        """Write an HTML table: the generated Python code next to the page source."""
        req, filename = self.req, self.filename or ""
        directory, fname = path_split(filename)
        source = [s.rstrip() for s in _read_text(filename).splitlines()]
        pycode = [s.rstrip() for s in parse(fname, directory).splitlines()]
        req.write("<table>\n<tr>")
        for s in ("", "&nbsp;PSP-produced Python Code:", f"&nbsp;{filename}:"):
            req.write(f"<td><tt>{s}</tt></td>")
        req.write("</tr>\n")
        for n, line in enumerate(pycode, 1):
            req.write("<tr>")
            left = escape(line).replace("\t", " " * 4).replace(" ", "&nbsp;")
            right = "" if len(source) < n else \
                escape(source[n - 1]).replace("\t", " " * 4).replace(" ", "&nbsp;")
            for s in (f"{n}.&nbsp;", f"<font color=blue>{left}</font>",
                      f"&nbsp;<font color=green>{right}</font>"):
                req.write(f"<td><tt>{s}</tt></td>")
            req.write("</tr>\n")
        req.write("</table>\n")


def handler(req: Any) -> int:
    """``PythonHandler mod_python.psp``."""
    req.content_type = "text/html"
    debug = int(req.get_config().get("PythonDebug", 0))
    if debug and req.filename[-1] == "_":
        PSP(req, req.filename[:-1]).display_code()
    else:
        PSP(req).run()
    return apache.OK
