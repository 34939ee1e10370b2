"""mod_rewrite at request time: the translate_name hook (server and virtual host context)
and the fixup hook (per-directory context, ending in an internal redirect).

Owns applying a rule list as mod_rewrite.c's apply_rewrite_list / apply_rewrite_rule /
apply_rewrite_cond do: pattern against the URL path (per-directory: the file path with the
directory prefix stripped, re-added after substitution), conditions with [OR] chains and
%N, expansion of $N, %N, %{VAR}, %{HTTP:h}, %{ENV:v} and ${map:key|default}, the query
string (QSA/QSD), [R] (fully qualified, escaped unless [NE]), [F]/[G], [PT], [E=], [T=],
[C], [S], [L], [END], and the per-directory result (RewriteBase or DocumentRoot stripping,
"initial URL equal rewritten URL" loop guard). Must not know phases or handlers: the
dispatcher calls `translate` and `fixup` and performs the internal redirect.
"""

from __future__ import annotations

import os
import stat
import time
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import quote, unquote

from mod_python import apache

from ..config.rewrite import Condition, InternalMap, RewriteSettings, Rule, TextMap
from . import cgienv
from .forwardedproto import HTTPS, scheme_of

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec

OK, DECLINED = apache.OK, apache.DECLINED
# apply_rewrite_list's answers.
ACTION_NONE, ACTION_NORMAL, ACTION_NOESCAPE, ACTION_STATUS = 0, 1, 2, 3
# ap_os_escape_path's characters left as they are (gen_test_char.c T_OS_ESCAPE_PATH).
_PATH_SAFE = "$-_.+!*'(),:@&=/~"
# is_absolute_uri: the schemes mod_rewrite recognises (length of "scheme://" or "scheme:").
_SCHEMES = ("http://", "https://", "ftp://", "ws://", "wss://", "ldap://", "gopher://",
            "nntp://", "ajp://", "balancer://", "fcgi://", "scgi://", "h2://", "h2c://",
            "mailto:", "news:")
# Request headers whose variables add to Vary (lookup_variable's HTTP_* names).
_FORBIDDEN_SYMLINKS = ("Options FollowSymLinks and SymLinksIfOwnerMatch are both off, so the "
                       "RewriteRule directive is also forbidden due to its similar ability "
                       "to circumvent directory restrictions : ")


class _Context:
    """One pass over a rule list: the request, r->filename and r->args as the rules change
    them, the per-directory prefix, backreferences and the Vary names collected."""

    __slots__ = ("req", "filename", "args", "original_args", "perdir", "status", "maps",
                 "rule_groups", "cond_groups", "vary", "vary_this", "mime_type")

    def __init__(self, req: RequestRec, filename: str, perdir: Optional[str],
                 maps: dict) -> None:
        self.req = req
        self.filename = filename
        self.args: Optional[str] = req.args
        self.original_args = req.args
        self.perdir = perdir
        self.status = 0
        self.maps = maps
        self.rule_groups: tuple[Optional[str], ...] = ()
        self.cond_groups: tuple[Optional[str], ...] = ()
        self.vary: list[str] = []
        self.vary_this: list[str] = []
        self.mime_type: Optional[str] = None


# -- the hooks ------------------------------------------------------------------------------

def _apply(req: RequestRec, ctx: _Context, rules: tuple[Rule, ...]) -> int:
    """Run the rules, then what both hooks do with any outcome: Vary for the headers the
    conditions read, T='s type, and the rewritten query string when a rule applied."""
    status = _apply_list(ctx, rules)
    _add_vary(ctx)
    if ctx.mime_type:
        req.content_type = ctx.mime_type
    if status != ACTION_NONE:
        req.args = ctx.args
    return status


def translate(req: RequestRec, conf: RewriteSettings) -> Optional[int]:
    """hook_uri2file: None when the rules decline (or pass through with [PT], after
    changing req.uri); OK with req.filename set; or an HTTP status (redirect, 403, ...)."""
    if _ended(req):
        return None
    _script_url_env(req)
    ctx = _Context(req, req.uri, None, conf.maps)
    status = _apply(req, ctx, conf.rules)
    if status == ACTION_NONE:
        return None
    if status == ACTION_STATUS:
        return ctx.status
    filename = ctx.filename
    if _absolute(filename):
        return _redirect(req, ctx, status)
    if filename.startswith("passthrough:"):
        req.uri = filename[len("passthrough:"):]
        return None
    if not filename.startswith("/"):
        return apache.HTTP_BAD_REQUEST
    if not _prefix_exists(filename):
        filename = req.vhost.document_root.rstrip("/") + filename
    req.rewritten_filename = filename
    return OK


def fixup(req: RequestRec, settings: DirSettings) -> int:
    """hook_fixup: OK with req.rewrite_redirect set (the internal redirect to perform in
    the content phase), DECLINED, or an HTTP status."""
    conf = settings.rewrite
    assert conf is not None and conf.directory is not None
    if _ended(req) or req.filename is None:
        return DECLINED
    if not {"followsymlinks", "symlinksifownermatch"} & settings.effective_options:
        req.log_error(_FORBIDDEN_SYMLINKS + req.filename)
        return apache.HTTP_FORBIDDEN
    original = req.filename
    ctx = _Context(req, original, conf.directory, req.vhost.rewrite.maps
                   if req.vhost.rewrite is not None else {})
    status = _apply(req, ctx, conf.rules)
    if status == ACTION_NONE:
        return DECLINED
    if status == ACTION_STATUS:
        return ctx.status
    filename = ctx.filename
    if _absolute(filename):
        if conf.base is not None:
            filename = _replace_base_in_url(filename, conf.directory, conf.base)
            ctx.filename = filename
        return _redirect(req, ctx, status)
    if filename == original:  # "initial URL equal rewritten URL: [IGNORING REWRITE]"
        return OK
    if conf.base is not None:
        filename = _subst_prefix(filename, conf.directory, conf.base)
    else:
        # DocumentRoot is stripped; failing that, an Alias's directory maps back to its URL
        # prefix (ap_context_prefix, httpd 2.4.16+).
        root = req.vhost.document_root.rstrip("/")
        alias_root = (req.alias_root or "").rstrip("/")
        if filename.startswith(root + "/"):
            filename = filename[len(root):]
        elif alias_root and filename.startswith(alias_root + "/"):
            filename = _context_prefix(req) + filename[len(alias_root):]
    query = f"?{ctx.args}" if ctx.args is not None else ""
    req.rewrite_redirect = filename + query
    return OK


def _prefix_exists(path: str) -> bool:
    """prefix_stat: whether the first segment of `path` exists in the file system, which
    makes the result a file path rather than a URL path under DocumentRoot."""
    first = "/" + path[1:].partition("/")[0]
    try:
        os.stat(first)
    except (OSError, ValueError):
        return False
    return True


def _context_prefix(req: RequestRec) -> str:
    """The URL prefix of the Alias the request was mapped through ("" under DocumentRoot)."""
    alias_root = req.alias_root
    if alias_root is None:
        return ""
    for fake, real in req.vhost.url_aliases:
        if real.rstrip("/") == alias_root.rstrip("/"):
            return fake.rstrip("/")
    return ""


def _ended(req: RequestRec) -> bool:
    """[END] in this request or one it was redirected from (they share httpd's pool)."""
    current: Optional[RequestRec] = req
    while current is not None:
        if current.rewrite_end:
            return True
        current = current.prev
    return False


# -- rule lists -----------------------------------------------------------------------------

def _apply_list(ctx: _Context, rules: tuple[Rule, ...]) -> int:
    changed = ACTION_NONE
    index = 0
    while index < len(rules):
        rule = rules[index]
        matched = _apply_rule(ctx, rule)
        if matched:
            ctx.vary.extend(name for name in ctx.vary_this if name not in ctx.vary)
            if rule.status or (rule.redirect and not 300 <= rule.redirect < 400):
                ctx.status = rule.status or rule.redirect
                return ACTION_STATUS
            if matched == 1:
                changed = ACTION_NOESCAPE if rule.noescape else ACTION_NORMAL
            if rule.passthrough:
                ctx.filename = "passthrough:" + ctx.filename
                changed = ACTION_NORMAL
                break
            if rule.end:
                ctx.req.rewrite_end = True
                break
            if rule.last:
                break
            index += rule.skip
        else:
            while index < len(rules) and rules[index].chain:
                index += 1
        index += 1
    return changed


def _match_input(ctx: _Context) -> str:
    """What a rule's pattern sees: the URL path, or per directory the file path plus
    path_info with the directory prefix stripped."""
    text = ctx.filename
    perdir = ctx.perdir
    if perdir is None:
        return text
    path_info = ctx.req.path_info
    if path_info:
        text += path_info
    if len(text) >= len(perdir) and text.startswith(perdir):
        return text[len(perdir):]
    return text


def _apply_rule(ctx: _Context, rule: Rule) -> int:
    """0: no match; 1: matched and substituted; 2: matched a "-" rule."""
    subject = _match_input(ctx)
    match = rule.regex.search(subject)
    if (match is None) != rule.negate:
        return 0
    ctx.rule_groups = _groups(match) if match is not None and not rule.negate else ()
    ctx.cond_groups = ()
    ctx.vary_this = []
    if not _conditions(ctx, rule.conditions):
        return 0
    _set_env(ctx, rule.env)
    if rule.substitution is None:
        if rule.mime_type:
            ctx.mime_type = rule.mime_type
        return 2
    ctx.filename = expand(ctx, rule.substitution)
    _split_query(ctx, rule)
    if ctx.perdir is not None and not ctx.filename.startswith("/") \
            and not _absolute(ctx.filename):
        ctx.filename = ctx.perdir + ctx.filename
    if rule.redirect:
        ctx.filename = _fully_qualify(ctx.req, ctx.filename)
        ctx.status = rule.redirect
        return 1
    ctx.filename = _reduce(ctx.req, ctx.filename)
    if rule.mime_type:
        ctx.mime_type = rule.mime_type
    return 1


def _groups(match: Any) -> tuple[Optional[str], ...]:
    count = len(match.groups()) if hasattr(match, "groups") else 0
    return tuple(match.group(i) for i in range(count + 1))


def _conditions(ctx: _Context, conditions: tuple[Condition, ...]) -> bool:
    index = 0
    while index < len(conditions):
        cond = conditions[index]
        ok = _condition(ctx, cond)
        if cond.novary:
            ctx.vary_this = []
        if cond.ornext:
            if not ok:
                ctx.vary_this = []
                index += 1
                continue
            while index < len(conditions) and conditions[index].ornext:
                index += 1
        elif not ok:
            return False
        index += 1
    return True


def _condition(ctx: _Context, cond: Condition) -> bool:
    value = expand(ctx, cond.test)
    kind = cond.kind
    if kind == "regex":
        assert cond.regex is not None
        match = cond.regex.search(value)
        result = match is not None
        if result and not cond.negate:
            ctx.cond_groups = _groups(match)
    elif kind.startswith("-") and len(kind) == 2:
        result = _file_test(kind, value)
    elif kind in ("-eq", "-lt", "-le", "-gt", "-ge"):
        left, right = _atoi(value), _atoi(cond.operand)
        result = {"-eq": left == right, "-lt": left < right, "-le": left <= right,
                  "-gt": left > right, "-ge": left >= right}[kind]
    elif kind == "=":
        result = (value.lower() == cond.operand.lower()) if cond.nocase \
            else value == cond.operand
    else:
        left_b, right_b = value.encode(), cond.operand.encode()
        result = {"<": left_b < right_b, "<=": left_b <= right_b, ">": left_b > right_b,
                  ">=": left_b >= right_b}[kind]
    return result != cond.negate


def _file_test(kind: str, path: str) -> bool:
    try:
        info = os.lstat(path) if kind == "-l" else os.stat(path)
    except (OSError, ValueError):
        return False
    mode = info.st_mode
    if kind == "-f":
        return stat.S_ISREG(mode)
    if kind == "-s":
        return stat.S_ISREG(mode) and info.st_size > 0
    if kind == "-d":
        return stat.S_ISDIR(mode)
    if kind == "-l":
        return stat.S_ISLNK(mode)
    return bool(mode & 0o111)  # -x


def _atoi(text: str) -> int:
    """C's atoi: leading blanks, a sign, digits; anything else ends the number."""
    text = text.lstrip()
    end = 1 if text[:1] in "+-" else 0
    while end < len(text) and text[end].isdigit():
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


def _set_env(ctx: _Context, assignments: tuple[str, ...]) -> None:
    """[E=VAR:VAL] / [E=VAR] / [E=!VAR] (do_expand_env)."""
    env = ctx.req.subprocess_env
    for item in assignments:
        text = expand(ctx, item)
        if text.startswith("!"):
            if text[1:] in env:
                del env[text[1:]]
            continue
        name, _, value = text.partition(":")
        env[name] = value


# -- expansion ------------------------------------------------------------------------------

def expand(ctx: _Context, text: str) -> str:
    """do_expand: `\\x`, $N, %N, %{VAR}, ${map:key|default}."""
    if "$" not in text and "%" not in text and "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if char == "$" and nxt.isdigit():
            out.append(_backref(ctx.rule_groups, int(nxt)))
            i += 2
        elif char == "%" and nxt.isdigit():
            out.append(_backref(ctx.cond_groups, int(nxt)))
            i += 2
        elif char == "%" and nxt == "{":
            end = _closing(text, i + 2)
            if end < 0:
                out.append(char)
                i += 1
                continue
            out.append(variable(ctx, text[i + 2:end]))
            i = end + 1
        elif char == "$" and nxt == "{":
            end = _closing(text, i + 2)
            if end < 0 or ":" not in text[i + 2:end]:
                out.append(char)
                i += 1
                continue
            out.append(_map_lookup(ctx, text[i + 2:end]))
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The `}` closing a `{` whose content starts at `start` (nested braces counted)."""
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _backref(groups: tuple[Optional[str], ...], number: int) -> str:
    if number < len(groups):
        return groups[number] or ""
    return ""


def variable(ctx: _Context, name: str) -> str:
    """lookup_variable: the server variables mod_rewrite documents."""
    req = ctx.req
    upper = name.upper()
    if upper.startswith("HTTP:"):
        header = name[5:]
        ctx.vary_this.append(header)
        return req.headers_in.get(header) or ""
    if upper.startswith("ENV:"):
        key = name[4:]
        value = req.subprocess_env.get(key)
        return value if value is not None else os.environ.get(key, "")
    if upper.startswith("SSL:"):
        return ""
    if upper.startswith("HTTP_"):
        header = upper[5:].replace("_", "-").title()
        ctx.vary_this.append(header)
        return req.headers_in.get(header) or ""
    if upper.startswith("TIME"):
        return _time_variable(upper)
    getter = _VARIABLES.get(upper)
    return getter(ctx) if getter is not None else ""


def _time_variable(name: str) -> str:
    now = time.localtime()
    parts = {"TIME_YEAR": f"{now.tm_year:04d}", "TIME_MON": f"{now.tm_mon:02d}",
             "TIME_DAY": f"{now.tm_mday:02d}", "TIME_HOUR": f"{now.tm_hour:02d}",
             "TIME_MIN": f"{now.tm_min:02d}", "TIME_SEC": f"{now.tm_sec:02d}",
             "TIME_WDAY": str((now.tm_wday + 1) % 7)}
    if name == "TIME":
        return "".join(parts[key] for key in ("TIME_YEAR", "TIME_MON", "TIME_DAY",
                                              "TIME_HOUR", "TIME_MIN", "TIME_SEC"))
    return parts.get(name, "")


def _request_filename(ctx: _Context) -> str:
    """r->filename as the rules have left it (in server context it starts as r->uri)."""
    return ctx.filename


_VARIABLES: dict[str, Any] = {
    "REMOTE_ADDR": lambda ctx: ctx.req.raw.remote_addr[0],
    "REMOTE_HOST": lambda ctx: ctx.req.raw.remote_addr[0],
    "REMOTE_PORT": lambda ctx: str(ctx.req.raw.remote_addr[1]),
    "REMOTE_USER": lambda ctx: ctx.req.user or "",
    "REMOTE_IDENT": lambda ctx: "",
    "REQUEST_METHOD": lambda ctx: ctx.req.method,
    "REQUEST_SCHEME": lambda ctx: scheme_of(ctx.req.raw),  # -- forwardedproto --
    "REQUEST_URI": lambda ctx: ctx.req.uri,
    "REQUEST_FILENAME": _request_filename,
    "SCRIPT_FILENAME": _request_filename,
    "PATH_INFO": lambda ctx: ctx.req.path_info or "",
    "QUERY_STRING": lambda ctx: ctx.req.args or "",
    "AUTH_TYPE": lambda ctx: ctx.req.ap_auth_type or "",
    "IS_SUBREQ": lambda ctx: "false",
    "HTTPS": lambda ctx: "on" if scheme_of(ctx.req.raw) == HTTPS else "off",
    "DOCUMENT_ROOT": lambda ctx: ctx.req.vhost.document_root,
    "CONTEXT_DOCUMENT_ROOT": lambda ctx: ctx.req.alias_root or ctx.req.vhost.document_root,
    "CONTEXT_PREFIX": lambda ctx: _context_prefix(ctx.req),
    "SERVER_ADMIN": lambda ctx: ctx.req.vhost.server_admin or "",
    "SERVER_NAME": lambda ctx: cgienv.server_name(ctx.req),
    "SERVER_ADDR": lambda ctx: ctx.req.raw.local_addr[0],
    "SERVER_PORT": lambda ctx: str(cgienv.server_port(ctx.req)),
    "SERVER_PROTOCOL": lambda ctx: ctx.req.protocol,
    "SERVER_SOFTWARE": lambda ctx: ctx.req.runtime.config.server_banner,
    "THE_REQUEST": lambda ctx: ctx.req.the_request,
    "API_VERSION": lambda ctx: "20120211:140",
}


def _map_lookup(ctx: _Context, text: str) -> str:
    """`${map:key|default}`; an unknown map gives the default, as httpd (which logs it)."""
    name, _, rest = text.partition(":")
    key_text, bar, default_text = rest.partition("|")
    key = expand(ctx, key_text)
    rewrite_map = ctx.maps.get(name)
    value: Optional[str] = None
    if isinstance(rewrite_map, InternalMap):
        value = _internal(rewrite_map.function, key)
    elif isinstance(rewrite_map, TextMap):
        value = _text_map(rewrite_map.path).get(key)
    else:
        ctx.req.log_error(f"mod_rewrite: map lookup FAILED: map={name} key={key}")
    if value is None:
        return expand(ctx, default_text) if bar else ""
    return value


def _internal(function: str, key: str) -> str:
    if function == "toupper":
        return key.upper()
    if function == "tolower":
        return key.lower()
    if function == "escape":
        return quote(key, safe=_PATH_SAFE)
    return unquote(key)


_TEXT_MAPS: dict[str, tuple[int, dict[str, str]]] = {}


def _text_map(path: str) -> dict[str, str]:
    """A txt map's `key value` lines (first key wins, # comments), re-read when its
    modification time changes (httpd's map cache does the same)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    cached = _TEXT_MAPS.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    table: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for line in handle:
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                table.setdefault(words[0], words[1])
    _TEXT_MAPS[path] = (mtime, table)
    return table


# -- results --------------------------------------------------------------------------------

def _split_query(ctx: _Context, rule: Rule) -> None:
    """splitout_queryargs: a `?` in the result replaces (or with QSA prefixes) the query."""
    filename = ctx.filename
    scheme = _scheme_length(filename)
    if scheme and filename[:scheme] in ("mailto:", "news:"):
        ctx.args = None
        return
    if rule.qsdiscard:
        ctx.args = None
    cut = filename.find("?", scheme)
    if cut < 0:
        return
    query = filename[cut + 1:]
    ctx.filename = filename[:cut]
    if rule.qsappend:
        if query:
            ctx.args = f"{query}&{ctx.args}" if ctx.args is not None else f"{query}&"
    else:
        ctx.args = query
    if ctx.args is not None:
        if not ctx.args:
            ctx.args = None
        elif ctx.args.endswith("&"):
            ctx.args = ctx.args[:-1]


def _scheme_length(text: str) -> int:
    lower = text[:12].lower()
    for scheme in _SCHEMES:
        if lower.startswith(scheme):
            return len(scheme)
    return 0


def _absolute(text: str) -> bool:
    return _scheme_length(text) > 0


def _fully_qualify(req: RequestRec, filename: str) -> str:
    if _absolute(filename):
        return filename
    port = cgienv.server_port(req)
    host = cgienv.server_name(req) + ("" if port == 80 else f":{port}")
    return f"http://{host}{'' if filename.startswith('/') else '/'}{filename}"


def _reduce(req: RequestRec, filename: str) -> str:
    """reduce_uri: http://<this host>[:<this port>]/path becomes /path."""
    if not filename[:7].lower() == "http://":
        return filename
    rest = filename[7:]
    authority, slash, path = rest.partition("/")
    host, _, port_text = authority.partition(":")
    port = int(port_text) if port_text.isdigit() else 80
    names = {req.vhost.server_name.lower(), (req.hostname or "").lower(),
             *(alias.lower() for alias in req.vhost.aliases)}
    if host.lower() in names and port == cgienv.server_port(req):
        return "/" + path if slash else "/"
    return filename


def _escape_absolute(url: str) -> str:
    """escape_absolute_uri: the part after scheme://host/ through ap_escape_uri."""
    scheme = _scheme_length(url)
    if not url[:scheme].endswith("/"):
        return url[:scheme] + quote(url[scheme:], safe=_PATH_SAFE)
    slash = url.find("/", scheme)
    if slash < 0 or slash + 1 >= len(url):
        return url
    return url[:slash + 1] + quote(url[slash + 1:], safe=_PATH_SAFE)


def _redirect(req: RequestRec, ctx: _Context, status: int) -> int:
    url = ctx.filename
    if status != ACTION_NOESCAPE:
        url = _escape_absolute(url)
    if ctx.args is not None:
        keep = status == ACTION_NOESCAPE or ctx.args == ctx.original_args
        url += "?" + (ctx.args if keep else quote(ctx.args, safe=_PATH_SAFE))
    code = ctx.status if 300 <= ctx.status < 400 else apache.HTTP_MOVED_TEMPORARILY
    req.headers_out["Location"] = url
    return code


def _subst_prefix(path: str, match: str, subst: str) -> str:
    """subst_prefix_path: `match` (a directory) at the start of `path` becomes `subst`."""
    prefix = match[:-1] if match.endswith("/") else match
    if path.startswith(prefix) and path[len(prefix):len(prefix) + 1] == "/":
        rest = path[len(prefix) + 1:]
        return (subst if subst.endswith("/") else subst + "/") + rest
    return path


def _replace_base_in_url(url: str, directory: str, base: str) -> str:
    """hook_fixup's per-directory [R]: the directory in the URL's path becomes RewriteBase."""
    scheme = _scheme_length(url)
    slash = url.find("/", scheme)
    if slash < 0 or slash + 1 >= len(url):
        return url
    path = url[slash + 1:]
    replaced = _subst_prefix(path, directory.lstrip("/"), base[1:])
    return url[:slash + 1] + replaced if replaced != path else url


def _add_vary(ctx: _Context) -> None:
    if ctx.vary:
        headers = ctx.req.headers_out
        current = headers.get("Vary")
        names = ", ".join(ctx.vary)
        headers["Vary"] = f"{current}, {names}" if current else names


def _script_url_env(req: RequestRec) -> None:
    """SCRIPT_URL and SCRIPT_URI, which hook_uri2file sets when the engine is on."""
    env = req.subprocess_env
    url = env.get("REDIRECT_SCRIPT_URL") or req.uri
    env["SCRIPT_URL"] = url
    env["SCRIPT_URI"] = _fully_qualify(req, url)
