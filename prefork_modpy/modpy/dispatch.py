"""mod_python's HandlerDispatch: walk the phases, call the handlers, act on their results.

Owns one request from a parsed head to a finished response: translation, the per-directory
settings, the phase walk in Apache's order with mod_python's stacking rules, error reports
(PythonDebug pages), error documents, the default handler, then the log and cleanup phases.
Does socket I/O only through `req`.
"""

from __future__ import annotations

import html
import os
import traceback
from stat import S_ISDIR
from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from .. import _core
from ..config.directives import (
    PHASE,
    PYTHON_HANDLER_NAMES,
    SERVED_AS_FILES,
    HandlerEntry,
    resolve_directory,
)
from ..httpd import (
    auth,
    errordoc,
    errorpages,
    htaccess,
    mime,
    outfilters,
    rewrite,
    ssl,
    static,
    symlinks,
    trace,
    translate,
)
from ..runtime.importer import resolve_object
from ..runtime.record import ResponseHeadError
from . import filters, httpdhooks, redirect
from . import ssi as _ssi  # noqa: F401 - registers mod_python's #python SSI element
from .request import Request

if TYPE_CHECKING:
    from .._core import RawRequest
    from ..config.directives import DirSettings
    from ..config.server import VirtualHost
    from ..httpd.staticplan import StaticPlanner
    from ..runtime.runtime import Runtime

# A content handler built into the server (`SetHandler server-status`).
BuiltinHandler = Callable[[Request], int]

OK, DECLINED, DONE = apache.OK, apache.DECLINED, apache.DONE

SERVER_PHASES = ("PythonInitHandler", "PythonPostReadRequestHandler")
# What _call answers for a silent (PythonHandlerModule) entry whose module lacks the phase.
SKIPPED: Any = object()
CONTENT_ONLY = frozenset({"PythonHandler", "PythonLogHandler", "PythonCleanupHandler"})
# Bound of the per-worker caches of parsed request-targets and Host values (cleared when full).
# Only short ones are kept, so a client sending long unique targets cannot grow a worker.
TARGET_CACHE_SIZE = 4096
CACHED_TARGET_LENGTH = 256


class HandlerListEntry:
    """`req.hlist`: the handler entry being run."""

    __slots__ = ("handler", "directory", "is_location", "silent")

    def __init__(self, entry: HandlerEntry) -> None:
        self.handler = entry.token
        self.directory = entry.directory
        self.is_location = int(entry.is_location)
        self.silent = int(entry.silent)


class _ResolvePlan:
    """The per-directory directives `Dispatcher.resolve` reads for one handler entry, and
    the entry's `req.hlist`."""

    __slots__ = ("entry", "config", "hlist", "interpreter", "per_directory", "python_path",
                 "directory", "debug", "autoreload", "plain_object", "interp_name", "interp",
                 "path_added")

    def __init__(self, entry: HandlerEntry, config: dict[str, str]) -> None:
        # kept: the plan is valid for this very entry and dict only (looked up by identity)
        self.entry = entry
        self.config = config
        self.hlist = HandlerListEntry(entry)
        # Dispatcher.interpreter_name's choice where it does not depend on the request;
        # None: the virtual host's ServerName.
        name = config.get("PythonInterpreter") or None
        self.per_directory = name is None and config.get("PythonInterpPerDirectory") == "1"
        if name is None and config.get("PythonInterpPerDirective") == "1" and entry.directory:
            name = entry.directory
        self.interpreter = name
        self.python_path = config.get("PythonPath")
        self.directory = entry.directory if (self.python_path is None and entry.directory
                                             and not entry.is_location) else None
        self.debug = config.get("PythonDebug") == "1"
        self.autoreload = config.get("PythonAutoReload") != "0"
        self.plain_object = "." not in entry.obj  # `handler`: one getattr (resolve_object)
        # The module cache's Interpreter for the last name entered (names never leave it),
        # and the interpreters whose sys.path has `directory` (Runtime.prepend_sys_path
        # adds it once per interpreter and never takes it back).
        self.interp_name: Optional[str] = None
        self.interp: Any = None
        self.path_added: set[str] = set()


class _Route:
    """What the phase walk decides for one URI of one virtual host when nothing but the
    config and the directory walk's answer decides it (`Dispatcher._route_for`): the mapped
    file, the settings, the handler name and the PythonHandler entries. The directory walk
    (`translate.map_to_file`, a stat) still runs for every request; the route holds only
    while it gives the same answer."""

    __slots__ = ("maps_file", "root", "mapped", "settings", "handler", "entries", "plans",
                 "extension", "sets_extension", "whole_file")

    def __init__(self, maps_file: bool, root: str, mapped: tuple[Any, Any, bool],
                 settings: DirSettings, handler: Optional[str]) -> None:
        self.maps_file = maps_file
        self.root = root
        self.mapped = mapped
        self.settings = settings
        self.handler = handler
        self.entries: tuple[HandlerEntry, ...] = ()
        self.plans: tuple[_ResolvePlan, ...] = ()  # the entries' plans (Dispatcher._plan)
        self.extension: Optional[str] = None
        self.sets_extension = False
        # The URI names the file itself (set by _route_for): map_to_file's first stat
        # decides, and while it finds no directory the answer is `mapped` again.
        self.whole_file = False


# Routes kept per worker (cleared when full); only short URIs, as the target cache.
ROUTE_CACHE_SIZE = 4096


def _notice_log(req: Request) -> Callable[[str], None]:
    """PythonDebug's "(Re)importing module" notes, at APLOG_NOTICE."""
    return lambda msg: req.log_error(msg, apache.APLOG_NOTICE)


class Dispatcher:
    """Serves requests for one worker with its runtime (config, module cache, logs)."""

    def __init__(self, runtime: Runtime,
                 access_log: Optional[Callable[[Request], None]] = None) -> None:
        self.runtime = runtime
        self.config = runtime.config
        self.access_log = access_log
        # id(vhost) -> the writer of its one unconditional CustomLog (AccessLogger.only_log)
        self._log_writers: dict[int, Callable[[Request], None]] = getattr(
            access_log, "only_log", {})
        # Content handlers built into the server, by handler name.
        self.builtin_handlers: dict[str, BuiltinHandler] = {}
        self._plans: dict[tuple[Any, int], _ResolvePlan] = {}
        # (id(vhost), uri) -> its _Route, or None where the phase walk must run
        self._routes: dict[tuple[int, str], Optional[_Route]] = {}
        self._routable: dict[int, bool] = {}  # id(vhost) -> _vhost_routable(vhost)
        # request-target -> (decoded URI, query, authority), and Host -> host name: pure
        # functions of what the client sent, asked again by every keep-alive client.
        self._targets: dict[str, tuple[str, Optional[str], Optional[str]]] = {}
        self._host_names: dict[Optional[str], Optional[str]] = {}
        runtime.dispatcher = self  # req.internal_redirect() and filters come back here
        if self.config.types_config is not None:  # TypesConfig: that file's table only
            mime.use_types_config(self.config.types_config)
        # -- ServerPath -- (vhost.c check_serverpath, for requests without Host)
        self.has_server_paths = any(vhost.server_path for vhost in self.config.vhosts)
        self.has_tls = bool(self.config.tls_listen)  # -- mod_ssl --
        # Set by the worker when its engine may answer repeats of static requests itself.
        self.static_planner: Optional[StaticPlanner] = None

    def handle(self, raw: RawRequest) -> Optional[Request]:
        """Serve one request completely. Returns the request for the access log.
        Nothing a request does may end the worker: a bug of ours closes the connection."""
        try:
            return self._handle(raw)
        except Exception:
            self.runtime.error_log.log("internal error: " + traceback.format_exc())
            raw.abort()
            return None

    def _handle(self, raw: RawRequest) -> Optional[Request]:
        target = raw.target
        known = self._targets.get(target)
        if known is None:
            try:
                path, args, authority = translate.split_target(target)
                if path == "*":
                    self._answer_options_star(raw)
                    return None
                known = (translate.decode_path(path), args, authority)
            except translate.HTTPError as exc:
                self._send_bare_error(raw, exc.status)
                return None
            if len(target) <= CACHED_TARGET_LENGTH:
                if len(self._targets) >= TARGET_CACHE_SIZE:
                    self._targets.clear()
                self._targets[target] = known
        uri, args, authority = known
        host = authority if authority is not None else raw.header("Host")
        hostname = self._host_names.get(host)
        if hostname is None:
            hostname = translate.host_name(host)
            if host is not None and len(host) <= CACHED_TARGET_LENGTH:
                if len(self._host_names) >= TARGET_CACHE_SIZE:
                    self._host_names.clear()
                self._host_names[host] = hostname
        config = self.config
        if config.vhosts:
            vhost = config.select_vhost(
                hostname, raw.local_addr if config.match_vhost_addresses else None)
        else:  # select_vhost's answer without reading the local address
            vhost = config.main
        if hostname is None and self.has_server_paths:  # -- ServerPath --
            vhost = config.vhost_by_server_path(uri) or vhost
        req = Request(raw, self.runtime, vhost, uri, args, hostname)
        try:
            result = self._process_routed(req)
            if result == OK:  # _respond's usual case
                req.response.finish(req)
            else:
                self._respond(req, result)
        except ResponseHeadError:  # already logged with the header's name (record.py)
            self._finish_error(req, apache.HTTP_INTERNAL_SERVER_ERROR)
        except OSError as exc:
            # The client went away or stalled: nothing more can be said to it.
            self.runtime.error_log.log(f"client connection lost: {exc}", apache.APLOG_INFO)
            raw.abort()
        except Exception:  # a bug of ours: answer 500 if we still can
            self.runtime.error_log.log("internal error: " + traceback.format_exc())
            if raw.headers_sent:
                raw.abort()
            else:
                self._finish_error(req, apache.HTTP_INTERNAL_SERVER_ERROR)
        self._after_response(req)
        return req

    # -- the phases -----------------------------------------------------------------------

    def _process(self, req: Request) -> int:
        if self.has_tls:  # -- mod_ssl: ssl_hook_ReadReq (post_read_request) --
            misdirected = ssl.check_sni(req, req.hostname)
            if misdirected:
                return misdirected
        server_settings = req.vhost.settings
        req.per_dir_config = server_settings
        if server_settings.phases or req.dynamic_handlers:
            result = self._run_phases(req, SERVER_PHASES, server_settings)
            if result != OK:
                return result
        if server_settings.httpd is not None:  # issue 10's modules (httpdhooks.py)
            httpdhooks.post_read_request(req, server_settings.httpd)
        result = self._translate(req, server_settings)
        if result != OK:
            return result
        if req.method == "TRACE":  # -- TraceEnable: httpd's core, at map_to_storage --
            return trace.answer(req, self.config.trace_enable)
        try:
            settings = self._settle(req)
        except htaccess.HtaccessError as exc:  # httpd: [core:alert] and 500
            req.log_error(str(exc), apache.APLOG_ALERT)
            return apache.HTTP_INTERNAL_SERVER_ERROR
        if settings.ssl_require:  # -- mod_ssl: SSLRequireSSL (ssl_hook_Access) --
            result = ssl.require_ssl(req)
            if result != OK and not ssl.left_to_satisfy_any(req, settings):
                return result
        if self.has_tls:  # -- mod_ssl: per-directory SSLVerifyClient/Depth, then Fixup --
            result = ssl.check_client(req, settings)
            if result != OK:
                return result
            for name, value in ssl.fixup_env(req).items():
                req.subprocess_env[name] = value
        if settings.options_set is not None or settings.options_remove:  # -- Options --
            result = symlinks.check(req, settings.effective_options)
            if result != OK:
                return result
        req.handler = self._content_handler(req, settings)
        # Most sections have only a PythonHandler: one set check skips the other phases.
        if settings.requires or req.dynamic_handlers or not settings.phases <= CONTENT_ONLY \
                or settings.rewrite_active or settings.httpd is not None:
            result = self._before_content(req, settings)
            if result != OK:
                return result
            settings = req.per_dir_config or settings  # DirectoryIndex after rewriting
        return self._content(req, settings)

    # -- routes: the phase walk's decisions, kept per (virtual host, URI) -----------------

    def _process_routed(self, req: Request) -> int:
        """A request as the client sent it: through its route when the phase walk's
        decisions for its URI are known (`_route_for`), else the phase walk."""
        vhost = req.vhost
        routable = self._routable.get(id(vhost))
        if routable is None:
            routable = self._routable[id(vhost)] = self._vhost_routable(vhost)
        uri = req.uri
        if not routable or req.method == "TRACE" or len(uri) > CACHED_TARGET_LENGTH:
            return self._process(req)
        if self.has_tls:  # -- mod_ssl: ssl_hook_ReadReq, per request as in _process --
            misdirected = ssl.check_sni(req, req.hostname)
            if misdirected:
                return misdirected
        key = (id(vhost), uri)
        route = self._routes.get(key, SKIPPED)
        if route is None:
            return self._process(req)
        if route is SKIPPED or route.maps_file:
            # The directory walk runs for every request, as core's map_to_storage does.
            if route is not SKIPPED and route.whole_file:
                filename = route.mapped[0]
                try:  # map_to_file's first step: the whole path exists
                    info = os.stat(filename)
                except (OSError, ValueError):
                    pass
                else:
                    if not S_ISDIR(info.st_mode):
                        req.walk_finfo = (filename, info)  # r->finfo, as the walk leaves it
                        return self._run_route(req, route)
            mapped = translate.map_to_file(vhost.document_root, uri)
            if route is SKIPPED or mapped != route.mapped:
                if len(self._routes) >= ROUTE_CACHE_SIZE:
                    self._routes.clear()
                route = self._routes[key] = self._route_for(vhost, uri, mapped)
                if route is None:
                    return self._process(req)
        return self._run_route(req, route)

    def _vhost_routable(self, vhost: VirtualHost) -> bool:
        """Whether nothing in the server context of `vhost` acts per request before the
        directory walk (the opening of _process and _translate): no server-level Python
        phase, mod_rewrite, Alias or other httpd module, no .htaccess to read. TLS is no
        obstacle: mod_ssl's per-request checks (SNI against Host, SSLVerifyClient, the
        Fixup variables) run on the route as in _process."""
        settings = vhost.settings
        return not (settings.phases or settings.httpd is not None
                    or vhost.rewrite_on or vhost.url_aliases or vhost.reads_htaccess)

    def _route_for(self, vhost: VirtualHost, uri: str,
                   mapped: tuple[str, str, bool]) -> Optional[_Route]:
        """What _process would decide for `uri` on `vhost` given the directory walk's
        answer `mapped`, when that depends on the config alone; None when some step acts
        per request (a directory, DirectoryIndex, Options, auth, a phase before the
        content, mod_rewrite, httpd's modules, filters, SSLRequireSSL, a handler that is
        neither mod_python nor the default one)."""
        if vhost.location_has_python_handlers(uri) and _python_claims(vhost, uri):
            route = _Route(False, vhost.document_root, (None, None, False),
                           vhost.effective_settings(None, uri), None)
        else:
            filename, path_info, is_dir = mapped
            if is_dir or filename.endswith("/"):
                return None
            route = _Route(True, vhost.document_root, mapped,
                           vhost.effective_settings(filename, uri), None)
            route.whole_file = path_info == "" and \
                filename == vhost.document_root.rstrip("/") + uri
        settings = route.settings
        if (settings.ssl_require or not settings.phases <= CONTENT_ONLY
                or settings.rewrite_active or settings.httpd_output or settings.filtered):
            return None
        # Options that follow every symlink check nothing per request (symlinks.check), and
        # `Require all granted` alone can only grant (auth.grants_everyone): a Debian site's
        # <Directory /var/www/> (Options Indexes FollowSymLinks, Require all granted).
        if (settings.options_set is not None or settings.options_remove) \
                and "followsymlinks" not in settings.effective_options:
            return None
        if (settings.requires or settings.httpd is not None) \
                and not auth.grants_everyone(settings):
            return None
        handler = route.handler = self._content_handler_of(route.mapped[0], settings)
        if handler in PYTHON_HANDLER_NAMES:
            if "PythonHandler" not in settings.phases:
                return None
            route.entries, extension, route.sets_extension = _handler_entries(
                route.mapped[0], "PythonHandler", settings)
            route.extension = extension
            if not route.entries:
                return None
            if all(entry.dir_pattern is None for entry in route.entries):
                route.plans = tuple(self._plan(entry, settings.python_config)
                                    for entry in route.entries)
        elif handler is not None:
            return None
        return route

    def _run_route(self, req: Request, route: _Route) -> int:
        """_process's steps for a routed request: what the walk would set on `req`, then
        the content handler (PythonHandler's list, else the default handler)."""
        req.filename, req.path_info = route.mapped[0], route.mapped[1]
        req.canonical_filename = req.filename
        settings = req.per_dir_config = route.settings
        if self.has_tls:  # -- mod_ssl: ssl_hook_Access (SSLVerifyClient), then Fixup --
            result = ssl.check_client(req, settings)
            if result != OK:
                return result
            for name, value in ssl.fixup_env(req).items():
                req.subprocess_env[name] = value
        req.handler = route.handler
        if route.entries:
            if route.sets_extension:
                req.handler_extension = route.extension
            result = self._run_entries(req, "PythonHandler", [*route.entries], settings,
                                       route.plans)
            if result != DECLINED:
                return result
        result = static.serve(req)
        planner = self.static_planner
        if planner is not None and not route.entries and req.response.whole_file is not None:
            # Nothing but the default handler acted: repeats may be the engine's.
            planner.offer(req, req.response.whole_file)
        return result

    def _run_phases(self, req: Request, phases: tuple[str, ...], settings: DirSettings) -> int:
        """RUN_ALL phases: OK and DECLINED go on; anything else ends the request."""
        for phase in phases:
            result = self._run_phase(req, phase, settings)
            if result not in (OK, DECLINED):
                return result
        return OK

    def _before_content(self, req: Request, settings: DirSettings) -> int:
        mods = settings.httpd  # issue 10's modules hook in around the phases (httpdhooks.py)
        result = self._run_phase(req, "PythonHeaderParserHandler", settings)
        if result in (OK, DECLINED) and mods is not None:
            httpdhooks.header_parser(req, mods)
        if result in (OK, DECLINED):  # the access phase runs inside (Satisfy, auth.py)
            result = self._check_auth(req, settings)
        if result == OK:
            result = self._run_phases(req, ("PythonTypeHandler",), settings)
        if result == OK and settings.rewrite_active:  # mod_rewrite's fixup runs first
            result, settings = self._rewrite_fixup(req, settings)
            mods = settings.httpd
        if result == OK and mods is not None:  # mod_alias, then mod_env (httpdhooks.py)
            result = httpdhooks.fixups(req, mods)
        if result == OK:
            result = self._run_phases(req, ("PythonFixupHandler",), settings)
        if result == OK and mods is not None:
            result = httpdhooks.after_fixups(req, mods, settings, self.internal_redirect)
        return result

    # -- mod_rewrite --
    def _rewrite_fixup(self, req: Request, settings: DirSettings) -> tuple[int, DirSettings]:
        """Per-directory rewriting (rewrite.fixup); when it declines on a directory URL,
        mod_dir's DirectoryIndex then applies, and the index file's own rules with it."""
        result = rewrite.fixup(req, settings)
        if result == DECLINED and req.rewrite_redirect is None and _is_dir_url(req):
            settings = self._directory_index(req, settings)
            req.per_dir_config = settings
            req.handler = self._content_handler(req, settings)
            if settings.rewrite_active and not _is_dir_url(req):
                result = rewrite.fixup(req, settings)
        return (OK if result == DECLINED else result), settings

    def _translate(self, req: Request, server_settings: DirSettings) -> int:
        vhost = req.vhost
        if vhost.rewrite_on:  # mod_rewrite's translate_name hook runs first
            rewritten = self._rewrite_translate(req)
            if rewritten is not None:
                return rewritten
        if server_settings.httpd is not None or vhost.url_aliases:
            # then mod_alias's, before mod_python's (Debian's load order; httpdhooks.py)
            aliased = httpdhooks.translate_name(req, server_settings.httpd)
            if aliased is not None:
                return aliased
        result = self._run_phase(req, "PythonTransHandler", server_settings)
        if result == OK and req.filename is not None:
            return OK
        if result not in (OK, DECLINED):
            return result
        if vhost.location_has_python_handlers(req.uri) and _python_claims(vhost, req.uri):
            req.filename = req.path_info = None
            return OK
        req.filename, req.path_info, req.is_dir = translate.map_to_file(vhost.document_root,
                                                                        req.uri)
        req.canonical_filename = req.filename
        if not req.path_info and req.prev is not None:
            # ap_internal_redirect's request starts zeroed: no extra path leaves it NULL
            req.path_info = None
        return OK

    def _rewrite_translate(self, req: Request) -> Optional[int]:
        """Server-context rewriting (rewrite.translate): a local path is mapped as the
        core maps one (path_info split), skipping Alias and DocumentRoot."""
        assert req.vhost.rewrite is not None
        result = rewrite.translate(req, req.vhost.rewrite)
        if result != OK:
            return result
        filename = req.rewritten_filename or ""
        req.filename, req.path_info, req.is_dir = translate.map_to_file("", filename)
        req.canonical_filename = req.filename
        return OK

    def _settle(self, req: Request) -> DirSettings:
        """Effective settings for the mapped file; a directory URL with an index file
        becomes a request for that file (mod_dir's DirectoryIndex), after per-directory
        rewriting when there is some (mod_rewrite's fixup runs before mod_dir's)."""
        settings = self._dir_settings(req)
        filename = req.filename
        if filename is not None and filename.endswith("/") and req.uri.endswith("/") \
                and not settings.rewrite_active:
            settings = self._directory_index(req, settings)
        req.per_dir_config = settings
        return settings

    def _dir_settings(self, req: Request) -> DirSettings:
        vhost = req.vhost
        filename = req.filename
        # a directory's own <Directory> sections apply to it, slash or not (directory walk)
        if req.is_dir and filename and not filename.endswith("/"):
            filename += "/"
        if vhost.reads_htaccess:  # decided at config load
            return htaccess.effective_settings(self.config, vhost, filename, req.uri)
        return vhost.effective_settings(filename, req.uri)

    def _directory_index(self, req: Request, settings: DirSettings) -> DirSettings:
        filename = req.filename
        assert filename is not None
        for index in settings.directory_index or ("index.html",):
            if os.path.isfile(filename + index):
                req.uri += index
                req.filename = req.canonical_filename = filename + index
                req.is_dir = False
                return self._dir_settings(req)
        return settings

    def _content_handler(self, req: Request, settings: DirSettings) -> Optional[str]:
        return self._content_handler_of(req.filename, settings)

    @staticmethod
    def _content_handler_of(filename: Optional[str], settings: DirSettings) -> Optional[str]:
        """SetHandler, else the AddHandler of the file name's extensions (last first)."""
        if settings.set_handler is not None:
            return settings.set_handler or None
        if filename is None or not settings.add_handlers:
            return None
        name = filename.rpartition("/")[2]
        for ext in reversed(name.lower().split(".")[1:]):
            handler = settings.add_handlers.get(ext)
            if handler is not None:
                return handler
        return None

    def _check_auth(self, req: Request, settings: DirSettings) -> int:
        """AuthType/Require with PythonAuthenHandler/PythonAuthzHandler (auth.py)."""
        return auth.check(req, settings, self._run_phase)

    def _content(self, req: Request, settings: DirSettings) -> int:
        if req.rewrite_redirect is not None:  # mod_rewrite's redirect-handler
            self.internal_redirect(req, req.rewrite_redirect)
            return DONE
        if req.is_dir and not req.uri.endswith("/") and not req.path_info and (
                settings.httpd is None or settings.httpd.directory_slash is not False):
            return self._directory_slash(req)
        if settings.httpd_output:  # -- mod_headers / mod_expires / mod_deflate --
            outfilters.fixup(req, settings)
            filters.httpd_stage(req)
        if settings.filtered:  # SetOutputFilter & co. go in just before the handler
            filters.activate_configured(req, req.filter_registry)
        result = DECLINED
        if req.handler in PYTHON_HANDLER_NAMES:
            result = self._run_phase(req, "PythonHandler", settings)
        elif req.handler in self.builtin_handlers:
            result = self.builtin_handlers[req.handler](req)
        elif req.handler is not None and req.handler not in SERVED_AS_FILES and (
                req.filename is not None and os.path.exists(req.filename)):
            return self._handler_not_found(req)
        if result == DECLINED:
            if req.is_dir and not req.uri.endswith("/"):  # DirectorySlash Off
                req.log_error(f"Attempt to serve directory: {req.filename}")
                return apache.HTTP_NOT_FOUND  # core's default_handler
            return static.serve(req)
        return result

    def _handler_not_found(self, req: Request) -> int:
        """A handler name no module claims (cgi-script, php5-script, server-info...) on an
        existing file: 500 with ap_invoke_handler's AH00524 line, never the file itself.
        httpd 2.4's default handler would send the file (a script's source): a deliberate
        difference (docs/compatibility.md). A missing file stays 404, as in httpd."""
        ip, port = req.raw.remote_addr
        self.runtime.error_log.log(f'AH00524: handler "{req.handler}" not found for: '
                                   f"{req.filename}", apache.APLOG_ERR, "core",
                                   client=f"{ip}:{port}")
        return apache.HTTP_INTERNAL_SERVER_ERROR

    def _directory_slash(self, req: Request) -> int:
        query = f"?{req.args}" if req.args is not None else ""
        req.err_headers_out["Location"] = req.construct_url(req.uri + "/" + query)
        return apache.HTTP_MOVED_PERMANENTLY

    # -- one phase ------------------------------------------------------------------------

    def _run_phase(self, req: Request, phase: str, settings: DirSettings) -> int:
        if phase not in settings.phases and not req.dynamic_handlers:
            return DECLINED
        entries = self._entries_for(req, phase, settings)
        if not entries:
            return DECLINED
        return self._run_entries(req, phase, entries, settings)

    def _run_entries(self, req: Request, phase: str, entries: list, settings: DirSettings,
                     plans: tuple[_ResolvePlan, ...] = ()) -> int:
        """mod_python's HandlerDispatch over one phase's list, in order, until a result
        outside the phase's continue set. `plans`: those of the first entries, if known."""
        req.running_phase, req.running_handlers = phase, entries
        continue_on = PHASE[phase].continue_on
        result = DECLINED
        index = 0
        known = len(plans)
        while index < len(entries):  # req.add_handler() may append to `entries`
            outcome = self._call(req, phase, entries[index], settings,
                                 plans[index] if index < known else None)
            if outcome is not SKIPPED:  # a PythonHandlerModule entry without this phase
                result = outcome
                if result not in continue_on:
                    break
            index += 1
        req.running_phase = req.running_handlers = None
        return result

    def _entries_for(self, req: Request, phase: str, settings: DirSettings) -> list:
        dynamic = req.dynamic_handlers.pop(phase, ()) if req.dynamic_handlers else ()
        if not settings.handlers and not dynamic:
            return []
        entries, extension, sets_extension = _handler_entries(req.filename, phase, settings)
        if sets_extension:
            req.handler_extension = extension
        return [*entries, *dynamic]

    def _call(self, req: Request, phase: str, entry: HandlerEntry, settings: DirSettings,
              plan: Optional[_ResolvePlan] = None) -> int:
        """Resolve and call one handler; any exception becomes ReportError's result.
        `plan`: the entry's plan for these settings, when the caller holds it."""
        config = settings.python_config
        if plan is None:
            by_value = entry.dir_pattern is not None
            if by_value:  # <DirectoryMatch>: directory known per request
                entry = resolve_directory(entry, req.filename)
            plan = self._plan(entry, config, by_value)
        req.running_hlist = plan.hlist
        try:
            handler = self._resolve(req, entry, plan, req)
            if handler is None and entry.silent:
                return SKIPPED
            try:
                result = handler(req)
            except apache.SERVER_RETURN as ret:
                result = _server_return(req, ret)
            if result.__class__ is not int:
                raise AssertionError(
                    "Handler has returned result or raised SERVER_RETURN exception with "
                    "argument having non integer type. Type of value returned was "
                    f"{type(result)}, whereas expected {int}.")
            return result
        except Exception as exc:
            if exc is req.response.client_error:
                # The client left (or stalled) mid-response: not the handler's error; the
                # engine closed the connection (mod_python logs "Write failed").
                req.log_error(f"{phase} {entry.token}: client connection lost while sending "
                              f"the response: {exc}", apache.APLOG_INFO)
                return DONE
            status = _client_fault(req, exc)
            if status:
                req.log_error(f"{phase} {entry.token}: client error while reading the body: "
                              f"{exc}", apache.APLOG_INFO)
                return status
            return self.report_error(req, phase, entry.token, exc, config.get("PythonDebug") == "1")

    def resolve(self, req: Request, entry: HandlerEntry, config: dict[str, str],
                arg: Any = None) -> Any:
        """The handler (or filter) object of `entry`, imported in its interpreter: every
        request goes through the module cache (PythonAutoReload's check) and walks the
        object's name, as mod_python's resolve_object does."""
        return self._resolve(req, entry, self._plan(entry, config, by_value=True),
                             req if arg is None else arg)

    def _resolve(self, req: Request, entry: HandlerEntry, plan: _ResolvePlan, arg: Any) -> Any:
        runtime = self.runtime
        if plan.per_directory:  # PythonInterpPerDirectory: the file decides, per request
            interp = self.enter_interpreter(req, entry, plan.config)
        else:  # _enter, with the Interpreter kept on the plan
            name = plan.interpreter or req.vhost.server_name
            if name != runtime.entered:  # -- named interpreters: another namespace
                runtime.enter_interpreter(name)
            req.interpreter_name = runtime.interpreter = name
            if plan.interp_name != name:
                plan.interp, plan.interp_name = runtime.modules.interpreter(name), name
            interp = plan.interp
        if plan.python_path is not None:
            runtime.modules.apply_python_path(interp, plan.python_path)
        elif plan.directory is not None and runtime.interpreter not in plan.path_added:
            runtime.prepend_sys_path(plan.directory)
            plan.path_added.add(runtime.interpreter)
        modules = runtime.modules
        # The usual request: the module is cached and unchanged (no log function to make).
        module = modules.cached_module(interp, entry.module, plan.autoreload, plan.directory)
        if module is None:
            log = _notice_log(req) if plan.debug else None
            module = modules.import_module(interp, entry.module, autoreload=plan.autoreload,
                                           log=log, directory=plan.directory)
        if plan.plain_object:  # resolve_object's first step, inlined
            found = getattr(module, entry.obj, SKIPPED)
            if found is not SKIPPED:
                return found
        return resolve_object(module, entry.obj, arg=arg, silent=entry.silent)

    def _plan(self, entry: HandlerEntry, config: dict[str, str],
              by_value: bool = False) -> _ResolvePlan:
        """What `config` says about importing `entry`, read once per (entry, config) rather
        than five dictionary lookups per request. A configured entry is looked up by
        identity (the config's entries and dicts live as long as the worker: no hash
        computed per request); one made per request (<DirectoryMatch>, filters) by value."""
        key = (entry if by_value else id(entry), id(config))
        plan = self._plans.get(key)
        if plan is None or plan.config is not config or (
                not by_value and plan.entry is not entry):
            if len(self._plans) >= 4096:  # .htaccess settings may come and go: bounded
                self._plans.clear()
            plan = self._plans[key] = _ResolvePlan(entry, config)
        return plan

    def _enter(self, req: Request, name: str, runtime: Runtime) -> Any:
        if name != runtime.entered:  # -- named interpreters: another namespace to install
            runtime.enter_interpreter(name)
        req.interpreter_name = runtime.interpreter = name
        return runtime.modules.interpreter(name)

    def interpreter_name(self, req: Request, entry: HandlerEntry,
                         config: dict[str, str]) -> str:
        """mod_python's choice: PythonInterpreter, per directory, per directive, else the
        virtual host's ServerName."""
        name = config.get("PythonInterpreter")
        if name:
            return name
        if config.get("PythonInterpPerDirectory") == "1" and req.filename:
            filename = req.filename
            if os.path.isdir(filename):
                return filename if filename.endswith("/") else filename + "/"
            return os.path.dirname(filename) + "/"
        if config.get("PythonInterpPerDirective") == "1" and entry.directory:
            return entry.directory
        return req.vhost.server_name

    def enter_interpreter(self, req: Request, entry: HandlerEntry,
                          config: dict[str, str]) -> Any:
        """Switch to the handler's interpreter (apache.interpreter follows it)."""
        return self._enter(req, self.interpreter_name(req, entry, config), self.runtime)

    def report_error(self, req: Request, phase: str, token: str, exc: BaseException,
                     debug: bool) -> int:
        """mod_python's ReportError: log every traceback chunk; with PythonDebug On also
        send them (HTML-escaped) to the client."""
        chunks = traceback.format_exception(type(exc), exc, exc.__traceback__)
        for chunk in chunks:
            req.log_error(f"{phase} {token}: {chunk.rstrip(chr(10))}")
        if not debug or req.response.streaming:
            # Body bytes already on the wire: the error document closes the connection
            # (errordoc.send_error) rather than append a page to the body.
            return apache.HTTP_INTERNAL_SERVER_ERROR
        if req.response.head is None:
            req.status = apache.HTTP_INTERNAL_SERVER_ERROR
            req.content_type = "text/html"
            req.headers_out["Connection"] = "close"
        page = [f'\n<pre>\nMod_python error: "{phase} {token}"\n\n']
        page.extend(html.escape(chunk) + "\n" for chunk in chunks)
        page.append("</pre>\n")
        req.write("".join(page), 0)
        return DONE

    # -- the response ---------------------------------------------------------------------

    def _respond(self, req: Request, result: int) -> None:
        if result in (OK, DONE):
            req.response.finish(req)
        else:
            self._finish_error(req, result if result > 0 else apache.HTTP_INTERNAL_SERVER_ERROR)

    def _finish_error(self, req: Request, status: int) -> None:
        """Apache's error document for `status` (errordoc.py), or the ErrorDocument
        configured for it (httpdhooks.py)."""
        if not httpdhooks.error_document(req, status, self._serve_redirected):
            errordoc.send_error(req, status)

    def _serve_redirected(self, new: Request) -> None:
        self._respond(new, self._process(new))

    def internal_redirect(self, req: Request, target: str) -> None:
        """ap_internal_redirect: serve `target` as a new request (redirect.py) through
        every phase, on the same connection, before the calling handler returns."""
        if redirect.depth(req) >= redirect.MAX_REDIRECTS:
            req.log_error(f"Request exceeded the limit of {redirect.MAX_REDIRECTS} internal "
                          "redirects due to probable configuration error.")
            self._finish_error(req, apache.HTTP_INTERNAL_SERVER_ERROR)
            return
        try:
            new = redirect.new_request(req, target)
        except translate.HTTPError as exc:
            self._finish_error(req, exc.status)
            return
        self._respond(new, self._process(new))

    def _answer_options_star(self, raw: RawRequest) -> None:
        """`OPTIONS *` asks about the server itself (RFC 9110 §9.3.7), as httpd answers it."""
        try:
            raw.send_response(200, None, [("Allow", "GET,HEAD,POST,OPTIONS")], b"", True)
            raw.finish()
        except OSError:
            raw.abort()

    def _send_bare_error(self, raw: RawRequest, status: int) -> None:
        headers = [("Content-Type", errorpages.CONTENT_TYPE)]
        if status in errorpages.DROPS_CONNECTION:
            headers.append(("Connection", "close"))
        try:
            raw.send_response(status, None, headers, errorpages.error_body(status, raw.method),
                              True)
            raw.finish()
        except OSError:
            raw.abort()

    def _after_response(self, req: Request) -> None:
        """Log phase, access log, then each request's cleanups (an internal redirect's
        requests share the pool): registered callbacks, then PythonCleanupHandler."""
        settings = req.per_dir_config
        if settings is not None and ("PythonLogHandler" in settings.phases
                                     or req.dynamic_handlers):
            self._run_phase(req, "PythonLogHandler", settings)
        if self.access_log is not None:
            write = self._log_writers.get(id(req.vhost))
            if write is not None:
                write(req)
            else:
                self.access_log(req)
        chained: Optional[Request] = req
        while chained is not None:
            self._cleanup(chained)
            chained = chained.next

    def _cleanup(self, req: Request) -> None:
        # Pool cleanups run last-registered first; PythonCleanupHandler was registered
        # before any of them, so it runs after them (also after errors).
        if req.cleanup_callbacks:
            self._run_cleanups(req)
        settings = req.per_dir_config
        if settings is not None and ("PythonCleanupHandler" in settings.phases
                                     or req.dynamic_handlers):
            self._run_phase(req, "PythonCleanupHandler", settings)

    def _run_cleanups(self, req: Request) -> None:
        for callback, data in reversed(req.cleanup_callbacks):
            try:
                callback(data)
            except Exception as exc:
                self.runtime.error_log.log(
                    f"python_cleanup: Error calling cleanup object {callback!r}\n"
                    f"    {type(exc).__name__}: {exc}")


def _is_dir_url(req: Request) -> bool:
    filename = req.filename
    return filename is not None and filename.endswith("/") and req.uri.endswith("/")


def _handler_entries(filename: Optional[str], phase: str, settings: DirSettings
                     ) -> tuple[tuple[HandlerEntry, ...], Optional[str], bool]:
    """The configured list of `phase` for the file (`Phase | .ext` before `Phase`), the
    extension that chose it (req.extension), and whether req.extension is set at all."""
    handlers = settings.handlers
    entries = None
    extension: Optional[str] = None
    sets_extension = False
    if filename is not None and handlers:
        name = filename.rpartition("/")[2]
        dot = name.find(".")
        ext = name[dot:] if dot >= 0 else ""
        entries = handlers.get(phase + ext) if ext else None
        extension = ext if entries else (None if dot >= 0 else "")
        sets_extension = True
    if entries is None:
        entries = handlers.get(phase, ())
    return entries, extension, sets_extension


def _python_claims(vhost: VirtualHost, uri: str) -> bool:
    """Whether the handler the <Location> sections give `uri` is mod_python's (or none is
    set, so the Python*Handler directives decide). A nested `SetHandler None` or another
    handler gives the URL back to httpd's translate_name order: the Alias (mod_alias) or
    the DocumentRoot maps the file, as under Apache."""
    handler = vhost.effective_settings(None, uri).set_handler
    return handler is None or handler in PYTHON_HANDLER_NAMES


def _client_fault(req: Request, exc: BaseException) -> int:
    """The status for an exception that is the client's doing, not the handler's: bad
    chunked framing (its own status) or a lost client (400, nobody reads it). A stalled
    body is mod_python's IOError, the handler's error when uncaught (500, as Apache)."""
    if isinstance(exc, _core.BadRequestError):
        return exc.status
    if exc is req.body_error and not isinstance(exc.__cause__, TimeoutError):
        return 400
    return 0


def _server_return(req: Request, ret: BaseException) -> Any:
    """SERVER_RETURN(code) is the handler returning code; (code, status) also sets status."""
    args = ret.args
    if not args:
        return None
    if len(args) >= 2 and args[1]:
        req.status = args[1]
    return args[0]
