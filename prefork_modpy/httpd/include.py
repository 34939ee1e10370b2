"""mod_include: server-side includes, the INCLUDES output filter.

Owns parsing SSI elements (`<!--#element attribute="value" -->`) in a response that
`Options Includes` (or `IncludesNOEXEC`) allows and `SetOutputFilter INCLUDES` /
`AddOutputFilter INCLUDES .shtml` routes through the filter, and the standard elements:
`echo`, `set`, `printenv`, `config` (errmsg, timefmt, sizefmt), `include`/`flastmod`/`fsize`
with `file=` or `virtual=` (a file below the document root or an Alias; no subrequests, so
a virtual path that a handler would serve is an error), `if`/`elif`/`else`/`endif` with
ap_expr's common forms (`v('name')` for SSI variables, `%{NAME}` for request variables,
strings, `==`, `!=`, `<`, `>`, `=~ /re/`, `-z`, `-n`, `!`, `&&`, `||`, parentheses; an
expression that cannot be evaluated is an error and counts as true, as in httpd). Other
modules add elements to ELEMENTS (mod_python's `python`, modpy/ssi.py). `exec` is refused
by name (prefork-modpy runs no CGI or shell commands); an element nobody knows is an error,
as in httpd. Errors write the `errmsg` text in place and a log line. Must not run handlers
or touch the engine: it writes through the filter it is.
"""

from __future__ import annotations

import html
import os
import re
import time
import urllib.parse
from typing import Any, Callable, Optional

from .forwardedproto import HTTPS, scheme_of

DEFAULT_ERRMSG = "[an error occurred while processing this directive]"
DEFAULT_TIMEFMT = "%A, %d-%b-%Y %H:%M:%S %Z"
MAX_NESTING = 16  # included SSI documents inside one another (a loop is refused earlier)
APLOG_ERR = 3

_ELEMENT = re.compile(rb"<!--#\s*([A-Za-z]+)(.*?)-->", re.DOTALL)
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""
                        r"""|`(?:[^`\\]|\\.)*`|\S+)""", re.DOTALL)
_VARIABLE = re.compile(r"\\\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class Context:
    """One document's state: its variables, `config` settings and conditionals."""

    def __init__(self, filter_: Any, noexec: bool, chain: tuple[str, ...] = ()) -> None:
        self.filter = filter_
        self.req = filter_.req
        self.noexec = noexec
        self.chain = chain  # the SSI files being included, outermost first
        self.errmsg = DEFAULT_ERRMSG
        self.timefmt = DEFAULT_TIMEFMT
        self.sizefmt = "abbrev"
        self.printing = True
        self.conditions: list[tuple[bool, bool]] = []  # (printing outside, branch taken)

    def write(self, data: Any) -> None:
        self.filter.write(data)

    def error(self, message: str) -> None:
        """mod_include's SSI_CREATE_ERROR_BUCKET: the errmsg text here, the reason logged."""
        self.req.log_error(f"mod_include: {message} in parsed file {self.req.filename}",
                           APLOG_ERR)
        self.write(self.errmsg)

    def variable(self, name: str) -> Optional[str]:
        special = _special_variable(self, name)
        if special is not None:
            return special
        value = self.req.subprocess_env.get(name)
        return value if isinstance(value, str) else None

    def interpolate(self, text: str) -> str:
        """ap_ssi_parse_string: `$NAME` and `${NAME}` become values ("" when unset)."""
        def value(match: re.Match[str]) -> str:
            if match.group(0) == "\\$":
                return "$"
            return self.variable(match.group(1) or match.group(2)) or ""
        return _VARIABLE.sub(value, text)


Element = Callable[[Context, list[tuple[str, str]]], None]


def output_filter(filter_: Any) -> None:
    """The INCLUDES filter: collects the document, then processes it at its end."""
    req = filter_.req
    options = req.per_dir_config.effective_options if req.per_dir_config else frozenset()
    if "includes" not in options and "includesnoexec" not in options:
        filter_.disable()  # includes_setup: without Options Includes the text passes as is
        return
    pending = filter_.__dict__.setdefault("_ssi_pending", [])
    while True:
        chunk = filter_.read()
        if chunk is None:
            break
        if not chunk:
            return  # more of the document comes in a later batch
        pending.append(chunk)
    _drop_validators(req)
    chain = (os.path.realpath(req.filename),) if req.filename else ()
    process(Context(filter_, "includes" not in options, chain), b"".join(pending))
    filter_.close()


def _drop_validators(req: Any) -> None:
    """The parsed output is not the file: no length, date or tag of the file applies."""
    for name in ("Content-Length", "Last-Modified", "ETag"):
        for table in (req.headers_out, req.err_headers_out):
            if name in table:
                del table[name]


def process(ctx: Context, document: bytes) -> None:
    position = 0
    for match in _ELEMENT.finditer(document):
        if ctx.printing:
            ctx.write(document[position:match.start()])
        position = match.end()
        name = match.group(1).decode("latin-1").lower()
        attributes = parse_attributes(match.group(2).decode("utf-8", "surrogateescape"))
        if name in _CONDITIONALS:
            _CONDITIONALS[name](ctx, attributes)
        elif ctx.printing:
            _run_element(ctx, name, attributes)
    if ctx.printing:
        ctx.write(document[position:])
    if ctx.conditions:
        ctx.req.log_error(f"mod_include: missing 'endif' element in parsed file "
                          f"{ctx.req.filename}", APLOG_ERR)


def _run_element(ctx: Context, name: str, attributes: list[tuple[str, str]]) -> None:
    element = ELEMENTS.get(name)
    if element is None:
        if name == "exec":
            ctx.error("exec is not supported: prefork-modpy runs no CGI scripts or shell "
                      "commands (write the page's dynamic part in Python instead)")
        else:
            ctx.error(f"unknown directive \"{name}\"")
        return
    element(ctx, attributes)


def parse_attributes(text: str) -> list[tuple[str, str]]:
    """`name="value"` pairs (quotes ", ' or `; a backslash escapes the quote), values with
    HTML entities decoded (SSI_VALUE_DECODED)."""
    pairs = []
    for match in _ATTRIBUTE.finditer(text):
        value = match.group(2)
        if value[:1] in ("\"", "'", "`"):
            quote = value[0]
            value = value[1:-1].replace("\\" + quote, quote)
        pairs.append((match.group(1).lower(), html.unescape(value)))
    return pairs


# -- variables --------------------------------------------------------------------------


def _special_variable(ctx: Context, name: str) -> Optional[str]:
    req = ctx.req
    if name == "DOCUMENT_URI":
        return req.uri
    if name == "DOCUMENT_NAME":
        return os.path.basename(req.filename or "")
    if name == "DOCUMENT_PATH_INFO":
        return req.path_info or ""
    if name == "QUERY_STRING_UNESCAPED":
        return urllib.parse.unquote(req.args) if req.args is not None else None
    if name in ("DATE_LOCAL", "DATE_GMT"):
        moment = time.localtime() if name == "DATE_LOCAL" else time.gmtime()
        return time.strftime(ctx.timefmt, moment)
    if name == "LAST_MODIFIED" and req.filename and os.path.exists(req.filename):
        return time.strftime(ctx.timefmt, time.localtime(os.path.getmtime(req.filename)))
    return None


def _echo(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    encoding = "entity"
    for name, value in attributes:
        if name == "encoding":
            encoding = value.lower()
            if encoding not in ("none", "url", "urlencoded", "base64", "entity"):
                ctx.error(f"unknown value \"{value}\" to parameter \"encoding\" of tag echo")
                return
        elif name == "var":
            text = ctx.variable(ctx.interpolate(value))
            ctx.write(_encode("(none)" if text is None else text, encoding))
        else:
            ctx.error(f"unknown parameter \"{name}\" to tag echo")
            return


def _encode(text: str, encoding: str) -> str:
    if encoding == "entity":
        return html.escape(text, quote=True)
    if encoding == "url":
        return urllib.parse.quote(text, safe="/")
    if encoding == "urlencoded":
        return urllib.parse.quote_plus(text)
    if encoding == "base64":
        import base64

        return base64.b64encode(text.encode("utf-8", "surrogateescape")).decode("ascii")
    return text


def _set(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    var = None
    for name, value in attributes:
        if name == "var":
            var = ctx.interpolate(value)
        elif name == "value" and var is not None:
            ctx.req.subprocess_env[var] = ctx.interpolate(value)
        elif name != "decoding":
            ctx.error(f"Invalid tag for set directive: {name}")
            return


def _printenv(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    for key, value in ctx.req.subprocess_env.items():
        text = value if isinstance(value, str) else "(none)"
        ctx.write(html.escape(f"{key}={text}", quote=True) + "\n")


def _config(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    for name, value in attributes:
        if name == "errmsg":
            ctx.errmsg = ctx.interpolate(value)
        elif name == "timefmt":
            ctx.timefmt = ctx.interpolate(value)
        elif name == "sizefmt" and value.lower() in ("bytes", "abbrev"):
            ctx.sizefmt = value.lower()
        elif name == "echomsg":
            continue
        else:
            ctx.error(f"unknown parameter \"{name}\" to tag config")
            return


# -- files ------------------------------------------------------------------------------


def _target(ctx: Context, name: str, value: str) -> Optional[str]:
    """The file of `file=` (relative to the document, no `..`) or `virtual=` (a URL path
    below the document root), or None after reporting why not."""
    req = ctx.req
    value = ctx.interpolate(value)
    if name == "file":
        if value.startswith("/") or ".." in value.split("/"):
            ctx.error(f"unable to include file \"{value}\": a file= path must be relative "
                      f"and stay below the document's directory")
            return None
        return os.path.join(os.path.dirname(req.filename or ""), value)
    if name == "virtual":
        base = os.path.dirname(req.uri) if not value.startswith("/") else ""
        path = os.path.normpath(os.path.join(base or "/", urllib.parse.unquote(value)))
        aliased = req.vhost.map_alias(path)  # mod_alias first, as a subrequest would
        if aliased is not None:
            return aliased[0] + aliased[1]
        return os.path.join(req.document_root(), path.lstrip("/"))
    ctx.error(f"unknown parameter \"{name}\" to tag include")
    return None


def _static(ctx: Context, path: str, value: str) -> bool:
    """A file that include may copy: regular, under the document root or an Alias
    directory, not a script to run."""
    req = ctx.req
    roots = [req.document_root(), *(real for _, real in req.vhost.url_aliases)]
    if not os.path.isfile(path) or not any(req.runtime.is_servable(root, path)
                                           for root in roots):
        ctx.error(f"unable to include \"{value}\": no such file below the document root "
                  "or an Alias")
        return False
    if path.endswith(".py"):
        ctx.error(f"unable to include \"{value}\": prefork-modpy has no subrequests, so "
                  "an included handler is not run (and its source is never sent)")
        return False
    return True


def _include(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    for name, value in attributes:
        path = _target(ctx, name, value)
        if path is None or not _static(ctx, path, value):
            continue
        with open(path, "rb") as handle:
            content = handle.read()
        if path.endswith((".shtml", ".stm")):  # an included SSI document is parsed too
            real = os.path.realpath(path)
            if real in ctx.chain or len(ctx.chain) >= MAX_NESTING:
                ctx.error(f"recursive or too deep include of \"{value}\"")
                continue
            process(Context(ctx.filter, ctx.noexec, ctx.chain + (real,)), content)
        else:
            ctx.write(content)


def _flastmod(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    for name, value in attributes:
        path = _target(ctx, name, value)
        if path is not None and _static(ctx, path, value):
            ctx.write(time.strftime(ctx.timefmt, time.localtime(os.path.getmtime(path))))


def _fsize(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    for name, value in attributes:
        path = _target(ctx, name, value)
        if path is not None and _static(ctx, path, value):
            size = os.path.getsize(path)
            ctx.write(f"{size:,}" if ctx.sizefmt == "bytes" else _abbrev(size))


def _abbrev(size: int) -> str:
    """apr_strfsize's form, as mod_include's default sizefmt."""
    if size < 973:
        return f"{size:3d} "
    for unit in "KMGTPE":
        size_f = size / 1024
        if size_f < 973 or unit == "E":
            return f"{size_f:3.1f}{unit}" if size_f < 9.95 else f"{round(size_f):3d}{unit}"
        size = int(size_f)
    return str(size)


# -- conditionals ------------------------------------------------------------------------


def _expression(ctx: Context, attributes: list[tuple[str, str]], element: str) -> bool:
    """The expression's value; one that cannot be evaluated writes the error and counts as
    true, as httpd's handle_if leaves the branch printing."""
    for name, value in attributes:
        if name == "expr":
            try:
                return _Expression(ctx, value).parse()
            except ValueError as exc:
                ctx.error(f"Could not parse expr \"{value}\": {exc}")
                return True
    ctx.error(f"missing expr in {element} element")
    return True


def _if(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    outside = ctx.printing
    taken = _expression(ctx, attributes, "if") if outside else True
    ctx.conditions.append((outside, taken))
    ctx.printing = outside and taken


def _elif(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    if not ctx.conditions:
        ctx.error("elif without matching if")
        return
    outside, taken = ctx.conditions[-1]
    matched = not taken and outside and _expression(ctx, attributes, "elif")
    ctx.conditions[-1] = (outside, taken or matched)
    ctx.printing = matched


def _else(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    if not ctx.conditions:
        ctx.error("else without matching if")
        return
    outside, taken = ctx.conditions[-1]
    ctx.conditions[-1] = (outside, True)
    ctx.printing = outside and not taken


def _endif(ctx: Context, attributes: list[tuple[str, str]]) -> None:
    if not ctx.conditions:
        ctx.error("endif without matching if")
        return
    outside, _ = ctx.conditions.pop()
    ctx.printing = outside


_TOKEN = re.compile(r"""\s*(%\{[^}]*\}|v\(\s*'[^']*'\s*\)|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|"""
                    r"""/(?:[^/\\]|\\.)*/|==|!=|<=|>=|=~|!~|&&|\|\||-[nz]\b|[!()<>=]|[^\s()]+)""")


class _Expression:
    """ap_expr's common forms, by recursive descent: or -> and -> not -> comparison."""

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx = ctx
        self.tokens = [t for t in _TOKEN.findall(text) if t.strip()]
        self.at = 0

    def parse(self) -> bool:
        value = self._or()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at]!r}")
        return value

    def _peek(self) -> Optional[str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ValueError("unexpected end")
        self.at += 1
        return token

    def _or(self) -> bool:
        value = self._and()
        while self._peek() == "||":
            self._take()
            value = self._and() or value
        return value

    def _and(self) -> bool:
        value = self._not()
        while self._peek() == "&&":
            self._take()
            value = self._not() and value
        return value

    def _not(self) -> bool:
        token = self._peek()
        if token == "!":
            self._take()
            return not self._not()
        if token == "(":
            self._take()
            value = self._or()
            if self._take() != ")":
                raise ValueError("missing )")
            return value
        if token in ("-n", "-z"):
            self._take()
            word = self._word()
            return bool(word) if token == "-n" else not word
        return self._comparison()

    def _comparison(self) -> bool:
        left = self._word()
        operator = self._peek()
        if operator in ("==", "=", "!=", "<", ">", "<=", ">="):
            self._take()
            right = self._word()
            return {"==": left == right, "=": left == right, "!=": left != right,
                    "<": left < right, ">": left > right, "<=": left <= right,
                    ">=": left >= right}[operator]
        if operator in ("=~", "!~"):
            self._take()
            pattern = self._take()
            if not (pattern.startswith("/") and pattern.endswith("/") and len(pattern) > 1):
                raise ValueError("a regular expression is written /.../")
            found = re.search(pattern[1:-1], left) is not None
            return found if operator == "=~" else not found
        return bool(left)

    def _word(self) -> str:
        token = self._take()
        if token.startswith("%{") and token.endswith("}"):
            return expr_variable(self.ctx.req, token[2:-1])
        if token.startswith("v("):
            return self.ctx.variable(token[token.index("'") + 1:token.rindex("'")]) or ""
        if token[:1] in ("'", "\"") and token[-1:] == token[:1] and len(token) > 1:
            return self.ctx.interpolate(token[1:-1])
        if token in ("(", ")", "!", "&&", "||") or token.startswith("/"):
            raise ValueError(f"unexpected {token!r}")
        return token


# ap_expr's request variables (server/util_expr_eval.c request_var_names) this module knows;
# SSI's own variables are read with v('name').
_REQUEST_VARIABLES: dict[str, Callable[[Any], Optional[str]]] = {
    "REQUEST_METHOD": lambda req: req.method,
    "REQUEST_SCHEME": lambda req: scheme_of(req.raw),
    "REQUEST_URI": lambda req: req.uri,
    "DOCUMENT_URI": lambda req: req.uri,
    "REQUEST_FILENAME": lambda req: req.filename,
    "SCRIPT_FILENAME": lambda req: req.filename,
    "QUERY_STRING": lambda req: req.args,
    "PATH_INFO": lambda req: req.path_info,
    "THE_REQUEST": lambda req: req.the_request,
    "SERVER_PROTOCOL": lambda req: req.protocol,
    "SERVER_NAME": lambda req: req.server.server_hostname,
    "SERVER_ADMIN": lambda req: req.server.server_admin,
    "DOCUMENT_ROOT": lambda req: req.document_root(),
    "REMOTE_ADDR": lambda req: req.useragent_ip,
    "REMOTE_USER": lambda req: req.user,
    "AUTH_TYPE": lambda req: req.ap_auth_type,
    "HANDLER": lambda req: req.handler,
    "HTTPS": lambda req: "on" if scheme_of(req.raw) == HTTPS else "off",
    "IPV6": lambda req: "on" if ":" in req.connection.local_ip else "off",
}


def expr_variable(req: Any, name: str) -> str:
    """`%{NAME}` in an ap_expr: HTTP_* request headers, the request variables above, and
    `%{reqenv:x}`, `%{env:x}`, `%{osenv:x}`, `%{note:x}`, `%{req:Header}`/`%{http:Header}`;
    any other name is the parse error httpd gives."""
    kind, colon, argument = name.partition(":")
    if colon:
        return _prefixed_variable(req, kind.lower(), argument, name)
    if name.startswith("HTTP_"):
        return req.headers_in.get(name[5:].replace("_", "-")) or ""
    lookup = _REQUEST_VARIABLES.get(name)
    if lookup is None:
        raise ValueError(f"Variable '{name}' does not exist")
    return lookup(req) or ""


def _prefixed_variable(req: Any, kind: str, argument: str, name: str) -> str:
    if kind == "reqenv":
        value = req.subprocess_env.get(argument)
    elif kind == "env":
        value = req.notes.get(argument) or req.subprocess_env.get(argument) \
            or os.environ.get(argument)
    elif kind == "osenv":
        value = os.environ.get(argument)
    elif kind == "note":
        value = req.notes.get(argument)
    elif kind in ("req", "http"):
        value = req.headers_in.get(argument)
    elif kind == "resp":
        value = req.headers_out.get(argument)
    else:
        raise ValueError(f"Variable '{name}' does not exist")
    return value if isinstance(value, str) else ""


_CONDITIONALS: dict[str, Element] = {"if": _if, "elif": _elif, "else": _else, "endif": _endif}
ELEMENTS: dict[str, Element] = {
    "echo": _echo, "set": _set, "printenv": _printenv, "config": _config,
    "include": _include, "flastmod": _flastmod, "fsize": _fsize,
}
