"""CGI variables: `req.add_common_vars()` and `req.add_cgi_vars()`.

Owns what httpd's `ap_add_common_vars` (util_script.c) and mod_python 3.5's
`req_add_cgi_vars` put into `req.subprocess_env`: request headers as `HTTP_*` (names with
characters other than letters, digits and `-` are skipped; `Authorization` and `Proxy` never
exported), `CONTENT_TYPE`/`CONTENT_LENGTH`, the server's and the client's addresses, then the
CGI/1.1 request variables. mod_python 3.4+ fills nothing until a handler asks. A table
nobody holds yet is left to be made from the variables when first used (the record's
deferred_env: mod_python.wsgi's environ is a dict of them); per worker, the server's
variables are kept keyed on every value they are made of. Must not change what the
variables are or their order.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from ..runtime.table import Table
from .forwardedproto import HTTPS, scheme_of

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
_SKIPPED = frozenset({"authorization", "proxy-authorization", "proxy"})


def http2env(name: str) -> Optional[str]:
    """`X-Forwarded-For` → `HTTP_X_FORWARDED_FOR`; None for names httpd will not export."""
    if not name.replace("-", "").isalnum() or not name.isascii():
        return None
    return "HTTP_" + name.upper().replace("-", "_")


def server_name(req: RequestRec) -> str:
    """ap_get_server_name_for_url with UseCanonicalName Off: the request's host name,
    bracketed if it is an IPv6 literal."""
    name = req.hostname or req.server.server_hostname
    return f"[{name}]" if ":" in name else name


def server_port(req: RequestRec) -> int:
    """ap_get_server_port with UseCanonicalName Off: the port of the Host header, else the
    ServerName's, else the scheme's default (ap_default_port: 443 for https)."""
    return _port(req, req.headers_in.get("Host"))


# -- forwardedproto (X-Forwarded-Proto) --
def default_port(req: RequestRec) -> int:
    return 443 if scheme_of(req.raw) == HTTPS else 80


def host_port(host: Optional[str]) -> Optional[int]:
    """The port of a Host header value (`[::1]:80`, `a:8080`), None without one."""
    host = host or ""
    rest = host.rpartition("]")[2] if host.startswith("[") else host
    _, colon, digits = rest.rpartition(":")
    return int(digits) if colon and digits.isdigit() else None


def common_vars(req: RequestRec) -> list[tuple[str, str]]:
    """The variables of ap_add_common_vars, in httpd's order. Header values may hold any
    character (they were sent as UTF-8), so the pairs bypass the table's Latin-1 check."""
    return _common_vars(req)[0]


def _common_vars(req: RequestRec, untouched: Optional[bool] = None
                 ) -> tuple[list[tuple[str, str]], bool]:
    """common_vars() and whether their names are all different. `untouched`: what
    req.subprocess_env_untouched() says, when the caller asked already."""
    env: list[tuple[str, str]] = []
    host, unique = _header_vars(req, env)
    if untouched is None:
        untouched = req.subprocess_env_untouched()
    path = None if untouched else req.subprocess_env.get("PATH")
    env.append(("PATH", path or os.environ.get("PATH") or DEFAULT_PATH))
    scheme = scheme_of(req.raw)
    before, after = _server_vars(req, host, scheme)
    env += before
    remote_ip = req.useragent_ip
    if remote_ip is not None:
        env.append(("REMOTE_ADDR", remote_ip))
    env += after
    # httpd adds SCRIPT_FILENAME even before translation, with a NULL value that mod_python's
    # table reads as None (tableobject.c table_subscript)
    env.append(("SCRIPT_FILENAME", req.filename))  # type: ignore[arg-type]
    env.append(("REMOTE_PORT", str(_client_port(req))))
    _add_user_vars(req, env)
    if scheme == HTTPS:
        env.append(("HTTPS", "on"))  # mod_ssl's variable, which wsgi.url_scheme reads
    return env, unique


def _header_vars(req: RequestRec, env: list[tuple[str, str]]) -> tuple[Optional[str], bool]:
    """Append the HTTP_* and CONTENT_* variables of headers_in to `env`; return its Host
    and whether the variables' names are all different. While headers_in was never made
    the headers are read as sent: the same pairs, since headers_in is those headers with
    repeated names merged, and a repeated name sends the request to headers_in itself.
    (Different names give different variables: a name is letters, digits and `-`.)"""
    sent = req.sent_headers()
    if sent is not None:
        start = len(env)
        names: set[str] = set()
        host = None
        for name, value in sent:
            key = _ENV_NAMES.get(name) or _env_name(name)
            if key in names:  # a repeat (or a header named like another's variable)
                del env[start:]
                break
            names.add(key)
            if key[0] != _NOT_EXPORTED:
                env.append((key, value))
            if key == "HTTP_HOST":
                host = value
        else:
            return host, True
    headers_in = req.headers_in
    for name, value in headers_in.items():
        key = _ENV_NAMES.get(name) or _env_name(name)
        if key[0] != _NOT_EXPORTED:
            env.append((key, value))
    unique = len(headers_in._index) == len(headers_in._entries)  # no name add()ed twice
    return headers_in.get("Host"), unique


ServerVars = tuple[list[tuple[str, str]], list[tuple[str, str]]]
# everything the server's variables are made of → (those before REMOTE_ADDR, those after):
# the same few values for every request of a site (bounded; cleared when full).
_SERVER_VARS: dict[tuple[Any, ...], ServerVars] = {}
_SERVER_VARS_MAX = 256


def _server_vars(req: RequestRec, host: Optional[str], scheme: str) -> ServerVars:
    """SERVER_SIGNATURE to SERVER_PORT, then DOCUMENT_ROOT to SERVER_ADMIN (without None
    values), as ap_add_common_vars sets them; `host` is headers_in's Host, `scheme` the
    request's."""
    server = req.server
    conn = req.connection_if_made()
    local_ip = conn.local_ip if conn is not None else req.raw.local_addr[0]
    key = (req.runtime.config.server_banner, req.hostname, server.server_hostname, local_ip,
           host, server.port, req.document_root(), scheme, server.server_admin)
    found = _SERVER_VARS.get(key)
    if found is None:
        if len(_SERVER_VARS) >= _SERVER_VARS_MAX:
            _SERVER_VARS.clear()
        found = _SERVER_VARS[key] = _make_server_vars(req, key)
    return found


def _make_server_vars(req: RequestRec, key: tuple[Any, ...]) -> ServerVars:
    banner, _, _, local_ip, host, _, document_root, scheme, admin = key
    before = [("SERVER_SIGNATURE", ""), ("SERVER_SOFTWARE", banner),
              ("SERVER_NAME", _escape_html(server_name(req))), ("SERVER_ADDR", local_ip),
              ("SERVER_PORT", str(_port(req, host)))]
    after = [("DOCUMENT_ROOT", document_root), ("REQUEST_SCHEME", scheme),
             ("CONTEXT_PREFIX", ""), ("CONTEXT_DOCUMENT_ROOT", document_root),
             ("SERVER_ADMIN", admin)]
    return ([(name, text) for name, text in before if text is not None],
            [(name, text) for name, text in after if text is not None])


def _port(req: RequestRec, host: Optional[str]) -> int:
    """server_port() for the Host value `host`."""
    port = host_port(host)
    return port if port is not None else (req.server.port or default_port(req))


def _client_port(req: RequestRec) -> int:
    conn = req.connection_if_made()
    return conn.client_addr[1] if conn is not None else req.raw.remote_addr[1]


# header name as sent → its variable (or _NOT_EXPORTED): a pure function of the name, kept
# for the names a worker sees (bounded: the first _ENV_NAMES_MAX short names).
_ENV_NAMES: dict[str, str] = {}
_ENV_NAMES_MAX = 512
_NOT_EXPORTED = "\0"  # starts the key of a name not exported: no variable starts so


def _env_name(name: str) -> str:
    """What ap_add_common_vars does with a header name: CONTENT_TYPE and CONTENT_LENGTH,
    nothing for Authorization, Proxy-Authorization and Proxy (and names http2env refuses),
    else HTTP_*."""
    lower = name.lower()
    if lower == "content-type":
        key = "CONTENT_TYPE"
    elif lower == "content-length":
        key = "CONTENT_LENGTH"
    elif lower in _SKIPPED:
        key = _NOT_EXPORTED + lower
    else:
        key = http2env(name) or _NOT_EXPORTED + name
    if len(_ENV_NAMES) < _ENV_NAMES_MAX and len(name) <= 64:
        _ENV_NAMES[name] = key
    return key


def _add_user_vars(req: RequestRec, env: list[tuple[str, str]]) -> None:
    if req.user is not None:
        env.append(("REMOTE_USER", req.user))
    else:
        previous = req.prev
        while previous is not None:
            if previous.user is not None:
                env.append(("REDIRECT_REMOTE_USER", previous.user))
                break
            previous = previous.prev
    if req.ap_auth_type is not None:
        env.append(("AUTH_TYPE", req.ap_auth_type))
    if req.prev is not None:
        env.append(("REDIRECT_URL", req.prev.uri))
        if req.prev.args is not None:
            env.append(("REDIRECT_QUERY_STRING", req.prev.args))


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def add_common_vars(req: RequestRec) -> None:
    """Into subprocess_env, each variable replacing what was there (apr_table_overlap)."""
    if req.subprocess_env_untouched():  # httpd writes straight into an empty table
        req.defer_subprocess_env(_common_vars(req)[0])  # duplicates and all
        return
    env = common_vars(req)
    target = req.subprocess_env
    if not target:
        fresh = Table._from_pairs(env)
        target._entries, target._index = fresh._entries, fresh._index
        return
    for key, value in env:
        target._set(key, value)


def add_cgi_vars(req: RequestRec) -> None:
    """mod_python's add_cgi_vars: REQUEST_URI is req.uri (no query), SCRIPT_NAME is the
    URI without path_info; then the common variables."""
    uri, path_info, protocol, method = req.uri, req.path_info, req.protocol, req.method
    query = req.args if req.args is not None else ""
    pairs = [("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_PROTOCOL", protocol),
             ("REQUEST_METHOD", method), ("QUERY_STRING", query), ("REQUEST_URI", uri)]
    if not path_info:
        pairs.append(("SCRIPT_NAME", uri))
    else:
        pairs.append(("SCRIPT_NAME", script_name(uri, path_info)))
        pairs.append(("PATH_INFO", path_info))
    # The usual case, nothing set before: the table is the CGI variables then the common
    # ones, in that order, made in one go (when first used, if nobody holds the table
    # yet). No common variable is named like a CGI one; a name twice among the common ones
    # (only if a handler add()ed a header) is set, replacing the first, as below.
    untouched = req.subprocess_env_untouched()
    if untouched or not req.subprocess_env:
        common, unique = _common_vars(req, untouched)
        if unique:
            # The values the table's item assignment checks (script_name is part of uri).
            values = f"{protocol}{method}{query}{uri}{path_info or ''}"
            fresh = [*(pairs if values.isascii() else _checked(pairs)), *common]
            if untouched:
                req.defer_subprocess_env(fresh)
            else:
                table = Table._from_pairs(fresh)
                env = req.subprocess_env
                env._entries, env._index = table._entries, table._index
            return
    env = req.subprocess_env
    for name, value in pairs:
        env[name] = value
    add_common_vars(req)


def _checked(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The CGI variables as the table's item assignment would store them (its string
    check: mod_python's MP_ANYSTR_AS_STR)."""
    check = Table()
    for name, value in pairs:
        check[name] = value
    return check.items()


def script_name(uri: str, path_info: str) -> str:
    """ap_find_path_info: the URI up to where path_info starts."""
    if path_info and uri.endswith(path_info):
        return uri[: len(uri) - len(path_info)]
    return uri
