"""PythonConnectionHandler: mod_python's connection handler (its process_connection hook).

Owns the engine's table of local addresses whose connections go to a connection handler
(`raw_connection_table`, decided once at start from the config: the connection's base
server, as httpd's ap_update_vhost_given_ip picks it, has a PythonConnectionHandler) and
running that handler on the `_core.RawConnection` the engine hands over, wrapped as
mod_python's `mp_conn` with `read`, `readline` and `write`. Must not speak HTTP on those
connections: the handler owns the bytes, as under httpd.
"""

from __future__ import annotations

import socket
import traceback
from typing import TYPE_CHECKING, Any, Optional

from mod_python import apache

from ..config.server import split_address
from ..runtime.importer import resolve_object
from ..runtime.objects import mp_conn

if TYPE_CHECKING:
    from ..config.server import ServerConfig, VirtualHost
    from ..runtime.runtime import Runtime

_WILDCARDS = ("0.0.0.0", "::", "")


def raw_connection_table(config: ServerConfig,
                         listen_fds: list[int]) -> list[tuple[str, int, bool]]:
    """`(local ip or "" for any, port, handed over)` for the engine; empty when no server
    has a connection handler (the engine then checks nothing per connection)."""
    hosts = [config.main, *config.vhosts]
    if not any(host.connection_handler is not None for host in hosts):
        return []
    table: list[tuple[str, int, bool]] = []
    for ip, port in _listening(listen_fds):
        if ip not in _WILDCARDS:
            table.append((ip, port, _has_handler(config.base_vhost(ip, port))))
            continue
        for exact in _exact_ips(config, port):
            table.append((exact, port, _has_handler(config.base_vhost(exact, port))))
        table.append(("", port, _has_handler(config.base_vhost("", port))))
    return table


def _listening(listen_fds: list[int]) -> list[tuple[str, int]]:
    addresses = []
    for fd in listen_fds:
        sock = socket.socket(fileno=fd)
        try:
            ip, port = sock.getsockname()[:2]
        finally:
            sock.detach()  # the engine owns the descriptor
        addresses.append((ip, port))
    return addresses


def _exact_ips(config: ServerConfig, port: int) -> list[str]:
    """The literal IPs <VirtualHost> sections name for `port` (or any port)."""
    ips = []
    for vhost in config.vhosts:
        for address in vhost.addresses:
            host, port_text = split_address(address)
            if port_text in ("", "*", str(port)) and _is_ip(host) and host not in ips:
                ips.append(host)
    return ips


def _is_ip(text: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except OSError:
        return False
    return True


def _has_handler(vhost: VirtualHost) -> bool:
    return vhost.connection_handler is not None


class connection(mp_conn):
    """mod_python's connection object as a connection handler gets it: mp_conn's
    attributes plus the raw byte stream."""

    keepalive = apache.AP_CONN_UNKNOWN
    keepalives = 0

    def read(self, length: int = 0) -> bytes:
        return self._raw.read(length)

    def readline(self, length: int = 0) -> bytes:
        return self._raw.readline(length)

    def write(self, data: Any) -> None:
        self._raw.write(data)


connection.__name__ = connection.__qualname__ = "mp_conn"
connection.__module__ = "builtins"


def serve_connection(runtime: Runtime, raw: Any) -> None:
    """Run the base server's PythonConnectionHandler on `raw`, then close it. Errors are
    logged as mod_python logs them; the connection is closed either way."""
    ip, port = raw.local_addr
    vhost = runtime.config.base_vhost(ip, port)
    entry = vhost.connection_handler
    server = runtime.server_object(vhost)
    conn = connection(raw, server, runtime.child_number)
    try:
        if entry is None:  # the table and the config disagree: nothing to run
            return
        config = vhost.settings.python_config
        handler = _resolve(runtime, vhost, entry, config)
        handler(conn)
    except Exception as exc:
        _report(conn, entry.token if entry else "", exc)
    finally:
        raw.close()


def _resolve(runtime: Runtime, vhost: VirtualHost, entry: Any,
             config: dict[str, str]) -> Any:
    """mod_python imports a connection handler in the interpreter named after the base
    server (or PythonInterpreter), after its PythonPath."""
    name = config.get("PythonInterpreter") or vhost.server_name
    runtime.interpreter = name
    interp = runtime.modules.interpreter(name)
    python_path: Optional[str] = config.get("PythonPath")
    if python_path is not None:
        runtime.modules.apply_python_path(interp, python_path)
    module = runtime.modules.import_module(interp, entry.module,
                                           autoreload=config.get("PythonAutoReload") != "0")
    return resolve_object(module, entry.obj, arg=None, silent=False)


def _report(conn: connection, token: str, exc: BaseException) -> None:
    for chunk in traceback.format_exception(type(exc), exc, exc.__traceback__):
        conn.log_error(f"PythonConnectionHandler {token}: {chunk.rstrip(chr(10))}")
