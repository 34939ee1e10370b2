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

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# httpd's banner names mod_python's components (ap_add_version_component: "mod_python/3.5
# Python/3.x"); handlers look for them. Named here without versions, as the Server header
# the engine sends ("prefork-modpy") carries none.
SERVER_SOFTWARE = "prefork-modpy mod_python Python"
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
    ServerName's, else 80."""
    port = host_port(req.headers_in.get("Host"))
    return port if port is not None else (req.server.port or 80)


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
            ("SERVER_SIGNATURE", ""), ("SERVER_SOFTWARE", SERVER_SOFTWARE),
            ("SERVER_NAME", _escape_html(server_name(req))),
            ("SERVER_ADDR", conn.local_ip), ("SERVER_PORT", str(server_port(req))),
            ("REMOTE_ADDR", req.useragent_ip), ("DOCUMENT_ROOT", req.document_root()),
            ("REQUEST_SCHEME", "http"), ("CONTEXT_PREFIX", ""),
            ("CONTEXT_DOCUMENT_ROOT", req.document_root()),
            ("SERVER_ADMIN", req.server.server_admin)):
        if text is not None:
            env.append((key, text))
    # httpd adds SCRIPT_FILENAME even before translation, with a NULL value that mod_python's
    # table reads as None (tableobject.c table_subscript)
    env.append(("SCRIPT_FILENAME", req.filename))  # type: ignore[arg-type]
    env.append(("REMOTE_PORT", str(conn.client_addr[1])))
    _add_user_vars(req, env)
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
    env = req.subprocess_env
    env["GATEWAY_INTERFACE"] = "CGI/1.1"
    env["SERVER_PROTOCOL"] = req.protocol
    env["REQUEST_METHOD"] = req.method
    env["QUERY_STRING"] = req.args if req.args is not None else ""
    env["REQUEST_URI"] = req.uri
    if not req.path_info:
        env["SCRIPT_NAME"] = req.uri
    else:
        env["SCRIPT_NAME"] = script_name(req.uri, req.path_info)
        env["PATH_INFO"] = req.path_info
    add_common_vars(req)


def script_name(uri: str, path_info: str) -> str:
    """ap_find_path_info: the URI up to where path_info starts."""
    if path_info and uri.endswith(path_info):
        return uri[: len(uri) - len(path_info)]
    return uri
