"""mod_python's `mp_server` and `mp_conn`: the server and the connection a request names.

Owns the attributes handlers read from `req.server` and `req.connection` (as mod_python's
serverobject.c and connobject.c expose httpd's server_rec and conn_rec). Built from the
virtual host, the config's limits, the error log and the worker's child-exit cleanups; must
not know about the Runtime that holds them or about a request's phases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from .table import Table

if TYPE_CHECKING:
    from ..config.server import ServerConfig, VirtualHost
    from .errorlog import ErrorLog

# mod_python logs without a module name: its lines read `[:error] [pid N] ...`.
MODULE = ""


class mp_server:
    """The (virtual) server a request belongs to."""

    def __init__(self, vhost: VirtualHost, config: ServerConfig, error_log: ErrorLog,
                 child_cleanups: list[tuple[Callable, Any]]) -> None:
        self._vhost = vhost
        self._error_log = error_log
        self._child_cleanups = child_cleanups
        limits = config.limits
        self.server_hostname = vhost.server_name
        self.names = tuple(a for a in vhost.aliases if "*" not in a and "?" not in a)
        self.wild_names = tuple(a for a in vhost.aliases if "*" in a or "?" in a)
        self.is_virtual = int(vhost.is_virtual)
        self.defn_name = vhost.file
        self.defn_line_number = vhost.line
        # httpd's defaults: DEFAULT_ADMIN, and error_fname as the ErrorLog line wrote it
        self.server_admin = vhost.server_admin or "[no address given]"
        self.port = vhost.server_port  # server_rec->port: ServerName's, else 0
        self.error_fname = vhost.error_fname or config.main.error_fname
        self.loglevel = error_log.level
        self.timeout = float(limits.timeout)
        self.keep_alive_timeout = float(limits.keepalive_timeout)
        self.keep_alive_max = limits.max_keepalive_requests
        self.keep_alive = int(limits.keepalive)
        self.limit_req_line = limits.request_line
        self.limit_req_fieldsize = limits.field_size
        self.limit_req_fields = limits.fields
        self.path = vhost.server_path
        self.pathlen = len(vhost.server_path or "")
        self._config = Table(vhost.settings.python_config)
        self._options = Table(vhost.settings.options)

    def get_config(self) -> Table:
        return self._config

    def get_options(self) -> Table:
        return purge_empty(self._options)

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        self._error_log.log(message, level, MODULE)

    def log_client_error(self, message: str, level: int, client: str) -> None:
        """ap_log_cerror's line: this server's log, with the client's address."""
        self._error_log.log(message, level, MODULE, client=client)

    def register_cleanup(self, req: Any, callback: Callable, data: Any = None) -> None:
        """mod_python's server.register_cleanup: run at child exit, as apache.register_cleanup."""
        self._child_cleanups.append((callback, data))


class mp_conn:
    """The client connection a request arrived on."""

    def __init__(self, raw: Any, server: mp_server, conn_id: int = 0) -> None:
        self._raw = raw
        self.remote_addr = self.client_addr = raw.remote_addr
        self.remote_ip = self.client_ip = raw.remote_addr[0]
        self.local_addr = raw.local_addr
        self.local_ip = raw.local_addr[0]
        self.base_server = server
        self.remote_host = None
        self.remote_logname = None
        self.local_host = None
        self.aborted = 0
        self.double_reverse = 0
        self.id = conn_id  # prefork's c->id: the child's scoreboard slot
        self.notes = Table()

    @property
    def keepalive(self) -> int:
        """ap_set_keepalive's verdict once the response head went out (UNKNOWN before)."""
        kept: Optional[bool] = self._raw.keeps_alive
        if kept is None:
            return apache.AP_CONN_UNKNOWN
        return apache.AP_CONN_KEEPALIVE if kept else apache.AP_CONN_CLOSE

    @property
    def keepalives(self) -> int:
        """httpd counts each response after which it kept the connection open."""
        raw = self._raw
        return raw.keepalive_count - 1 + int(bool(raw.keeps_alive))

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        """ap_log_cerror: with the client's address, as a request's lines have."""
        ip, port = self.client_addr
        self.base_server.log_client_error(message, level, f"{ip}:{port}")


# mod_python's objects are C types named without a module: "<class 'mp_conn'>".
mp_server.__module__ = mp_conn.__module__ = "builtins"


def purge_empty(options: Table) -> Table:
    """get_options(): PythonOption keys set to "" are removed (mod_python's unset)."""
    for key in [key for key, value in options.items() if value == ""]:
        del options[key]
    return options
