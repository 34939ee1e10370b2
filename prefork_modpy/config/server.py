"""Builds the server's configuration from the `confparse` tree.

Owns `ServerConfig` (listeners, limits, logging, workers), `VirtualHost`s, the list of
`<Directory>`/`<Files>`/`<Location>` sections, and `effective_settings()`, which merges the
sections that apply to one request in Apache's order and caches the result by the set of
sections matched, so a request pays for section matching but never for merging twice.
Must not open sockets or import handler modules.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Optional

from . import catalog, httpdmods, logformat
from . import ssl as mod_ssl
from .directives import (
    DirSettings,
    HandlerEntry,
    SectionContext,
    apply_dir_directive,
    check_filter_names,
    connection_handler_entry,
    is_dir_directive,
    require_wired,
)
from .regex import HTTPD_DEFAULT_OPTIONS, RegexError, SearchPattern, compile_regex
from .rewrite import RewriteSettings, merge_server
from .rewrite import finish as finish_rewrite
from .syntax import (
    ConfigError,
    ConfigReader,
    LoadedModule,
    Node,
    is_deflate_only,
)

DEFAULT_PORT = 8080


@dataclass
class Section:
    """One `<Directory>`, `<DirectoryMatch>`, `<Files>`, `<FilesMatch>`, `<Location>` or
    `<LocationMatch>` with its own (unmerged) settings."""

    kind: str  # "directory", "files" or "location"
    pattern: str
    regex: Optional[SearchPattern]
    settings: DirSettings
    file: str
    line: int
    parent_dir: Optional[Section] = None  # a <Files> nested in a <Directory>

    @property
    def depth(self) -> int:
        return self.pattern.rstrip("/").count("/")

    def matches_directory(self, directory: str) -> bool:
        """`directory` ends with '/'. Plain sections match it and every subdirectory."""
        if self.regex is not None:
            return self.regex.search(directory) is not None
        return directory.startswith(self.pattern)

    def matches_file(self, basename: str) -> bool:
        if self.regex is not None:
            return self.regex.search(basename) is not None
        return _wildcard(self.pattern).fullmatch(basename) is not None

    def matches_uri(self, uri: str) -> bool:
        if self.regex is not None:
            return self.regex.search(uri) is not None
        pattern = self.pattern
        if not uri.startswith(pattern):
            return False
        # <Location /app> matches /app, /app/x and /app?.. but not /application.
        return len(uri) == len(pattern) or pattern.endswith("/") or uri[len(pattern)] == "/"


def _wildcard(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))


@dataclass
class Limits:
    """The numbers the engine enforces: their one definition. The Rust engine reads this
    object by attribute (`_core.Engine(fds, limits, ...)`), so every field here is one it uses.

    `timeout` (Timeout) bounds every stall of one read or write; `keepalive*` and
    `max_keepalive_requests` are KeepAlive, KeepAliveTimeout and MaxKeepAliveRequests (0:
    unlimited); `request_line`, `field_size`, `fields` and `body` are the LimitRequest*
    directives (body 0: no limit; 1 GiB by default, as httpd 2.4.54+); a Content-Length
    body of at most `preread_body` bytes is read by the engine before the request is handed
    to Python (no directive: httpd has no equivalent; 0 turns it off)."""

    timeout: float = 60.0
    keepalive: bool = True
    keepalive_timeout: float = 5.0
    max_keepalive_requests: int = 100
    request_line: int = 8190
    field_size: int = 8190
    fields: int = 100
    body: int = 1 << 30  # httpd 2.4.54+'s LimitRequestBody default (1 GiB)
    preread_body: int = 65536
    # RequestReadTimeout (mod_reqtimeout): initial timeout, cap (0: none) and MinRate
    # (bytes/s, 0: no extension) of the header and body stages; a timeout of 0 disables it.
    header_timeout: float = 20.0
    header_timeout_max: float = 40.0
    header_min_rate: int = 500
    body_timeout: float = 20.0
    body_timeout_max: float = 0.0
    body_min_rate: int = 500
    # -- mod_ssl -- the handshake stage of TLS connections (0: none: the first-byte deadline,
    # header_timeout, covers the handshake)
    handshake_timeout: float = 0.0
    handshake_timeout_max: float = 0.0
    handshake_min_rate: int = 0


@dataclass
class Processes:
    """How the master runs its workers (the prefork MPM's directives, plus recycling)."""

    start_servers: Optional[int] = None
    min_spare_servers: Optional[int] = None
    max_spare_servers: Optional[int] = None
    max_request_workers: Optional[int] = None
    max_requests_per_child: int = 0
    max_requests_jitter: int = 0
    max_memory_per_child: int = 0  # bytes of RSS; 0: no limit
    max_connections_per_child: int = 0  # MaxConnectionsPerChild (0: no limit)
    graceful_shutdown_timeout: float = 30.0
    # -- server/health --
    graceful_shutdown_health_delay: float = 0.0  # seconds serving with server-health at 503
    user: Optional[str] = None
    uid: Optional[int] = None
    group: Optional[str] = None
    gid: Optional[int] = None
    pid_file: Optional[str] = None
    python_import_errors: str = "fatal"  # or "log": mod_python's behaviour


@dataclass
class VirtualHost:
    """The main server or one `<VirtualHost>`: names, document root, sections."""

    server_name: str
    # ServerName's port (server_rec->port; 0: none given, a <VirtualHost> takes the main
    # server's): mp_server.port, `%p` in the access log, SERVER_PORT without a Host port.
    server_port: int = 0
    aliases: tuple[str, ...] = ()
    document_root: str = "/var/www/html"
    settings: DirSettings = field(default_factory=DirSettings)
    sections: list[Section] = field(default_factory=list)
    is_virtual: bool = False
    file: str = ""
    line: int = 0
    # CustomLog: (path, format, env condition: None, "name" or "!name" from env=[!]name)
    custom_logs: list[tuple[str, str, Optional[str]]] = field(default_factory=list)
    url_aliases: tuple[tuple[str, str], ...] = ()  # Alias (URL prefix, directory)
    addresses: tuple[str, ...] = ()  # <VirtualHost addr[:port] ...> as written
    # The same, resolved: (ip, port), ip None for `*`, port 0 for any; `_default_` apart.
    binds: tuple[tuple[Optional[str], int], ...] = ()
    default_ports: tuple[int, ...] = ()  # `_default_[:port]` (0: any port)
    server_admin: Optional[str] = None  # ServerAdmin (the main server's when unset)
    server_signature: str = ""  # ServerSignature: off, on or email ("" until resolved)
    error_log: Optional[str] = None  # a <VirtualHost>'s own ErrorLog (resolved)
    log_level: Optional[str] = None  # a <VirtualHost>'s own LogLevel
    # -- ServerPath, ErrorLog as written (server_rec's path and error_fname) --
    server_path: Optional[str] = None
    error_fname: Optional[str] = None
    # -- PythonConnectionHandler (the main server's when unset) --
    connection_handler: Optional[HandlerEntry] = None
    # -- mod_ssl (config/ssl.py) --
    ssl: Optional[mod_ssl.SSLHost] = None
    # -- mod_rewrite / .htaccess --
    rewrite: Optional[RewriteSettings] = None  # server-context rewriting (translate_name)
    rewrite_on: bool = False  # RewriteEngine On with rules in server context
    reads_htaccess: bool = False  # some section's AllowOverride/AllowOverrideList is not None
    _cache: dict = field(default_factory=dict, repr=False)
    _route_cache: dict = field(default_factory=dict, repr=False)
    _python_locations: Optional[list[Section]] = field(default=None, repr=False)
    _python_location_cache: dict = field(default_factory=dict, repr=False)

    def effective_settings(self, filename: Optional[str], uri: str) -> DirSettings:
        """Merge server → Directory (shortest first, then regex) → Files → Location.
        Cached per (filename, uri), then per set of matched sections, so a repeated URL
        costs one dict lookup."""
        route = (filename, uri)
        settings = self._route_cache.get(route)
        if settings is not None:
            return settings
        matched = self._matching_sections(filename, uri)
        settings = self._cache.get(matched)
        if settings is None:
            settings = self.settings
            for index in matched:
                settings = settings.merged_with(self.sections[index].settings)
            if settings.httpd is not None and settings.httpd.env_set is not None:
                settings = self._env_by_walk(settings, matched)  # -- mod_env --
            if len(self._cache) < 4096:
                self._cache[matched] = settings
        if len(self._route_cache) < 16384:
            self._route_cache[route] = settings
        return settings

    def _env_by_walk(self, settings: DirSettings, matched: tuple[int, ...]) -> DirSettings:
        """mod_env's merge is not associative: httpd folds the <Directory>, the <Files> and
        the <Location> sections each among themselves, then onto the config so far
        (ap_directory_walk, ap_file_walk, ap_location_walk), so an UnsetEnv reaches the
        parent only from a group's single section (httpdmods.env_by_walk)."""
        groups = [[self.sections[index].settings.httpd for index in matched
                   if self.sections[index].kind == kind] for kind in _WALKS]
        env = httpdmods.env_by_walk(self.settings.httpd, groups)
        merged = settings.httpd
        assert merged is not None  # the caller checked
        return replace(settings, httpd=replace(merged, env_set=env))

    def map_alias(self, uri: str) -> Optional[tuple[str, str]]:
        """mod_alias: (directory, rest of the URI) for the first matching Alias. An alias
        written with a trailing slash needs it in the URI too."""
        for fake, real in self.url_aliases:
            if fake.endswith("/"):
                if uri.startswith(fake):
                    return real.rstrip("/"), uri[len(fake) - 1:]
            elif uri == fake or uri.startswith(fake + "/"):
                return real.rstrip("/"), uri[len(fake):]
        return None

    def location_has_python_handlers(self, uri: str) -> bool:
        """mod_python 3.4+: a Python*Handler written in a matching <Location> means the
        URI is never mapped to a file."""
        known = self._python_location_cache.get(uri)
        if known is not None:  # cached per URI, like effective_settings' routes
            return known
        if self._python_locations is None:
            self._python_locations = [
                section for section in self.sections
                if section.kind == "location" and section.settings.has_python_handlers]
        answer = any(section.matches_uri(uri) for section in self._python_locations)
        if len(self._python_location_cache) < 16384:
            self._python_location_cache[uri] = answer
        return answer

    def matching_sections(self, filename: Optional[str], uri: str) -> tuple[int, ...]:
        """The indexes of the sections that apply, in merge order (for the .htaccess walk)."""
        return self._matching_sections(filename, uri)

    def _matching_sections(self, filename: Optional[str], uri: str) -> tuple[int, ...]:
        dirs: list[tuple[int, int, int]] = []
        files: list[int] = []
        locations: list[int] = []
        directory = basename = None
        if filename is not None:
            directory, basename = _split_filename(filename)
        for index, section in enumerate(self.sections):
            if section.kind == "location":
                if section.matches_uri(uri):
                    locations.append(index)
            elif directory is None:
                continue
            elif section.kind == "directory":
                if section.matches_directory(directory):
                    regex_rank = 1 if section.regex is not None else 0
                    dirs.append((regex_rank, 0 if regex_rank else section.depth, index))
            elif basename is not None and section.matches_file(basename) and (
                    section.parent_dir is None or section.parent_dir.matches_directory(directory)):
                files.append(index)
        ordered = [index for _, _, index in sorted(dirs)]
        return tuple(ordered + files + locations)


_WALKS = ("directory", "files", "location")  # httpd's three walks, in order


def _split_filename(filename: str) -> tuple[str, str]:
    if filename.endswith("/"):
        return filename, ""
    head, _, tail = filename.rpartition("/")
    return head + "/", tail


PRODUCT = "prefork-modpy"
DEFAULT_ACCEPT_FILTERS = {"http": "data", "https": "data"}
PRODUCT_BANNER = "prefork-modpy mod_python Python"


@dataclass
class ServerConfig:
    """Everything the master and workers need, frozen after load."""

    path: str
    listen: list[tuple[str, int]]
    main: VirtualHost
    vhosts: list[VirtualHost]
    limits: Limits
    error_log: Optional[str] = None
    log_level: str = "warn"
    python_imports: list[tuple[str, str, str, int]] = field(default_factory=list)
    server_root: str = ""
    defines: frozenset[str] = frozenset()
    files_read: list[str] = field(default_factory=list)
    processes: Processes = field(default_factory=Processes)
    # Peers whose forwarding header names the client, all of whose reports are believed
    # (TrustedProxies, RemoteIPInternalProxy: mod_remoteip's internal proxies).
    trusted_proxies: tuple[str, ...] = ()
    # -- mod_remoteip (httpd/forwarded.py) --
    # RemoteIPTrustedProxy: external proxies (private addresses they report are not believed).
    remote_ip_trusted_proxies: tuple[str, ...] = ()
    # RemoteIPHeader: the one header the proxies set; None: X-Forwarded-For, and no peer is
    # trusted unless listed (with it set and no list, every peer is, as in mod_remoteip).
    remote_ip_header: Optional[str] = None
    # -- PROXY protocol -- `Listen ... proxy-protocol` addresses (rust/proxy.rs reads them)
    proxy_protocol_listen: tuple[tuple[str, int], ...] = ()
    # AcceptFilter: protocol -> filter name; httpd's defaults on Linux are `http data` and
    # `https data` (core.c), any filter but `none` meaning TCP_DEFER_ACCEPT on the listener.
    accept_filters: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCEPT_FILTERS))
    # The protocol a `Listen addr:port protocol` line names (lowercase), by address.
    listen_protocols: dict[tuple[str, int], str] = field(default_factory=dict)
    python_optimize: bool = False  # PythonOptimize: reported, the interpreter decides
    # Warning lines (`file:line: ...`) for what the config asks and prefork-modpy leaves
    # unapplied for a stated reason; printed by -t and at start.
    warnings: list[str] = field(default_factory=list)
    loaded_modules: dict[str, LoadedModule] = field(default_factory=dict)  # LoadModule lines
    # Where each server-wide directive was set: name -> "file:line" (--print-config).
    sources: dict[str, str] = field(default_factory=dict)
    server_tokens: str = "full"  # ServerTokens (httpd's default; see server_banner)
    trace_enable: str = "on"  # TraceEnable: on, off or extended
    hostname_lookups: bool = False
    default_runtime_dir: Optional[str] = None
    access_file_name: tuple[str, ...] = (".htaccess",)
    types_config: Optional[str] = None  # TypesConfig (None: the system's MIME table)
    extended_status: bool = True  # ExtendedStatus
    buffered_logs: bool = False  # BufferedLogs (mod_log_config; httpd/accesslog.py)
    listen_sources: dict[tuple[str, int], str] = field(default_factory=dict)  # "file:line"
    # <VirtualHost> addresses are matched against the connection's local address only while
    # the sockets are the config's own Listen ones (not --bind or systemd's sockets).
    match_vhost_addresses: bool = True
    custom_log_sources: dict[str, str] = field(default_factory=dict)  # path -> "file:line"
    # -- mod_ssl -- Listen addresses that speak TLS (config/ssl.py plan; server/tls.py)
    tls_listen: tuple[mod_ssl.TlsAddress, ...] = ()
    _address_cache: dict = field(default_factory=dict, repr=False)
    # -- dot segments (httpd/static.py) --
    # AllowDotSegments: the names of dot segments (".well-known") static files may sit under;
    # any other path segment starting with a dot is refused (404).
    allowed_dot_segments: frozenset[str] = frozenset()

    def defers_accept(self, address: tuple[str, int]) -> bool:
        """Whether the listener at `address` waits for the client's first bytes before a
        worker accepts (httpd's ap_apply_accept_filter: TCP_DEFER_ACCEPT under any
        AcceptFilter but `none`). Its protocol is the one its Listen line names, else
        `https` on port 443 and `http` on any other (httpd's default protocol names)."""
        protocol = self.listen_protocols.get(address) or ("https" if address[1] == 443
                                                          else "http")
        accept_filter = self.accept_filters.get(protocol)
        return accept_filter is not None and accept_filter != "none"

    @property
    def server_banner(self) -> str:
        """ap_get_server_banner: the name SERVER_SOFTWARE and ServerSignature give. With
        ServerTokens Full (httpd's default) it names mod_python's components, as httpd's
        banner does ("mod_python/3.5 Python/3.x", here without versions: handlers look for
        them); any other value gives the product alone. The Server header the engine sends
        is always "prefork-modpy" alone (no versions to fingerprint)."""
        return PRODUCT_BANNER if self.server_tokens == "full" else PRODUCT

    def select_vhost(self, host: Optional[str],
                     local: Optional[tuple[str, int]] = None) -> VirtualHost:
        """httpd's vhost matching: the <VirtualHost>s whose address matches the connection's
        local address and port (`local`; all of them when None), then the first of those
        whose ServerName/ServerAlias matches `host`, else the first of them (the address's
        default); the main server when no <VirtualHost> has the address."""
        if not self.vhosts:
            return self.main
        candidates = self.vhosts if local is None else self.vhosts_for_address(local)
        if host:
            name = host.lower()
            for vhost in candidates:
                if name == vhost.server_name.lower() or any(
                        _host_matches(alias, name) for alias in vhost.aliases):
                    return vhost
        return candidates[0] if candidates else self.main

    def vhosts_for_address(self, local: tuple[str, int]) -> list[VirtualHost]:
        """ap_update_vhost_given_ip: vhosts naming the exact IP (any or this port) first,
        else those on `*` with this port, else `_default_`; cached per address."""
        found = self._address_cache.get(local)
        if found is None:
            found = _vhosts_for_address(self.vhosts, local)
            if len(self._address_cache) < 256:
                self._address_cache[local] = found
        return found

    # -- ServerPath (vhost.c check_serverpath) --
    def vhost_by_server_path(self, uri: str) -> Optional[VirtualHost]:
        """For a request without Host: the first vhost whose ServerPath prefixes the URI
        at a segment boundary."""
        for vhost in self.vhosts:
            path = vhost.server_path
            if path and uri.startswith(path) and (
                    path.endswith("/") or uri[len(path):len(path) + 1] in ("", "/")):
                return vhost
        return None

    # -- connection base server (ap_update_vhost_given_ip) --
    def base_vhost(self, local_ip: str, local_port: int) -> VirtualHost:
        """httpd's conn->base_server: the first <VirtualHost> listed for the address the
        connection was accepted on (an exact IP first, then a `*`/_default_ one for the
        port), else the main server; the Host header plays no part."""
        found = self.vhosts_for_address((local_ip, local_port))
        return found[0] if found else self.main


def _vhosts_for_address(vhosts: list[VirtualHost],
                        local: tuple[str, int]) -> list[VirtualHost]:
    ip, port = local
    ip = ip.removeprefix("::ffff:")  # a v4 client on a dual-stack listener

    def on(vhost: VirtualHost, wanted: Optional[str]) -> bool:
        return any(bind_ip == wanted and bind_port in (0, port)
                   for bind_ip, bind_port in vhost.binds)
    exact = [vhost for vhost in vhosts if on(vhost, ip)]
    if exact:
        return exact
    wildcard = [vhost for vhost in vhosts if on(vhost, None)]
    if wildcard:
        return wildcard
    return [vhost for vhost in vhosts if any(p in (0, port) for p in vhost.default_ports)]


def split_address(address: str) -> tuple[str, str]:
    """`host[:port]` or `[v6]:port` as written in <VirtualHost>."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, rest[1:]
    if address.count(":") == 1:
        host, _, port_text = address.partition(":")
        return host, port_text
    return address, ""


def _host_matches(alias: str, host: str) -> bool:
    if "*" in alias or "?" in alias:
        return _wildcard(alias.lower()).fullmatch(host) is not None
    return alias.lower() == host


class _Builder:
    """Walks the node tree once, dispatching each directive by context."""

    def __init__(self, path: str, defines: frozenset[str],
                 reader: Optional[ConfigReader] = None) -> None:
        self.path = path
        self.defines = defines
        self.listen: list[tuple[str, int]] = []
        self.limits = Limits()
        self.main = VirtualHost(server_name=_default_server_name(), file=path, line=0)
        self.vhosts: list[VirtualHost] = []
        root = reader.server_root if reader is not None and reader.server_root else None
        self.extra: dict[str, Any] = {"python_imports": [],
                                      "server_root": root or os.path.dirname(path)}
        self.processes = Processes()
        self.log_formats: dict[str, str] = {}
        self.custom_logs: list[tuple[VirtualHost, Node]] = []
        self.trusted_proxies: tuple[str, ...] = ()
        self.remote_ip_header_node: Optional[Node] = None
        self.proxy_protocol_listen: tuple[tuple[str, int], ...] = ()  # -- PROXY protocol --
        self.listen_protocols: dict[tuple[str, int], str] = {}
        self.accept_filters = dict(DEFAULT_ACCEPT_FILTERS)
        self.loaded_modules = dict(reader.loaded_modules) if reader is not None else {}
        self.warnings: list[str] = list(reader.warnings) if reader is not None else []
        self.warned_names: set[str] = set()
        self.regex_options = HTTPD_DEFAULT_OPTIONS
        self.sources: dict[str, str] = {}
        self.listen_sources: dict[tuple[str, int], str] = {}
        self.custom_log_sources: dict[str, str] = {}
        self.server_fields: dict[str, object] = {}

    def build(self, nodes: list[Node], files_read: list[str]) -> ServerConfig:
        for node in nodes:
            self._server_node(node, self.main)
        self._check_filters()  # before merging: the vhosts' own settings are still apart
        self._finish_rewrite()  # before merging too: server-context rules are not merged
        self._body_limit()  # -- core's LimitRequestBody per directory (httpdmods.py) --
        self._resolve_auth_files()  # -- mod_authn_file / mod_authz_groupfile --
        self._finish_vhosts()
        self._warn_thread_mpm()
        main_sections = self.main.sections
        for vhost in self.vhosts:
            vhost.sections = main_sections + vhost.sections
            vhost.settings = self.main.settings.merged_with(vhost.settings)
            vhost.url_aliases += self.main.url_aliases  # mod_alias: the vhost's come first
        self._resolve_custom_logs()
        config = ServerConfig(
            path=self.path, listen=self.listen or [("0.0.0.0", DEFAULT_PORT)], main=self.main,
            vhosts=self.vhosts, limits=self.limits, defines=self.defines,
            error_log=self.extra.get("error_log"), log_level=self.extra.get("log_level", "warn"),
            python_imports=self.extra["python_imports"], server_root=self.extra["server_root"],
            files_read=files_read, processes=self.processes,
            trusted_proxies=self.trusted_proxies,
            proxy_protocol_listen=self.proxy_protocol_listen,
            python_optimize=bool(self.extra.get("python_optimize")),
            warnings=self.warnings, loaded_modules=self.loaded_modules, sources=self.sources)
        for name, value in self.server_fields.items():
            setattr(config, name, value)
        config.listen_sources = self.listen_sources
        config.listen_protocols = self.listen_protocols
        config.accept_filters = self.accept_filters
        config.custom_log_sources = self.custom_log_sources
        self._warn_remote_ip_trust_all(config)
        config.tls_listen = mod_ssl.plan(config)  # -- mod_ssl --
        _check_tls_listen(config)
        return config

    def _warn_remote_ip_trust_all(self, config: ServerConfig) -> None:
        node = self.remote_ip_header_node
        if node is not None and not (config.trusted_proxies or config.remote_ip_trusted_proxies):
            config.warnings.append(
                f"{node.where}: RemoteIPHeader without TrustedProxies/RemoteIPInternalProxy/"
                f"RemoteIPTrustedProxy: every peer may name the client in {node.args[0]} "
                "(public addresses only), as in mod_remoteip; list your proxies instead")

    def _finish_vhosts(self) -> None:
        """httpd: a <VirtualHost> without ServerName, ServerAdmin, ErrorLog or LogLevel
        takes the main server's (its own error log is opened by the runtime)."""
        main = self.main
        main.server_signature = main.server_signature or "off"
        for vhost in self.vhosts:
            if not vhost.server_name:
                vhost.server_name = main.server_name
            # ap_init_virtual_host: "useful default, otherwise we get a port of 0"
            vhost.server_port = vhost.server_port or main.server_port
            # -- ServerSignature: a per-directory merge in httpd; a host inherits main's --
            vhost.server_signature = vhost.server_signature or main.server_signature
            if vhost.server_admin is None:
                vhost.server_admin = main.server_admin
            if vhost.error_log is None:
                vhost.error_log, vhost.error_fname = self.extra.get("error_log"), main.error_fname
            if vhost.log_level is None:
                vhost.log_level = self.extra.get("log_level", "warn")
            if vhost.connection_handler is None:
                vhost.connection_handler = main.connection_handler
        mod_ssl.merge_into_vhosts(main, self.vhosts)  # -- mod_ssl --

    # -- mod_rewrite / .htaccess --
    def _finish_rewrite(self) -> None:
        """Server-context rewriting per host (a virtual host inherits only the main server's
        maps, and its rules under RewriteOptions Inherit); whether any .htaccess is read."""
        hosts = [self.main, *self.vhosts]
        for host in hosts:
            finish_rewrite(host.settings.server_rewrite)
            for section in host.sections:
                finish_rewrite(section.settings.rewrite)
        main_rewrite = self.main.settings.server_rewrite
        self.main.rewrite = main_rewrite
        for vhost in self.vhosts:
            vhost.rewrite = merge_server(main_rewrite, vhost.settings.server_rewrite)
        for host in hosts:
            host.rewrite_on = host.rewrite is not None and host.rewrite.active
        reads = any(section.settings.htaccess_overrides.any for host in hosts
                    for section in host.sections)
        for host in hosts:
            host.reads_htaccess = reads

    def _body_limit(self) -> None:
        """The engine enforces one body limit; per-directory values are checked by the
        dispatcher only when a section or virtual host sets one (hot path otherwise)."""
        main = self.main.settings
        others = [vhost.settings.httpd for vhost in self.vhosts] + [
            section.settings.httpd for host in (self.main, *self.vhosts)
            for section in host.sections]
        self.limits.body = httpdmods.engine_body_limit(main.httpd, others, self.limits.body)
        if main.httpd is not None and not any(
                mods is not None and mods.limit_request_body is not None for mods in others):
            main.httpd.limit_request_body = None  # the engine's check is the whole story
            if httpdmods.is_empty(main.httpd):
                main.httpd = None

    def _resolve_auth_files(self) -> None:
        """AuthUserFile and AuthGroupFile are ServerRoot-relative (ap_server_root_relative)."""
        hosts = (self.main, *self.vhosts)
        for settings in [host.settings for host in hosts] + [
                section.settings for host in hosts for section in host.sections]:
            mods = settings.httpd
            if mods is None:
                continue
            if mods.auth_user_file is not None:
                mods.auth_user_file = self.resolve_path(mods.auth_user_file)
            if mods.auth_group_file is not None:
                mods.auth_group_file = self.resolve_path(mods.auth_group_file)

    def _warn_thread_mpm(self) -> None:
        """Debian's mpm_event.conf sizes processes of 25 threads; here each worker serves
        one request at a time, so the same numbers give far fewer concurrent requests."""
        for key in ("mpm_event", "mpm_worker"):
            module = self.loaded_modules.get(key)
            if module is not None:
                self.warnings.append(
                    f"{module.file}:{module.line}: {module.name} is loaded, but prefork-modpy "
                    "is a prefork server: StartServers/MaxRequestWorkers count worker "
                    "processes that serve one request each (no threads)")

    def _resolve_vhost_host(self, host: str, node: Node) -> list[Optional[str]]:
        """`*` is any address; an IP is itself; a name is looked up once at load, as httpd
        does (AH00547 when it cannot be: the address is then ignored)."""
        import ipaddress
        import socket

        if host == "*":
            return [None]
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            self.warnings.append(f"{node.where}: <VirtualHost {host}>: could not resolve "
                                 f"the host name ({exc}); the address is ignored (as httpd's "
                                 "AH00547)")
            return []
        return [address for address in sorted({str(info[4][0]) for info in infos})]

    def warn_once(self, node: Node, text: str) -> None:
        """One warning line per directive name (a stock config repeats AddIcon 40 times)."""
        if node.key not in self.warned_names:
            self.warned_names.add(node.key)
            self.warnings.append(f"{node.where}: {text}")

    def _check_filters(self) -> None:
        hosts = [self.main, *self.vhosts]
        check_filter_names([host.settings for host in hosts]
                           + [section.settings for host in hosts for section in host.sections])

    def _resolve_custom_logs(self) -> None:
        """CustomLog names a LogFormat nickname that may be defined after it (as in Apache);
        a virtual host without CustomLog logs to the main server's logs."""
        for host, node in self.custom_logs:
            try:
                fmt = logformat.resolve_format(node.args[1], self.log_formats)
                logformat.validate(fmt)
            except ValueError as exc:
                raise ConfigError.at(node, f"CustomLog: {exc}") from None
            target = node.args[0]
            path = target if target.startswith("|") else self.resolve_path(target)
            env = node.args[2][4:] if len(node.args) == 3 else None  # env=[!]name
            host.custom_logs.append((path, fmt, env))
            self.custom_log_sources.setdefault(path, node.where)
        for vhost in self.vhosts:
            vhost.custom_logs = vhost.custom_logs or self.main.custom_logs

    def resolve_path(self, path: str) -> str:
        """Relative paths are relative to ServerRoot (default: the config's directory)."""
        return os.path.normpath(os.path.join(str(self.extra["server_root"]), path))

    def _server_node(self, node: Node, host: VirtualHost) -> None:
        key = node.key
        if node.is_section:
            self._section(node, host, parent_dir=None)
        elif key in _HOST_DIRECTIVES:
            _HOST_DIRECTIVES[key](self, host, node)
        elif is_dir_directive(key):
            apply_dir_directive(host.settings, node, SectionContext(resolve_path=self.resolve_path),
                                self.warnings)
        elif host is self.main and key in _SERVER_DIRECTIVES:
            self.sources.setdefault(node.name, node.where)
            _SERVER_DIRECTIVES[key](self, node)
        elif key in _SERVER_DIRECTIVES:
            raise ConfigError.at(node, f"{node.name} is not allowed in <VirtualHost>")
        else:
            self.non_native(node)

    def non_native(self, node: Node) -> None:
        """A directive prefork-modpy has no setting for: catalog.py's verdict, or httpd's
        "Invalid command" for a name no module has (a typo)."""
        if node.key == "addoutputfilterbytype" and is_deflate_only(node) and (
                "deflate" in self.loaded_modules):
            self.warn_once(node, "AddOutputFilterByType DEFLATE: responses are not compressed "
                                 "(mod_deflate is not part of prefork-modpy)")
            return
        info = catalog.directive_info(node.name)
        if info is None:
            raise ConfigError.at(node, _unknown_command(node.name))
        if info.status is catalog.Status.WARNED:
            self.warn_once(node, info.message())
        elif info.status is catalog.Status.ACCEPTED:
            mod_ssl.check_accepted(node)  # -- mod_ssl --
            _accepted(self, node)
        else:
            raise ConfigError.at(node, f"{info.message()} (refused rather than ignored)")

    def _section(self, node: Node, host: VirtualHost, parent_dir: Optional[Section]) -> None:
        key = node.key
        if key == "virtualhost":
            if host is not self.main:
                raise ConfigError.at(node, "<VirtualHost> cannot be nested")
            self._virtual_host(node)
            return
        if is_dir_directive(key):  # <Limit>, <Require*> (httpdmods.py)
            apply_dir_directive(host.settings, node, SectionContext(), self.warnings)
            return
        kind, regex = _section_kind(node, parent_dir, self.regex_options)
        pattern = node.args[0] if len(node.args) == 1 else node.args[-1]
        if kind == "directory" and regex is None:
            pattern = os.path.join(self.resolve_path(pattern), "")
            if "*" in pattern or "?" in pattern or "[" in pattern:
                regex = re.compile("^" + _wildcard(pattern).pattern)
        section = Section(kind, pattern, regex, DirSettings(), node.file, node.line, parent_dir)
        ctx = _section_context(section, parent_dir)
        host.sections.append(section)
        for child in node.children or []:
            if child.is_section and is_dir_directive(child.key):  # <Limit>, <Require*>
                apply_dir_directive(section.settings, child, ctx, self.warnings)
            elif child.is_section:
                if child.key not in ("files", "filesmatch") or kind != "directory":
                    raise ConfigError.at(child, f"<{child.name}> is not allowed inside "
                                                f"<{node.name}>")
                self._section(child, host, parent_dir=section)
            elif is_dir_directive(child.key):
                apply_dir_directive(section.settings, child, ctx, self.warnings)
            elif child.key in _HOST_DIRECTIVES or child.key in _SERVER_DIRECTIVES:
                raise ConfigError.at(child, f"{child.name} is not allowed in <{node.name}>")
            else:
                self.non_native(child)

    def _virtual_host(self, node: Node) -> None:
        if not node.args:
            raise ConfigError.at(node, "<VirtualHost> needs an address")
        binds: list[tuple[Optional[str], int]] = []
        default_ports: list[int] = []
        for address in node.args:
            host, port = _check_vhost_address(address, node)
            if host.lower() == "_default_":
                default_ports.append(port)
            else:
                binds.extend((ip, port) for ip in self._resolve_vhost_host(host, node))
        vhost = VirtualHost(server_name="", document_root=self.main.document_root,
                            is_virtual=True, file=node.file, line=node.line,
                            addresses=tuple(node.args), binds=tuple(binds),
                            default_ports=tuple(default_ports))
        for child in node.children or []:
            self._server_node(child, vhost)
        self.vhosts.append(vhost)


def _check_vhost_address(address: str, node: Node) -> tuple[str, int]:
    """`*`, `_default_`, `host`, `host:port`, `*:port`, `[v6]:port` (httpd's vhost addresses)
    → (host, port), port 0 for none or `*` (any port, as httpd's vhost matching)."""
    host, _, port = address.rpartition(":") if not address.endswith("]") else (address, "", "")
    if not host or (host.count(":") and not host.startswith("[")):
        host, port = address, ""  # no port, or a bare IPv6 address
    if port and port != "*" and not (port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError.at(node, f"<VirtualHost {address}>: bad port {port!r}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host, int(port) if port.isdigit() else 0


def _unknown_command(name: str) -> str:
    """httpd's wording, plus the nearest known directive when it looks like a typo."""
    import difflib

    known = [*catalog.DIRECTIVES, *_SERVER_DIRECTIVES, *_HOST_DIRECTIVES]
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (f"Invalid command '{name}', perhaps misspelled or defined by a module "
            f"prefork-modpy does not have{hint}")


def _accepted(builder: _Builder, node: Node) -> None:
    """Directives catalog.py accepts: their values are checked, some warn."""
    key = node.key
    if key == "namevirtualhost":
        builder.warnings.append(f"{node.where}: NameVirtualHost has no effect (as in httpd "
                                "2.4, which warns the same)")
    elif key == "hostnamelookups":
        if _only(node).lower() != "off":
            raise ConfigError.at(node, "HostnameLookups: prefork-modpy does no DNS lookups; "
                                       "only Off is accepted (log addresses, resolve offline)")
    elif key == "servertokens":
        value = _only(node).lower()
        if value not in ("major", "minor", "min", "minimal", "prod", "productonly", "os",
                         "full"):
            raise ConfigError.at(node, "ServerTokens takes Major, Minor, Min, Prod, OS or Full")
        builder.server_fields["server_tokens"] = value
        if value not in ("prod", "productonly", "full"):
            builder.warnings.append(f"{node.where}: ServerTokens {node.args[0]}: the Server "
                                    "header and banner carry no versions here (as Prod)")
    elif key == "defaultruntimedir":
        builder.server_fields["default_runtime_dir"] = builder.resolve_path(_only(node))
    elif key == "accessfilename":
        builder.server_fields["access_file_name"] = tuple(node.args)
    elif key == "defaulttype":
        if _only(node).lower() != "none":
            builder.warnings.append(f"{node.where}: DefaultType has no effect (as in httpd "
                                    "2.4, which warns the same)")


def _section_kind(node: Node, parent_dir: Optional[Section],
                  options: int = HTTPD_DEFAULT_OPTIONS) -> tuple[str, Optional[SearchPattern]]:
    key = node.key
    kinds = {"directory": "directory", "directorymatch": "directory", "files": "files",
             "filesmatch": "files", "location": "location", "locationmatch": "location"}
    if key not in kinds:
        raise ConfigError.at(node, f"<{node.name}> is unknown or not supported by prefork-modpy")
    if not node.args or len(node.args) > 2 or (len(node.args) == 2 and node.args[0] != "~"):
        raise ConfigError.at(node, f"<{node.name}> takes one path or pattern (or ~ and a regex)")
    wants_regex = key.endswith("match") or len(node.args) == 2
    if not wants_regex:
        return kinds[key], None
    try:
        return kinds[key], compile_regex(node.args[-1], options)
    except RegexError as exc:
        raise ConfigError.at(node, f"<{node.name}>: PCRE cannot compile {node.args[-1]!r}: "
                                   f"{exc}") from None


def _section_context(section: Section, parent_dir: Optional[Section]) -> SectionContext:
    if section.kind == "location":
        return SectionContext(directory=section.pattern, is_location=True, is_server=False)
    # <Files> records its enclosing <Directory>'s directory (mod_python skips the Files level).
    owner = parent_dir if section.kind == "files" else section
    directory = owner.pattern if owner is not None and owner.regex is None else None
    # <DirectoryMatch>/wildcards: the directory is resolved per request (mod_python's
    # resolve_directory), from the shortest matching prefix of req.filename.
    pattern = owner.regex if owner is not None else None
    return SectionContext(directory=directory, is_location=False, is_server=False,
                          directory_regex=pattern)


def _default_server_name() -> str:
    import socket

    return socket.gethostname() or "localhost"


# -- mod_ssl --
def _check_tls_listen(config: ServerConfig) -> None:
    """A TLS address cannot also take PROXY headers (the header would have to come before
    the handshake: not implemented) or hand connections to a PythonConnectionHandler."""
    for tls in config.tls_listen:
        if tls.address in config.proxy_protocol_listen:
            raise ConfigError(f"{tls.where}: SSLEngine on for {tls.address[0]}:"
                              f"{tls.address[1]}, a proxy-protocol Listen: PROXY headers "
                              "before TLS are not implemented; terminate TLS in the proxy")
        hosts = config.vhosts_for_address(tls.address) or [config.main]
        if any(host.connection_handler is not None for host in hosts):
            raise ConfigError(f"{tls.where}: PythonConnectionHandler on a TLS address is not "
                              "implemented (the handler would read TLS records)")


def _parse_listen(node: Node) -> tuple[str, int]:
    if len(node.args) not in (1, 2):
        raise ConfigError.at(node, "Listen takes [address:]port")
    return parse_address(node.args[0], node)


# -- PROXY protocol (rust/proxy.rs) --
PROXY_PROTOCOL = "proxy-protocol"


def _proxy_protocol_listen(builder: _Builder, node: Node, address: tuple[str, int]) -> None:
    """`Listen addr:port proxy-protocol`: connections there start with HAProxy's PROXY
    header (v1 or v2; `send-proxy`), and the client it names is the remote address. One
    socket cannot be both: a client could not tell whether to send the header."""
    proxied = len(node.args) == 2 and node.args[1].lower() == PROXY_PROTOCOL
    if address in builder.listen and proxied != (address in builder.proxy_protocol_listen):
        raise ConfigError.at(node, f"Listen {node.args[0]} appears both with and without "
                                   f"{PROXY_PROTOCOL}: one socket cannot be both")
    if proxied:
        builder.proxy_protocol_listen += (address,)


def parse_address(text: str, node: Optional[Node] = None) -> tuple[str, int]:
    """`8080`, `127.0.0.1:8080`, `[::1]:8080` → (host, port)."""
    host, port_text = "0.0.0.0", text
    if text.startswith("["):
        host, _, port_text = text[1:].partition("]:")
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        message = f"bad address {text!r}: expected [address:]port"
        raise ConfigError.at(node, message) if node else ConfigError(message)
    return host, int(port_text)


def _number(node: Node, cast: Callable = int, minimum: float = 0):
    try:
        value = cast(_only(node))
    except ValueError:
        raise ConfigError.at(node, f"{node.name} takes a number, not {node.args[0]!r}") from None
    if value < minimum:
        raise ConfigError.at(node, f"{node.name} must be at least {minimum}")
    return value


def _only(node: Node) -> str:
    if len(node.args) != 1:
        raise ConfigError.at(node, f"{node.name} takes one argument")
    return node.args[0]


def _on_off(node: Node) -> bool:
    value = _only(node).lower()
    if value not in ("on", "off"):
        raise ConfigError.at(node, f"{node.name} must be On or Off")
    return value == "on"


def _set_document_root(builder: _Builder, host: VirtualHost, node: Node) -> None:
    root = builder.resolve_path(_only(node))
    if not os.path.isdir(root):  # httpd 2.4 warns (AH00112) and starts
        builder.warnings.append(f"{node.where}: DocumentRoot {root} does not exist (or is not "
                                "a directory); requests mapped there get 404")
    host.document_root = root


def _set_server_name(builder: _Builder, host: VirtualHost, node: Node) -> None:
    """`ServerName [scheme://]name[:port]` (core's server_hostname_port)."""
    name = _only(node).partition("://")[2] or node.args[0]
    if name.startswith("["):
        host.server_name, _, rest = name[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host.server_name, _, port = name.partition(":")
    host.server_port = 0
    if port:
        number = int(port) if port.isdigit() else 0
        if not 0 < number < 65536:
            raise ConfigError.at(node, f'ServerName: the port number "{port}" is outside the '
                                       "appropriate range (i.e., 1..65535)")
        host.server_port = number


def _server_admin(builder: _Builder, host: VirtualHost, node: Node) -> None:
    host.server_admin = _only(node)


def _connection_handler(builder: _Builder, host: VirtualHost, node: Node) -> None:
    host.connection_handler = connection_handler_entry(node)


def _server_path(builder: _Builder, host: VirtualHost, node: Node) -> None:
    """`ServerPath /prefix`: requests without Host under the prefix go to this vhost."""
    host.server_path = _only(node)


def _server_signature(builder: _Builder, host: VirtualHost, node: Node) -> None:
    value = _only(node).lower()
    if value not in ("on", "off", "email"):
        raise ConfigError.at(node, "ServerSignature must be On, Off or EMail")
    host.server_signature = value  # the footer of httpd/errorpages.py


def _error_log(builder: _Builder, host: VirtualHost, node: Node) -> None:
    """`ErrorLog file|"|command"|syslog[:facility]`; a <VirtualHost>'s own file is checked
    against the main server's once the whole config is read."""
    target = _only(node)
    if target.startswith("|"):  # a piped log program (runtime/pipedlogs.py)
        if not target[1:].strip("|$ "):
            raise ConfigError.at(node, "ErrorLog: the piped log needs a command after |")
        path = target
    elif target.split(":")[0].lower() == "syslog":
        try:
            logformat.syslog_facility(target)
        except ValueError as exc:
            raise ConfigError.at(node, f"ErrorLog {target}: {exc}") from None
        path = target.lower()
    else:
        path = builder.resolve_path(target)
    host.error_fname = target
    if host is builder.main:
        builder.sources.setdefault("ErrorLog", node.where)
        builder.extra["error_log"] = path
    else:
        host.error_log = path


_LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
           *(f"trace{n}" for n in range(1, 9)))


def _log_level(builder: _Builder, host: VirtualHost, node: Node) -> None:
    """`LogLevel level [module:level ...]`."""
    if not node.args:
        raise ConfigError.at(node, "LogLevel takes a level")
    levels = [word for word in node.args if ":" not in word]
    per_module = [word for word in node.args if ":" in word]
    for word in node.args:
        if word.rpartition(":")[2].lower() not in _LEVELS:
            raise ConfigError.at(node, f"LogLevel: unknown level {word!r}")
    if per_module:
        require_wired(node, "LogLevel", f"per-module levels {' '.join(per_module)}")
    if len(levels) != 1:
        raise ConfigError.at(node, "LogLevel takes one level (and optional module:level)")
    if host is builder.main:
        builder.sources.setdefault("LogLevel", node.where)
        builder.extra["log_level"] = levels[0].lower()
    else:
        host.log_level = levels[0].lower()


def _set_aliases(builder: _Builder, host: VirtualHost, node: Node) -> None:
    if not node.args:
        raise ConfigError.at(node, "ServerAlias needs at least one name")
    host.aliases += tuple(node.args)


def _custom_log(builder: _Builder, host: VirtualHost, node: Node) -> None:
    if len(node.args) == 3 and node.args[2].lower().startswith("expr="):
        raise ConfigError.at(node, f"CustomLog {node.args[2]}: ap_expr conditions are not "
                                   "implemented; use env=[!]variable with SetEnvIf (refused "
                                   "rather than ignored)")
    if len(node.args) == 3 and not (node.args[2].lower().startswith("env=")
                                    and node.args[2][4:].lstrip("!")):
        raise ConfigError.at(node, f"CustomLog {node.args[2]}: the third argument is "
                                   "env=[!]variable (mod_log_config's conditional logging)")
    if len(node.args) not in (2, 3):
        raise ConfigError.at(node, "CustomLog takes a file, a format or nickname, and "
                                   "optionally env=[!]variable")
    if node.args[0].startswith("|") and not node.args[0][1:].strip("|$ "):
        raise ConfigError.at(node, "CustomLog: the piped log needs a command after |")
    builder.custom_logs.append((host, node))


def _buffered_logs(builder: _Builder, host: VirtualHost, node: Node) -> None:
    """mod_log_config's `BufferedLogs On|Off`: allowed in a <VirtualHost> but, as in httpd
    (one flag for the whole server), the last one read applies to every access log."""
    builder.server_fields["buffered_logs"] = _on_off(node)


def _alias(builder: _Builder, host: VirtualHost, node: Node) -> None:
    if len(node.args) != 2:
        raise ConfigError.at(node, "Alias takes a URL path and a file-system path")
    fake, real = node.args
    if not fake.startswith("/"):
        raise ConfigError.at(node, "Alias: the URL path must start with /")
    host.url_aliases += ((fake, builder.resolve_path(real)),)


_HOST_DIRECTIVES: dict[str, Callable[[_Builder, VirtualHost, Node], None]] = {
    "alias": _alias,
    "documentroot": _set_document_root,
    "servername": _set_server_name,
    "serveralias": _set_aliases,
    "customlog": _custom_log,
    "bufferedlogs": _buffered_logs,
    "serveradmin": _server_admin,
    "serverpath": _server_path,
    "pythonconnectionhandler": _connection_handler,
    "serversignature": _server_signature,
    "errorlog": _error_log,
    "loglevel": _log_level,
    **mod_ssl.HOST_DIRECTIVES,  # -- mod_ssl --
}


def _limit_setter(attr: str, cast: Callable = int, minimum: float = 0) -> Callable:
    def apply(builder: _Builder, node: Node) -> None:
        setattr(builder.limits, attr, _number(node, cast, minimum))
    return apply


def _extra_setter(key: str) -> Callable:
    def apply(builder: _Builder, node: Node) -> None:
        builder.extra[key] = _only(node)
    return apply


def _python_import(builder: _Builder, node: Node) -> None:
    if len(node.args) != 2:
        raise ConfigError.at(node, "PythonImport takes a module[::function] and an interpreter")
    module = node.args[0].partition("::")[0]
    if "/" in module and not (module.startswith("/") and module.endswith(".py")):
        raise ConfigError.at(node, f"PythonImport: {module!r} is neither a module name nor an "
                                   "absolute path to a .py file")
    builder.extra["python_imports"].append((node.args[0], node.args[1], node.file, node.line))


def _python_optimize(builder: _Builder, node: Node) -> None:
    builder.extra["python_optimize"] = _on_off(node)


def _keepalive(builder: _Builder, node: Node) -> None:
    builder.limits.keepalive = _on_off(node)


_READ_TIMEOUT = re.compile(r"(?i)(handshake|header|body)=(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?"
                           r"(?:,minrate=(\d+))?")


def _request_read_timeout(builder: _Builder, node: Node) -> None:
    """mod_reqtimeout: `RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500`.
    A stage not named keeps its default; `handshake=` bounds a TLS handshake (rust/tls.rs)."""
    if not node.args:
        raise ConfigError.at(node, "RequestReadTimeout takes header=... and/or body=...")
    for word in node.args:
        match = _READ_TIMEOUT.fullmatch(word)
        if match is None:
            raise ConfigError.at(node, f"RequestReadTimeout: cannot parse {word!r} (expected "
                                       "header|body=timeout[-maxtimeout][,MinRate=rate])")
        stage, initial, maximum, rate = match.groups()
        stage = stage.lower()
        first = float(initial)
        cap = float(maximum) if maximum is not None else 0.0
        min_rate = int(rate) if rate is not None else 0
        if maximum is not None and cap <= first:
            raise ConfigError.at(node, f"RequestReadTimeout {word}: the maximum timeout must be "
                                       "larger than the initial one")
        if maximum is not None and not min_rate:
            raise ConfigError.at(node, f"RequestReadTimeout {word}: a timeout range needs "
                                       "MinRate")
        if rate is not None and min_rate == 0:
            raise ConfigError.at(node, f"RequestReadTimeout {word}: MinRate must be positive")
        if first == 0:
            cap, min_rate = 0.0, 0  # the stage has no deadline at all
        setattr(builder.limits, f"{stage}_timeout", first)
        setattr(builder.limits, f"{stage}_timeout_max", cap)
        setattr(builder.limits, f"{stage}_min_rate", min_rate)


def _process_setter(attr: str, cast: Callable = int, minimum: float = 0) -> Callable:
    def apply(builder: _Builder, node: Node) -> None:
        setattr(builder.processes, attr, _number(node, cast, minimum))
    return apply


def _memory_size(builder: _Builder, node: Node) -> None:
    """`MaxMemoryPerChild 512M`: bytes, with an optional K, M or G suffix."""
    text = _only(node).upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit():
        raise ConfigError.at(node, "MaxMemoryPerChild takes a size such as 512M")
    builder.processes.max_memory_per_child = int(digits) * scale


def _user(builder: _Builder, node: Node) -> None:
    import pwd

    name = _only(node)
    try:
        entry = pwd.getpwuid(int(name[1:])) if name.startswith("#") else pwd.getpwnam(name)
    except (KeyError, ValueError):
        raise ConfigError.at(node, f"User: no such user {name!r}") from None
    processes = builder.processes
    processes.user, processes.uid = entry.pw_name, entry.pw_uid
    if processes.group is None:
        processes.gid = entry.pw_gid


def _group(builder: _Builder, node: Node) -> None:
    import grp

    name = _only(node)
    try:
        entry = grp.getgrgid(int(name[1:])) if name.startswith("#") else grp.getgrnam(name)
    except (KeyError, ValueError):
        raise ConfigError.at(node, f"Group: no such group {name!r}") from None
    builder.processes.group, builder.processes.gid = entry.gr_name, entry.gr_gid


def _pid_file(builder: _Builder, node: Node) -> None:
    builder.processes.pid_file = builder.resolve_path(_only(node))


def _python_import_errors(builder: _Builder, node: Node) -> None:
    value = _only(node).lower()
    if value not in ("fatal", "log"):
        raise ConfigError.at(node, "PythonImportErrors must be Fatal or Log")
    builder.processes.python_import_errors = value


def _proxy_networks(node: Node) -> tuple[str, ...]:
    import ipaddress

    if not node.args:
        raise ConfigError.at(node, f"{node.name} needs at least one address or address/bits")
    for word in node.args:
        try:
            ipaddress.ip_network(word, strict=False)
        except ValueError:
            raise ConfigError.at(node, f"{node.name}: {word!r} is not an address or "
                                       "address/bits (host names are not looked up)") from None
    return tuple(node.args)


def _trusted_proxies(builder: _Builder, node: Node) -> None:
    """TrustedProxies and mod_remoteip's RemoteIPInternalProxy: internal proxies."""
    builder.trusted_proxies += _proxy_networks(node)


def _remote_ip_trusted_proxy(builder: _Builder, node: Node) -> None:
    """mod_remoteip's RemoteIPTrustedProxy: external proxies."""
    listed = builder.server_fields.get("remote_ip_trusted_proxies", ())
    assert isinstance(listed, tuple)
    builder.server_fields["remote_ip_trusted_proxies"] = listed + _proxy_networks(node)


def _remote_ip_header(builder: _Builder, node: Node) -> None:
    name = _only(node)
    if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
        raise ConfigError.at(node, f"RemoteIPHeader: {name!r} is not a header name")
    builder.server_fields["remote_ip_header"] = name
    builder.remote_ip_header_node = node


def _log_format(builder: _Builder, node: Node) -> None:
    if len(node.args) != 2:
        raise ConfigError.at(node, "LogFormat takes a format and a nickname")
    try:
        logformat.validate(node.args[0])
    except ValueError as exc:
        raise ConfigError.at(node, f"LogFormat: {exc}") from None
    builder.log_formats[node.args[1]] = node.args[0]


def _trace_enable(builder: _Builder, node: Node) -> None:
    value = _only(node).lower()
    if value not in ("on", "off", "extended"):
        raise ConfigError.at(node, "TraceEnable must be On, Off or extended")
    builder.server_fields["trace_enable"] = value


def _types_config(builder: _Builder, node: Node) -> None:
    path = builder.resolve_path(_only(node))
    if not os.access(path, os.R_OK):
        raise ConfigError.at(node, f"TypesConfig: cannot read {path}")
    builder.server_fields["types_config"] = path  # read by httpd/mime.py in each worker


def _extended_status(builder: _Builder, node: Node) -> None:
    builder.server_fields["extended_status"] = _on_off(node)  # server/status.py


def _max_connections(builder: _Builder, node: Node) -> None:
    builder.processes.max_connections_per_child = _number(node, int, 0)


# -- server/health --
MAX_HEALTH_DELAY = 3600.0


def _graceful_shutdown_health_delay(builder: _Builder, node: Node) -> None:
    """`GracefulShutdownHealthDelay seconds`: on a graceful stop, keep accepting and serving
    this long with `server-health` answering 503, so a balancer stops sending first."""
    seconds = _number(node, float, 0)
    if not math.isfinite(seconds) or seconds > MAX_HEALTH_DELAY:
        raise ConfigError.at(node, f"{node.name} takes seconds from 0 to {MAX_HEALTH_DELAY:g}, "
                                   f"not {node.args[0]!r}")
    builder.processes.graceful_shutdown_health_delay = seconds


def _regex_default_options(builder: _Builder, node: Node) -> None:
    """`RegexDefaultOptions [+|-]ICASE|DOTALL|DOLLAR_ENDONLY|none ...` for the regexes read
    after it (httpd's ap_regcomp_set_default_cflags)."""
    from .regex import DEFAULT_OPTION_BITS

    options = builder.regex_options
    for word in node.args:
        sign, name = (word[0], word[1:]) if word[:1] in "+-" else ("", word)
        if name.lower() == "none" and not sign:
            options = 0
            continue
        bit = DEFAULT_OPTION_BITS.get(name.upper())
        if bit is None:
            raise ConfigError.at(node, f"RegexDefaultOptions: unknown option {word!r}")
        options = options & ~bit if sign == "-" else (options | bit if sign else bit)
    builder.regex_options = options


def _allow_dot_segments(builder: _Builder, node: Node) -> None:
    """`AllowDotSegments .well-known ...`: dot segments static files may be served under."""
    if not node.args:
        raise ConfigError.at(node, "AllowDotSegments needs at least one name such as "
                                   ".well-known")
    for word in node.args:
        if not word.startswith(".") or "/" in word or word in (".", ".."):
            raise ConfigError.at(node, f"AllowDotSegments: {word!r} is not one path segment "
                                       "starting with a dot (such as .well-known)")
    allowed = builder.server_fields.get("allowed_dot_segments", frozenset())
    assert isinstance(allowed, frozenset)
    builder.server_fields["allowed_dot_segments"] = allowed | frozenset(node.args)


def _listen(builder: _Builder, node: Node) -> None:
    address = _parse_listen(node)
    _proxy_protocol_listen(builder, node, address)  # -- PROXY protocol --
    if len(node.args) == 2 and node.args[1].lower() != PROXY_PROTOCOL:
        _listen_protocol(builder, node, address, node.args[1].lower())
    builder.listen.append(address)
    builder.listen_sources.setdefault(address, node.where)  # start-up errors name the line


def _listen_protocol(builder: _Builder, node: Node, address: tuple[str, int],
                     protocol: str) -> None:
    """`Listen addr:port protocol`: the name AcceptFilter lines refer to. One socket has
    one protocol (httpd refuses two for one address, AH00073)."""
    named = builder.listen_protocols.setdefault(address, protocol)
    if named != protocol:
        raise ConfigError.at(node, f"Listen {node.args[0]} names protocol {protocol!r} "
                                   f"after {named!r}: one socket has one protocol")


def _accept_filter(builder: _Builder, node: Node) -> None:
    """`AcceptFilter protocol filter` (core): on Linux any filter but `none` makes the
    protocol's listeners wait for the client's first bytes (TCP_DEFER_ACCEPT), so a worker
    accepts a connection together with its request."""
    if len(node.args) != 2:
        raise ConfigError.at(node, "AcceptFilter takes a protocol and a filter name "
                                   "(AcceptFilter http data, AcceptFilter http none)")
    builder.accept_filters[node.args[0].lower()] = node.args[1].lower()


def _server_root(builder: _Builder, node: Node) -> None:
    builder.extra["server_root"] = builder.resolve_path(_only(node))


_SERVER_DIRECTIVES: dict[str, Callable[[_Builder, Node], None]] = {
    "listen": _listen,
    "acceptfilter": _accept_filter,
    "serverroot": _server_root,
    "timeout": _limit_setter("timeout", float, 1),
    "keepalive": _keepalive,
    "keepalivetimeout": _limit_setter("keepalive_timeout", float, 0),
    "maxkeepaliverequests": _limit_setter("max_keepalive_requests", int, 0),
    "requestreadtimeout": _request_read_timeout,
    "limitrequestline": _limit_setter("request_line", int, 64),
    "limitrequestfieldsize": _limit_setter("field_size", int, 64),
    "limitrequestfields": _limit_setter("fields", int, 1),
    "pythonimport": _python_import,
    "pythonoptimize": _python_optimize,
    "startservers": _process_setter("start_servers", int, 1),
    "minspareservers": _process_setter("min_spare_servers", int, 1),
    "maxspareservers": _process_setter("max_spare_servers", int, 1),
    "maxrequestworkers": _process_setter("max_request_workers", int, 1),
    "maxclients": _process_setter("max_request_workers", int, 1),
    "maxrequestsperchild": _process_setter("max_requests_per_child", int, 0),
    "maxrequestsjitter": _process_setter("max_requests_jitter", int, 0),
    "maxmemoryperchild": _memory_size,
    "gracefulshutdowntimeout": _process_setter("graceful_shutdown_timeout", float, 0),
    "user": _user,
    "group": _group,
    "pidfile": _pid_file,
    "logformat": _log_format,
    "pythonimporterrors": _python_import_errors,
    "trustedproxies": _trusted_proxies,
    "remoteipinternalproxy": _trusted_proxies,  # -- mod_remoteip --
    "remoteiptrustedproxy": _remote_ip_trusted_proxy,
    "remoteipheader": _remote_ip_header,
    "traceenable": _trace_enable,
    "typesconfig": _types_config,
    "extendedstatus": _extended_status,
    "maxconnectionsperchild": _max_connections,
    "regexdefaultoptions": _regex_default_options,
    "allowdotsegments": _allow_dot_segments,  # -- dot segments --
    # -- server/health --
    "gracefulshutdownhealthdelay": _graceful_shutdown_health_delay,
}


def load_config(path: str, defines: frozenset[str] = frozenset(),
                environ: Optional[Mapping[str, str]] = None) -> ServerConfig:
    """Read and validate `path` (`${VAR}` from `environ`, default os.environ); raises
    ConfigError('file:line: message')."""
    reader = ConfigReader(defines, environ)
    nodes = reader.read(path)
    final_defines = frozenset(reader.defines)
    builder = _Builder(os.path.abspath(path), final_defines, reader)
    return builder.build(nodes, reader.files_read)
