"""CGI variables: `req.add_common_vars()` and `req.add_cgi_vars()`.

Owns what httpd's `ap_add_common_vars` (util_script.c) and mod_python 3.5's
`req_add_cgi_vars` put into `req.subprocess_env`: request headers as `HTTP_*` (names with
characters other than letters, digits and `-` are skipped; `Authorization` and `Proxy` never
exported), `CONTENT_TYPE`/`CONTENT_LENGTH`, the server's and the client's addresses, then the
CGI/1.1 request variables. mod_python 3.4+ fills nothing until a handler asks.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

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
    port = host_port(req.headers_in.get("Host"))
    return port if port is not None else (req.server.port or default_port(req))


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
    env: list[tuple[str, str]] = []
    for name, value in req.headers_in.items():
        lower = name.lower()
        if lower == "content-type":
            env.append(("CONTENT_TYPE", value))
        elif lower == "content-length":
            env.append(("CONTENT_LENGTH", value))
        elif lower not in _SKIPPED:
            key = http2env(name)
            if key is not None:
                env.append((key, value))
    current = req.subprocess_env
    env.append(("PATH", current.get("PATH") or os.environ.get("PATH") or DEFAULT_PATH))
    conn = req.connection
    for key, text in (
            ("SERVER_SIGNATURE", ""), ("SERVER_SOFTWARE", req.runtime.config.server_banner),
            ("SERVER_NAME", _escape_html(server_name(req))),
            ("SERVER_ADDR", conn.local_ip), ("SERVER_PORT", str(server_port(req))),
            ("REMOTE_ADDR", req.useragent_ip), ("DOCUMENT_ROOT", req.document_root()),
            ("REQUEST_SCHEME", scheme_of(req.raw)), ("CONTEXT_PREFIX", ""),
            ("CONTEXT_DOCUMENT_ROOT", req.document_root()),
            ("SERVER_ADMIN", req.server.server_admin)):
        if text is not None:
            env.append((key, text))
    # httpd adds SCRIPT_FILENAME even before translation, with a NULL value that mod_python's
    # table reads as None (tableobject.c table_subscript)
    env.append(("SCRIPT_FILENAME", req.filename))  # type: ignore[arg-type]
    env.append(("REMOTE_PORT", str(conn.client_addr[1])))
    _add_user_vars(req, env)
    if scheme_of(req.raw) == HTTPS:
        env.append(("HTTPS", "on"))  # mod_ssl's variable, which wsgi.url_scheme reads
    return env


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
    env = common_vars(req)
    target = req.subprocess_env
    if not target:  # httpd writes straight into an empty table, duplicates and all
        fresh = Table._from_pairs(env)
        target._entries, target._index = fresh._entries, fresh._index
        return
    for key, value in env:
        target._set(key, value)


def add_cgi_vars(req: RequestRec) -> None:
    """mod_python's add_cgi_vars: REQUEST_URI is req.uri (no query), SCRIPT_NAME is the
    URI without path_info; then the common variables."""
    uri, path_info = req.uri, req.path_info
    pairs = [("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_PROTOCOL", req.protocol),
             ("REQUEST_METHOD", req.method),
             ("QUERY_STRING", req.args if req.args is not None else ""), ("REQUEST_URI", uri)]
    if not path_info:
        pairs.append(("SCRIPT_NAME", uri))
    else:
        pairs.append(("SCRIPT_NAME", script_name(uri, path_info)))
        pairs.append(("PATH_INFO", path_info))
    env = req.subprocess_env
    if not env:
        # The usual case, nothing set before: the table is the CGI variables then the
        # common ones, in that order, built in one go. No common variable is named like a
        # CGI one, and a name twice among the common ones is set (replaced), as below.
        common = common_vars(req)
        names = {name for name, _ in common}
        if len(names) == len(common):
            fresh = Table._from_pairs([*_checked(pairs), *common])
            env._entries, env._index = fresh._entries, fresh._index
            return
    for name, value in pairs:
        env[name] = value
    add_common_vars(req)


def _checked(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The CGI variables as the table's item assignment would store them (its string
    check: mod_python's MP_ANYSTR_AS_STR)."""
    if all(value.isascii() for _, value in pairs):
        return pairs
    check = Table()
    for name, value in pairs:
        check[name] = value
    return check.items()


def script_name(uri: str, path_info: str) -> str:
    """ap_find_path_info: the URI up to where path_info starts."""
    if path_info and uri.endswith(path_info):
        return uri[: len(uri) - len(path_info)]
    return uri
