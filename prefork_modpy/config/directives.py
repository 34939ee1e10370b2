"""The per-directory settings model and the directives that fill it.

Owns `DirSettings` (what one `<Directory>`/`<Location>`/`<Files>` section or the server
body says), `HandlerEntry`, the merge rule between a parent and a child section (mod_python's
`python_merge_config` and Apache's core merge) and the table of per-directory directives.
No I/O; errors name file:line through `ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Callable, Optional

from . import autoindex as autoindex_config
from . import catalog, httpdmods, outputmods, overrides
from . import rewrite as mod_rewrite
from .overrides import Overrides
from .regex import SearchPattern
from .syntax import ConfigError, Node

# httpd's OK and DECLINED (mod_python.apache has the same values; config sits below it).
OK, DECLINED = 0, -1


@dataclass(frozen=True)
class Phase:
    """One mod_python handler phase (apache.py's phase names and `_status_values`)."""

    directive: str
    default_object: str  # the handler function when the directive names only a module
    by_extension: bool  # whether the directive may end in `| .ext ...`
    continue_on: frozenset[int]  # results after which the next stacked handler still runs


# Apache's phase order. RUN_ALL hooks go on after OK and DECLINED; RUN_FIRST hooks stop at
# the first handler that does not decline; the content phase stops at the first that is not OK.
PHASES: tuple[Phase, ...] = (
    Phase("PythonPostReadRequestHandler", "postreadrequesthandler", False,
          frozenset({OK, DECLINED})),
    Phase("PythonTransHandler", "transhandler", False, frozenset({DECLINED})),
    Phase("PythonHeaderParserHandler", "headerparserhandler", True, frozenset({OK, DECLINED})),
    Phase("PythonInitHandler", "inithandler", True, frozenset({OK, DECLINED})),
    Phase("PythonAccessHandler", "accesshandler", True, frozenset({OK, DECLINED})),
    Phase("PythonAuthenHandler", "authenhandler", True, frozenset({DECLINED})),
    Phase("PythonAuthzHandler", "authzhandler", True, frozenset({DECLINED})),
    Phase("PythonTypeHandler", "typehandler", True, frozenset({DECLINED})),
    Phase("PythonFixupHandler", "fixuphandler", True, frozenset({OK, DECLINED})),
    Phase("PythonHandler", "handler", True, frozenset({OK})),
    Phase("PythonLogHandler", "loghandler", True, frozenset({OK, DECLINED})),
    Phase("PythonCleanupHandler", "cleanuphandler", True, frozenset({OK})),
)
PHASE = {phase.directive: phase for phase in PHASES}
DEFAULT_OBJECT = {phase.directive: phase.default_object for phase in PHASES}
# -- PythonConnectionHandler (server config; modpy/connection.py) --
CONNECTION_HANDLER = "PythonConnectionHandler"
DEFAULT_OBJECT[CONNECTION_HANDLER] = "connectionhandler"
_PHASE_BY_LOWER = {phase.directive.lower(): phase.directive for phase in PHASES}
PYTHON_HANDLER_NAMES = frozenset({"mod_python", "python-program"})
# `Require` forms decided by the client's address (mod_authz_host), not by a user.
HOST_REQUIRES = frozenset({"ip", "local", "all"})

# Single-value mod_python directives kept in the get_config() table.
_FLAG_DIRECTIVES = ("PythonDebug", "PythonAutoReload", "PythonEnablePdb",
                    "PythonInterpPerDirectory", "PythonInterpPerDirective")
_TEXT_DIRECTIVES = ("PythonPath", "PythonInterpreter")
_FLAG_BY_LOWER = {name.lower(): name for name in _FLAG_DIRECTIVES}
_TEXT_BY_LOWER = {name.lower(): name for name in _TEXT_DIRECTIVES}

# Directives mod_python has that this server refuses, with the reason.
REFUSED: dict[str, str] = {}


@dataclass(frozen=True)
class HandlerEntry:
    """One `module[::object]` token of a Python*Handler line."""

    token: str
    module: str
    obj: str
    directory: Optional[str]
    is_location: bool
    silent: bool = False
    dir_pattern: Optional[SearchPattern] = None  # a <DirectoryMatch>'s regex
    path: Optional[str] = None  # mod_python 3.x: a handler given as a file path

    def __hash__(self) -> int:
        """The fields' hash, as the dataclass would give it, computed once: the dispatcher
        looks entries up several times per request (workers are forked: same hash seed)."""
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.token, self.module, self.obj, self.directory,
                           self.is_location, self.silent, self.dir_pattern, self.path))
            object.__setattr__(self, "_hash", cached)
        return cached


@dataclass(frozen=True)
class SectionContext:
    """Where a directive stands: decides the handler entry's recorded directory."""

    directory: Optional[str] = None
    is_location: bool = False
    is_server: bool = True
    directory_regex: Optional[SearchPattern] = None
    # -- mod_rewrite: turns a RewriteMap's relative path into ServerRoot's --
    resolve_path: Optional[Callable[[str], str]] = None


@dataclass
class DirSettings:
    """What one section sets; after merging, what is in effect for a request.
    A `None`/absent entry means "not set here, inherit"."""

    handlers: dict[str, tuple[HandlerEntry, ...]] = field(default_factory=dict)
    python_config: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    set_handler: Optional[str] = None
    add_handlers: dict[str, str] = field(default_factory=dict)
    mime_types: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    # Python filters by (lower-cased) name, and the names activated here.
    output_filters: dict[str, HandlerEntry] = field(default_factory=dict)
    input_filters: dict[str, HandlerEntry] = field(default_factory=dict)
    set_output_filter: tuple[str, ...] = ()
    set_input_filter: tuple[str, ...] = ()
    add_output_filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    add_input_filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # (filter name, is_input, node) of each Set/Add*Filter here: checked once the whole
    # configuration is read (a name may be registered further down). Not merged.
    filter_uses: list[tuple[str, bool, Node]] = field(default_factory=list, compare=False)
    directory_index: Optional[tuple[str, ...]] = None
    auth_type: Optional[str] = None
    auth_name: Optional[str] = None
    requires: Optional[tuple[str, ...]] = None
    # core's Options: `options_set` is an absolute list given here (None: inherit), the
    # add/remove sets are a relative `Options +X -Y` applied to the parent's (httpd's
    # merge_core_dir_configs). The default is httpd 2.4's: FollowSymLinks.
    options_set: Optional[frozenset[str]] = None
    options_add: frozenset[str] = frozenset()
    options_remove: frozenset[str] = frozenset()
    # mod_mime: RemoveType drops inherited AddType mappings for these extensions.
    removed_types: frozenset[str] = frozenset()
    # mod_mime/core: applied by httpd/mime.py and the response head (runtime/record.py).
    languages: dict[str, str] = field(default_factory=dict)  # AddLanguage: ext -> language
    charsets: dict[str, str] = field(default_factory=dict)  # AddCharset: ext -> charset
    default_charset: Optional[str] = None  # AddDefaultCharset: "" for Off
    # -- mod_rewrite / .htaccess --
    # per-directory rewriting (None: no mod_rewrite directive here) and, on a server's or
    # virtual host's own settings only, its server-context rewriting (never merged).
    rewrite: Optional[mod_rewrite.RewriteSettings] = None
    server_rewrite: Optional[mod_rewrite.RewriteSettings] = None
    allow_override: Optional[Overrides] = None  # None: inherit (default None)
    allow_override_list: Optional[frozenset[str]] = None
    # -- mod_headers / mod_expires / mod_deflate (outputmods.py) --
    header_actions: tuple[outputmods.HeaderAction, ...] = ()  # Header (parent's first)
    request_header_actions: tuple[outputmods.HeaderAction, ...] = ()  # RequestHeader
    expires_active: Optional[bool] = None
    expires_by_type: dict[str, tuple[str, int]] = field(default_factory=dict)
    expires_default: Optional[tuple[str, int]] = None  # (base "A"/"M", seconds)
    deflate_types: frozenset[str] = frozenset()  # AddOutputFilterByType DEFLATE
    deflate_level: Optional[int] = None  # DeflateCompressionLevel (server/vhost)
    # -- mod_autoindex (config/autoindex.py) --
    autoindex: Optional[autoindex_config.AutoindexConf] = None
    # -- mod_env, mod_setenvif, mod_access_compat, authz containers, authn_file,
    # authz_groupfile, alias redirects (httpdmods.py); None: none of them is used here --
    httpd: Optional[httpdmods.HttpdMods] = None
    # -- mod_ssl -- SSLRequireSSL: 403 for a request not on a TLS connection
    ssl_require: bool = False
    # SSLVerifyClient here (None: inherit); in a section, `require` is enforced per request
    # (httpd/ssl.py check_client), the handshake having asked (config/ssl.py plan).
    ssl_verify: Optional[str] = None
    ssl_verify_where: str = ""
    ssl_verify_depth: Optional[int] = None  # SSLVerifyDepth in a section or .htaccess
    ssl_user_name: Optional[str] = None  # SSLUserName: the variable req.user is set from
    # SSLOptions: an absolute set (None: inherit), else +/- relative to the parent's
    # (ssl_config_perdir_merge's nOptionsAdd/nOptionsDel).
    ssl_options_set: Optional[frozenset[str]] = None
    ssl_options_add: frozenset[str] = frozenset()
    ssl_options_remove: frozenset[str] = frozenset()

    @property
    def ssl_options(self) -> frozenset[str]:
        """The SSLOptions in effect here once merged (lower-case names)."""
        base = self.ssl_options_set if self.ssl_options_set is not None else frozenset()
        return (base - self.ssl_options_remove) | self.ssl_options_add

    @property
    def effective_options(self) -> frozenset[str]:
        """The Options in effect here once merged (lower-case names)."""
        if self.options_set is not None:
            return self.options_set
        return (DEFAULT_OPTIONS | self.options_add) - self.options_remove

    def merged_with(self, child: DirSettings) -> DirSettings:
        """Apache's per-dir merge: the child's keys override the parent's key by key;
        a handler list the child defines replaces the parent's list for that key."""
        return DirSettings(
            handlers={**self.handlers, **child.handlers},
            python_config={**self.python_config, **child.python_config},
            options={**self.options, **child.options},
            set_handler=child.set_handler if child.set_handler is not None else self.set_handler,
            add_handlers={**self.add_handlers, **child.add_handlers},
            mime_types={ext: kind for ext, kind in {**self.mime_types,
                                                    **child.mime_types}.items()
                        if ext not in child.removed_types or ext in child.mime_types},
            encodings={**self.encodings, **child.encodings},
            output_filters={**self.output_filters, **child.output_filters},
            input_filters={**self.input_filters, **child.input_filters},
            set_output_filter=child.set_output_filter or self.set_output_filter,
            set_input_filter=child.set_input_filter or self.set_input_filter,
            add_output_filters={**self.add_output_filters, **child.add_output_filters},
            add_input_filters={**self.add_input_filters, **child.add_input_filters},
            directory_index=_pick(child.directory_index, self.directory_index),
            auth_type=_pick(child.auth_type, self.auth_type),
            auth_name=_pick(child.auth_name, self.auth_name),
            requires=_pick(child.requires, self.requires),
            options_set=_merge_options(self, child),
            removed_types=self.removed_types | child.removed_types,
            languages={**self.languages, **child.languages},
            charsets={**self.charsets, **child.charsets},
            default_charset=_pick(child.default_charset, self.default_charset),
            # -- mod_rewrite / .htaccess --
            rewrite=mod_rewrite.merge_perdir(self.rewrite, child.rewrite),
            allow_override=_pick(child.allow_override, self.allow_override),
            allow_override_list=_pick(child.allow_override_list, self.allow_override_list),
            # -- mod_headers / mod_expires / mod_deflate --
            header_actions=self.header_actions + child.header_actions,
            request_header_actions=self.request_header_actions + child.request_header_actions,
            expires_active=_pick(child.expires_active, self.expires_active),
            expires_by_type={**self.expires_by_type, **child.expires_by_type},
            expires_default=_pick(child.expires_default, self.expires_default),
            deflate_types=self.deflate_types | child.deflate_types,
            deflate_level=_pick(child.deflate_level, self.deflate_level),
            # -- mod_autoindex --
            autoindex=autoindex_config.merge(self.autoindex, child.autoindex),
            httpd=httpdmods.merge(self.httpd, child.httpd),
            ssl_require=self.ssl_require or child.ssl_require,  # -- mod_ssl --
            ssl_verify=_pick(child.ssl_verify, self.ssl_verify),
            ssl_verify_where=child.ssl_verify_where or self.ssl_verify_where,
            ssl_verify_depth=_pick(child.ssl_verify_depth, self.ssl_verify_depth),
            ssl_user_name=_pick(child.ssl_user_name, self.ssl_user_name),
            **_merge_ssl_options(self, child),
        )

    # -- mod_rewrite / .htaccess --
    @cached_property
    def rewrite_active(self) -> bool:
        """Whether mod_rewrite's fixup has rules to run here (one check per request)."""
        return self.rewrite is not None and self.rewrite.active

    @property
    def htaccess_overrides(self) -> Overrides:
        """What a .htaccess file may hold here (AllowOverride + AllowOverrideList)."""
        base = self.allow_override or overrides.NONE
        return Overrides(base.classes, base.options, self.allow_override_list or frozenset())

    @property
    def has_python_handlers(self) -> bool:
        return bool(self.handlers)

    @cached_property
    def phases(self) -> frozenset[str]:
        """The phases this section has handlers for (with or without "| .ext"), so the
        dispatcher skips the others with one set lookup. Computed on first use, after the
        section is complete."""
        return frozenset(key.partition(".")[0] for key in self.handlers)

    @cached_property
    def filtered(self) -> bool:
        """Whether any filter is activated here (one attribute read per request)."""
        return bool(self.set_output_filter or self.set_input_filter
                    or self.add_output_filters or self.add_input_filters)

    @cached_property
    def httpd_output(self) -> bool:
        """Whether mod_headers, mod_expires or a by-type DEFLATE act here (one attribute
        read per request decides; SetOutputFilter DEFLATE goes through `filtered`)."""
        return bool(self.header_actions or self.request_header_actions or self.deflate_types
                    or (self.expires_active and (self.expires_by_type
                                                 or self.expires_default is not None)))

    @cached_property
    def mime_cache(self) -> dict:
        """mod_mime's answers per file name under these settings (see mime.py)."""
        return {}

    @property
    def debug(self) -> bool:
        return self.python_config.get("PythonDebug") == "1"


def resolve_directory(entry: HandlerEntry, filename: Optional[str]) -> HandlerEntry:
    """The entry with its directory: the shortest prefix of `filename`, with a trailing
    slash, that its section's regex matches (mod_python's resolve_directory)."""
    pattern = entry.dir_pattern
    if pattern is None or not filename:
        return entry
    parts = filename.split("/")
    for count in range(1, len(parts)):
        prefix = "/".join(parts[:count]) + "/"
        if pattern.search(prefix) or (prefix != "/" and pattern.search(prefix[:-1])):
            return replace(entry, directory=prefix, dir_pattern=None)
    return replace(entry, dir_pattern=None)


DEFAULT_OPTIONS = frozenset({"followsymlinks"})
_OPTION_NAMES = frozenset({"followsymlinks", "symlinksifownermatch", "execcgi", "includes",
                           "includesnoexec", "indexes", "multiviews"})
_ALL_OPTIONS = _OPTION_NAMES - {"multiviews", "symlinksifownermatch"}


def _merge_options(parent: DirSettings, child: DirSettings) -> Optional[frozenset[str]]:
    if child.options_set is not None:
        return child.options_set
    if not child.options_add and not child.options_remove:
        return parent.options_set
    return (parent.effective_options | child.options_add) - child.options_remove


def _pick(child, parent):
    return child if child is not None else parent


def _merge_ssl_options(parent: DirSettings, child: DirSettings) -> dict[str, Any]:
    """ssl_config_perdir_merge: an absolute SSLOptions replaces; a relative one (+X -Y)
    applies to the parent's; nothing set here inherits."""
    if child.ssl_options_set is not None:
        return {"ssl_options_set": child.ssl_options_set, "ssl_options_add": frozenset(),
                "ssl_options_remove": frozenset()}
    if not (child.ssl_options_add or child.ssl_options_remove):
        return {"ssl_options_set": parent.ssl_options_set,
                "ssl_options_add": parent.ssl_options_add,
                "ssl_options_remove": parent.ssl_options_remove}
    if parent.ssl_options_set is None and not (parent.ssl_options_add
                                               or parent.ssl_options_remove):
        return {"ssl_options_set": None, "ssl_options_add": child.ssl_options_add,
                "ssl_options_remove": child.ssl_options_remove}
    merged = (parent.ssl_options - child.ssl_options_remove) | child.ssl_options_add
    return {"ssl_options_set": merged, "ssl_options_add": frozenset(),
            "ssl_options_remove": frozenset()}


def _flag(node: Node) -> str:
    if len(node.args) != 1 or node.args[0].lower() not in ("on", "off"):
        raise ConfigError.at(node, f"{node.name} must be On or Off")
    return "1" if node.args[0].lower() == "on" else "0"


def _one(node: Node) -> str:
    if len(node.args) != 1:
        raise ConfigError.at(node, f"{node.name} takes one argument")
    return node.args[0]


def _handler_entries(node: Node, phase: str, ctx: SectionContext) -> dict[str, tuple]:
    """`PythonXxxHandler mod[::obj] ... [| .ext ...]` → {key: entries}."""
    words = node.args
    if not words:
        raise ConfigError.at(node, f"{phase} needs at least one handler")
    exts: list[str] = []
    if "|" in words:
        cut = words.index("|")
        words, exts = words[:cut], words[cut + 1:]
        if not _phase_accepts_ext(phase):
            raise ConfigError.at(node, f'{phase} does not accept "| .ext" syntax.')
        if not exts or not words:
            raise ConfigError.at(node, f'{phase}: "|" needs handlers before and extensions after')
    entries = tuple(_entry(node, phase, word, ctx) for word in words)
    if not exts:
        return {phase: entries}
    return {f"{phase}{ext if ext.startswith('.') else '.' + ext}": entries for ext in exts}


def _phase_accepts_ext(phase: str) -> bool:
    return PHASE[phase].by_extension


def _entry(node: Node, phase: str, word: str, ctx: SectionContext) -> HandlerEntry:
    module, sep, obj = word.partition("::")
    path = None
    if "/" in module:  # mod_python 3.x: a file path instead of a module name
        if not module.endswith(".py") or not module.startswith("/"):
            raise ConfigError.at(node, f"{phase}: {module!r} is neither a module name nor an "
                                       "absolute path to a .py file")
        path = module  # runtime/importer.py loads the file itself
    dotted_ok = path is not None or all(part.isidentifier() for part in module.split("."))
    if not module or (sep and not obj) or not dotted_ok:
        raise ConfigError.at(node, f"{phase}: bad handler {word!r} (expected module[::object])")
    if obj and not all(part.isidentifier() for part in obj.split(".")):
        raise ConfigError.at(node, f"{phase}: bad object name in {word!r}")
    return HandlerEntry(word, module, obj or DEFAULT_OBJECT[phase], ctx.directory,
                        ctx.is_location, dir_pattern=ctx.directory_regex, path=path)


def connection_handler_entry(node: Node) -> HandlerEntry:
    """`PythonConnectionHandler module[::object]` (server config only)."""
    return _entry(node, CONNECTION_HANDLER, _one(node), SectionContext())


def _handler_module(settings: DirSettings, node: Node, ctx: SectionContext) -> None:
    """`PythonHandlerModule mod`: `mod` for every phase, silently: a phase the module has
    no function for is skipped (mod_python 3.5 fails with UnboundLocalError, issue #74)."""
    module = _one(node)
    if not all(part.isidentifier() for part in module.split(".")):
        raise ConfigError.at(node, f"PythonHandlerModule: bad module name {module!r}")
    for phase in PHASES:
        entry = HandlerEntry(module, module, phase.default_object, ctx.directory,
                             ctx.is_location, silent=True, dir_pattern=ctx.directory_regex)
        settings.handlers[phase.directive] = settings.handlers.get(phase.directive, ()) + (entry,)


def _extensions(node: Node, first: int) -> list[str]:
    exts = [ext.lower().lstrip(".") for ext in node.args[first:]]
    if not exts or not all(exts):
        raise ConfigError.at(node, f"{node.name} needs at least one extension")
    return exts


# Handlers a request can be given here: mod_python's, the status page (registered by the
# worker), httpd's default handler (the static file).
KNOWN_HANDLERS = PYTHON_HANDLER_NAMES | {"server-status", "default-handler"}
# -- server/health (load-balancer health check, registered by the worker) --
KNOWN_HANDLERS = KNOWN_HANDLERS | {"server-health"}
# Handlers of httpd modules prefork-modpy lacks whose files are harmless to send as they are.
_HARMLESS_HANDLERS = {"type-map": "mod_negotiation's type maps"}
# -- unknown handlers (AH00524) --
# Handler names whose requests end in the default handler (the file); any other name no
# module claims is answered 500 as httpd's ap_invoke_handler does (modpy/dispatch.py).
SERVED_AS_FILES = frozenset({"default-handler", *_HARMLESS_HANDLERS})


def _check_handler(node: Node, name: str, warnings: list[str]) -> None:
    """httpd accepts any handler name and answers 500 "handler not found" for a request
    that reaches it; the same happens here (never the file), with a warning at load."""
    if name in KNOWN_HANDLERS or name.lower() == "none" or name in _HARMLESS_HANDLERS:
        return
    warnings.append(f"{node.where}: {node.name}: no module of prefork-modpy handles "
                    f"{name!r}; requests for it are answered 500 (handler not found), as "
                    "httpd does without the module")


def _set_handler(settings: DirSettings, node: Node, warnings: list[str]) -> None:
    value = _one(node)
    _check_handler(node, value, warnings)
    settings.set_handler = "" if value.lower() == "none" else value


def _add_handler(settings: DirSettings, node: Node, warnings: list[str]) -> None:
    if len(node.args) < 2:
        raise ConfigError.at(node, "AddHandler takes a handler name and one or more extensions")
    _check_handler(node, node.args[0], warnings)
    for ext in _extensions(node, 1):
        settings.add_handlers[ext] = node.args[0]


def _add_type(settings: DirSettings, node: Node) -> None:
    if len(node.args) < 2:
        raise ConfigError.at(node, "AddType takes a media type and one or more extensions")
    for ext in _extensions(node, 1):
        settings.mime_types[ext] = node.args[0]


def _add_encoding(settings: DirSettings, node: Node) -> None:
    if len(node.args) < 2:
        raise ConfigError.at(node, "AddEncoding takes an encoding and one or more extensions")
    for ext in _extensions(node, 1):
        settings.encodings[ext] = node.args[0]


def _filter_names(node: Node, text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(";") if name.strip())
    if not names:
        raise ConfigError.at(node, f"{node.name} needs a filter name")
    return names


def _set_filter(attr: str) -> Callable[[DirSettings, Node], None]:
    """SetOutputFilter/SetInputFilter NAME[;NAME...]."""
    def apply(settings: DirSettings, node: Node) -> None:
        names = _filter_names(node, _one(node))
        setattr(settings, attr, names)
        settings.filter_uses.extend((name, "input" in attr, node) for name in names)
    return apply


def _add_filter(attr: str) -> Callable[[DirSettings, Node], None]:
    """AddOutputFilter/AddInputFilter NAME[;NAME...] ext [ext...]."""
    def apply(settings: DirSettings, node: Node) -> None:
        if len(node.args) < 2:
            raise ConfigError.at(node, f"{node.name} takes filter names and extensions")
        names = _filter_names(node, node.args[0])
        settings.filter_uses.extend((name, "input" in attr, node) for name in names)
        table = getattr(settings, attr)
        for ext in _extensions(node, 1):
            table[ext] = names
    return apply


def _python_filter(attr: str, default_object: str) -> Callable[..., None]:
    """PythonOutputFilter/PythonInputFilter handler [NAME]: registers filter NAME (the
    handler string when omitted)."""
    def apply(settings: DirSettings, node: Node, ctx: SectionContext) -> None:
        if not 1 <= len(node.args) <= 2:
            raise ConfigError.at(node, f"{node.name} takes a handler and an optional name")
        handler = node.args[0]
        module, sep, obj = handler.partition("::")
        if not module or not all(p.isidentifier() for p in module.split(".")) or (
                sep and not all(p.isidentifier() for p in obj.split("."))):
            raise ConfigError.at(node, f"{node.name}: bad handler {handler!r}")
        name = node.args[1] if len(node.args) == 2 else handler
        entry = HandlerEntry(handler, module, obj or default_object, ctx.directory,
                             ctx.is_location)
        getattr(settings, attr)[name.lower()] = entry
    return apply


_FILTER_DIRECTIVES = {
    "pythonoutputfilter": _python_filter("output_filters", "outputfilter"),
    "pythoninputfilter": _python_filter("input_filters", "inputfilter"),
}


def check_filter_names(all_settings: list[DirSettings]) -> None:
    """Every filter a Set/Add*Filter names must be a Python filter registered somewhere
    or INCLUDES (mod_include); httpd's other filters (DEFLATE, ...) do not exist here."""
    known = {(name, False) for s in all_settings for name in s.output_filters}
    known.add(("includes", False))  # -- mod_include -- (httpd/include.py)
    known |= {(name, True) for s in all_settings for name in s.input_filters}
    known.add((outputmods.DEFLATE, False))  # -- mod_deflate: httpd's DEFLATE filter --
    for settings in all_settings:
        for name, is_input, node in settings.filter_uses:
            if (name.lower(), is_input) not in known:
                kind = "PythonInputFilter" if is_input else "PythonOutputFilter"
                raise ConfigError.at(node, f"{node.name}: no {kind} is named {name!r} "
                                           "(prefork-modpy has Python filters and INCLUDES "
                                           "only)")


# The classes mod_python.Session.Session() can pick (RedisSession: not in mod_python).
SESSION_TYPES = ("DbmSession", "FileSession", "MemorySession", "RedisSession")


def _python_option(settings: DirSettings, node: Node) -> None:
    if not 1 <= len(node.args) <= 2:
        raise ConfigError.at(node, "PythonOption takes a key and an optional value")
    if node.args[0] == "mod_python.session.session_type" and len(node.args) == 2 \
            and node.args[1] not in SESSION_TYPES:
        # mod_python raises "Unknown session type" in every request that opens a session
        raise ConfigError.at(node, f"PythonOption mod_python.session.session_type "
                                   f"{node.args[1]!r}: unknown session type (one of "
                                   f"{', '.join(SESSION_TYPES)})")
    if len(node.args) == 2 and node.args[1]:
        _check_redis_session_option(node, node.args[0], node.args[1])
    # An empty value masks the inherited key; get_options() drops it (mod_python 3.3+).
    settings.options[node.args[0]] = node.args[1] if len(node.args) == 2 else ""


# redis-py's Redis.from_url schemes.
REDIS_URL_SCHEMES = ("redis", "rediss", "unix")


def _check_redis_session_option(node: Node, key: str, value: str) -> None:
    """RedisSession's options are read per request (mod_python.Session); a value that can
    never work is refused here, with its line, rather than as a 500 in every request."""
    if key == "mod_python.session.redis_url":
        scheme = value.partition("://")[0].lower() if "://" in value else ""
        if scheme not in REDIS_URL_SCHEMES:
            raise ConfigError.at(node, f"PythonOption mod_python.session.redis_url {value!r}: "
                                       "expected redis://host:port/db, rediss://... or "
                                       "unix:///path/to/socket")
    elif key == "mod_python.session.redis_lock_timeout":
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not 0 < seconds < float("inf"):
            raise ConfigError.at(node, f"PythonOption mod_python.session.redis_lock_timeout "
                                       f"{value!r}: expected a positive number of seconds")


def _python_path(settings: DirSettings, node: Node) -> None:
    expression = node.args[0] if len(node.args) == 1 else node.raw_args
    try:
        compile(expression, f"{node.file}:{node.line}", "eval")
    except SyntaxError as exc:
        raise ConfigError.at(node, f"PythonPath is not a Python expression: {exc.msg}") from None
    settings.python_config["PythonPath"] = expression


def _directory_index(settings: DirSettings, node: Node) -> None:
    if not node.args:
        raise ConfigError.at(node, "DirectoryIndex needs at least one file name")
    disabled = len(node.args) == 1 and node.args[0].lower() == "disabled"
    settings.directory_index = () if disabled else tuple(node.args)


def _auth_field(attr: str) -> Callable[[DirSettings, Node], None]:
    def apply(settings: DirSettings, node: Node) -> None:
        setattr(settings, attr, _one(node))
    return apply


def require_wired(node: Node, name: str, detail: str = "") -> None:
    """Refuse a value that is parsed and stored but not yet applied by the request path
    (catalog.PENDING_FIELDS); the follow-up adds `name` to catalog.WIRED."""
    if name not in catalog.WIRED:
        raise ConfigError.at(node, catalog.pending(name, detail))


def _options(settings: DirSettings, node: Node, warnings: list[str]) -> None:
    """core's `Options [+|-]name ...` (httpd 2.4: all relative or all absolute)."""
    if not node.args:
        raise ConfigError.at(node, "Options needs at least one option (or None)")
    signs = {word[0] in "+-" for word in node.args}
    if len(signs) > 1:
        raise ConfigError.at(node, "Options: either all options start with + or -, or none "
                                   "does (as in httpd 2.4)")
    relative = signs == {True}
    names: list[tuple[str, str]] = []
    for word in node.args:
        sign, name = (word[0], word[1:].lower()) if relative else ("", word.lower())
        if name == "all":
            names.extend((sign, option) for option in sorted(_ALL_OPTIONS))
        elif name == "none" and not relative:
            continue
        elif name in _OPTION_NAMES:
            names.append((sign, name))
        else:
            raise ConfigError.at(node, f"Options: unknown option {word!r}")
    if relative:
        settings.options_add = frozenset(n for sign, n in names if sign == "+")
        settings.options_remove = frozenset(n for sign, n in names if sign == "-")
    else:
        settings.options_set = frozenset(n for _, n in names)
    # FollowSymLinks / SymLinksIfOwnerMatch: checked per request by httpd/symlinks.py.
    _warn_options(node, {n for sign, n in names if sign != "-"}, warnings)


def _warn_options(node: Node, enabled: set[str], warnings: list[str]) -> None:
    notes = {"multiviews": "MultiViews: content negotiation is not done (mod_negotiation is "
                           "not part of prefork-modpy); only exact file names are served"}
    for name in sorted(enabled & notes.keys()):
        warnings.append(f"{node.where}: Options {notes[name]}")


# -- .htaccess --
def _allow_override(settings: DirSettings, node: Node, ctx: SectionContext) -> None:
    """AllowOverride / AllowOverrideList: only in a <Directory> without a regex (httpd 2.4);
    `None` is accepted anywhere, as before."""
    is_none = [word.lower() for word in node.args] == ["none"]
    if not is_none and (ctx.is_server or ctx.is_location or ctx.directory_regex is not None
                        or ctx.directory is None):
        raise ConfigError.at(node, f"{node.name} is only available in <Directory> sections "
                                   "specified without regular expressions (httpd 2.4)")
    if node.key == "allowoverride":
        settings.allow_override = overrides.parse_allow_override(node)
    else:
        settings.allow_override_list = overrides.parse_allow_override_list(node)


# -- mod_rewrite --
def _rewrite(settings: DirSettings, node: Node, ctx: SectionContext) -> None:
    """mod_rewrite's directives: server context fills `server_rewrite`, a <Directory> or
    .htaccess `rewrite` with its directory as the per-directory prefix."""
    if ctx.is_server:
        settings.server_rewrite = mod_rewrite.apply_directive(settings.server_rewrite, node, None,
                                                          True, ctx.resolve_path)
        return
    if ctx.is_location or ctx.directory_regex is not None or ctx.directory is None:
        raise ConfigError.at(node, f"{node.name} in <Location>, <Files> or a regex section: "
                                   "mod_rewrite's manual calls this unsupported (no "
                                   "per-directory prefix); prefork-modpy refuses it. Use "
                                   "server context or a <Directory>")
    settings.rewrite = mod_rewrite.apply_directive(settings.rewrite, node, ctx.directory, False)


def _remove_type(settings: DirSettings, node: Node) -> None:
    exts = _extensions(node, 0)
    settings.removed_types |= frozenset(exts)
    for ext in exts:
        settings.mime_types.pop(ext, None)


def _mapping(attr: str, what: str) -> Callable[[DirSettings, Node], None]:
    """AddLanguage / AddCharset `value .ext ...` (applied by httpd/mime.py)."""
    def apply(settings: DirSettings, node: Node) -> None:
        if len(node.args) < 2:
            raise ConfigError.at(node, f"{node.name} takes a {what} and one or more extensions")
        for ext in _extensions(node, 1):
            getattr(settings, attr)[ext] = node.args[0].lower()  # mod_mime lower-cases
    return apply


def _add_default_charset(settings: DirSettings, node: Node) -> None:
    """`AddDefaultCharset On|Off|charset` (On: httpd's iso-8859-1)."""
    value = _one(node)
    lower = value.lower()
    settings.default_charset = ("" if lower == "off" else
                                "iso-8859-1" if lower == "on" else value)


def _default_type(settings: DirSettings, node: Node, warnings: list[str]) -> None:
    if _one(node).lower() != "none":
        warnings.append(f"{node.where}: DefaultType {node.args[0]} has no effect (as in httpd "
                        "2.4, which warns the same)")


# -- mod_ssl --
def _ssl_require_ssl(settings: DirSettings, node: Node) -> None:
    """`SSLRequireSSL` (no argument): requests here must come over TLS (mod_ssl's
    ssl_hook_Access; httpd/ssl.py)."""
    if node.args:
        raise ConfigError.at(node, "SSLRequireSSL takes no argument")
    settings.ssl_require = True


SSL_VERIFY_LEVELS = ("none", "optional", "require", "optional_no_ca")


def _ssl_verify_client(settings: DirSettings, node: Node) -> None:
    """`SSLVerifyClient none|optional|require|optional_no_ca` (ssl_cmd_verify_parse)."""
    level = _one(node).lower()
    if level not in SSL_VERIFY_LEVELS:
        raise ConfigError.at(node, f"SSLVerifyClient: Invalid argument '{node.args[0]}' "
                                   "(none, optional, require or optional_no_ca)")
    settings.ssl_verify = level
    settings.ssl_verify_where = node.where


def _ssl_verify_depth(settings: DirSettings, node: Node) -> None:
    """`SSLVerifyDepth n` in a directory (the host-level one is config/ssl.py's)."""
    value = _one(node)
    if not value.isdigit():
        raise ConfigError.at(node, "SSLVerifyDepth: Invalid argument: a number of "
                                   "certificates (0 or more)")
    settings.ssl_verify_depth = int(value)


def _ssl_user_name(settings: DirSettings, node: Node) -> None:
    """`SSLUserName varname`: req.user from an SSL variable (httpd/ssl.py set_user)."""
    settings.ssl_user_name = _one(node)


_SSL_OPTION_NAMES = {name.lower(): name.lower() for name in (
    "StdEnvVars", "ExportCertData", "StrictRequire", "OptRenegotiate", "LegacyDNStringFormat",
    "FakeBasicAuth")}


def _ssl_options(settings: DirSettings, node: Node, warnings: list[str]) -> None:
    """`SSLOptions [+|-]opt ...` (ssl_cmd_SSLOptions): signed words adjust the inherited
    set (a relative setting); a word without sign makes the setting absolute and, as in
    mod_ssl, replaces what the line said before it (`nOptions = opt`)."""
    if not node.args:
        raise ConfigError.at(node, "SSLOptions needs at least one option")
    absolute = False
    for word in node.args:
        sign, name = (word[0], word[1:]) if word[:1] in "+-" else ("", word)
        option = _SSL_OPTION_NAMES.get(name.lower())
        if option is None:
            raise ConfigError.at(node, f"SSLOptions: Illegal option '{name}'")
        _warn_ssl_option(node, option, sign, warnings)
        if sign == "":
            if absolute and settings.ssl_options_set:
                warnings.append(f"{node.where}: SSLOptions {word} replaces the options before "
                                "it on this line, as mod_ssl does; write +A +B to add them")
            settings.ssl_options_set = frozenset({option})
            settings.ssl_options_add = settings.ssl_options_remove = frozenset()
            absolute = True
        elif absolute:
            current = settings.ssl_options_set or frozenset()
            settings.ssl_options_set = current - {option} if sign == "-" else current | {option}
        elif sign == "-":
            settings.ssl_options_add -= {option}
            settings.ssl_options_remove |= {option}
        else:
            settings.ssl_options_add |= {option}
            settings.ssl_options_remove -= {option}


def _warn_ssl_option(node: Node, option: str, sign: str, warnings: list[str]) -> None:
    """The options that do nothing here, said when they are turned on."""
    if option == "optrenegotiate" and sign != "-":
        warnings.append(f"{node.where}: SSLOptions OptRenegotiate has no effect: rustls "
                        "never renegotiates (client certificates are asked for during the "
                        "handshake)")
    if option == "strictrequire" and sign != "-":
        warnings.append(f"{node.where}: SSLOptions StrictRequire does not forbid access "
                        "under Satisfy Any, as on httpd 2.4 (mod_authz_core grants before "
                        "mod_ssl looks again): write Satisfy All to require TLS")


_SIMPLE: dict[str, Callable[[DirSettings, Node], None]] = {
    "addtype": _add_type,
    "addencoding": _add_encoding,
    "setoutputfilter": _set_filter("set_output_filter"),
    "setinputfilter": _set_filter("set_input_filter"),
    "addoutputfilter": _add_filter("add_output_filters"),
    "addinputfilter": _add_filter("add_input_filters"),
    "pythonoption": _python_option,
    "pythonpath": _python_path,
    "directoryindex": _directory_index,
    "authtype": _auth_field("auth_type"),
    "authname": _auth_field("auth_name"),
    "removetype": _remove_type,
    "addlanguage": _mapping("languages", "language"),
    "addcharset": _mapping("charsets", "charset"),
    "adddefaultcharset": _add_default_charset,
    **outputmods.DIRECTIVES,  # -- mod_headers / mod_expires / mod_deflate --
    **autoindex_config.DIRECTIVES,  # -- mod_autoindex --
    "sslrequiressl": _ssl_require_ssl,  # -- mod_ssl --
    "sslverifyclient": _ssl_verify_client,
    "sslverifydepth": _ssl_verify_depth,
    "sslusername": _ssl_user_name,
}
# Per-directory directives that may add warning lines.
_WARNING: dict[str, Callable[[DirSettings, Node, list[str]], None]] = {
    "ssloptions": _ssl_options,  # -- mod_ssl --
    "options": _options,
    "defaulttype": _default_type,
    "sethandler": _set_handler,
    "addhandler": _add_handler,
}


# Per-directory directives that need to know their section (mod_rewrite, .htaccess).
_CONTEXTUAL: dict[str, Callable[[DirSettings, Node, SectionContext], None]] = {
    "allowoverride": _allow_override,
    "allowoverridelist": _allow_override,
    **{name: _rewrite for name in mod_rewrite.DIRECTIVES},
}


def _apply_inside_limit(settings: DirSettings, node: Node, ctx: SectionContext,
                        warnings: Optional[list[str]]) -> None:
    """A directive inside <Limit> that is not method-limited applies to every method."""
    if node.is_section or not is_dir_directive(node.key):
        raise ConfigError.at(node, f"{node.name} is not allowed in <Limit>/<LimitExcept> here")
    apply_dir_directive(settings, node, ctx, warnings)


def is_dir_directive(key: str) -> bool:
    return (key in _SIMPLE or key in _CONTEXTUAL or key in _PHASE_BY_LOWER or key in _FLAG_BY_LOWER
            or key in _TEXT_BY_LOWER or key in REFUSED or key == "pythonhandlermodule"
            or key in _FILTER_DIRECTIVES or key in _WARNING or httpdmods.is_directive(key))


def apply_dir_directive(settings: DirSettings, node: Node, ctx: SectionContext,
                        warnings: Optional[list[str]] = None) -> None:
    """Record one per-directory directive in `settings`; warning lines go to `warnings`."""
    key = node.key
    if httpdmods.is_directive(key):  # -- httpd modules of issue 10 (httpdmods.py) --
        httpdmods.apply(settings, node, ctx, lambda _inner, child: _apply_inside_limit(
            settings, child, ctx, warnings), warnings)
        return
    if key in _WARNING:
        _WARNING[key](settings, node, warnings if warnings is not None else [])
        return
    if key in REFUSED:
        raise ConfigError.at(node, f"{node.name}: {REFUSED[key]} (refused rather than ignored)")
    if key == "deflatecompressionlevel" and not ctx.is_server:  # -- mod_deflate: RSRC_CONF --
        raise ConfigError.at(node, f"{node.name} is not allowed here (server config and "
                                   "virtual host only)")
    if key in _PHASE_BY_LOWER:
        phase = _PHASE_BY_LOWER[key]
        if not ctx.is_server and phase in ("PythonPostReadRequestHandler", "PythonTransHandler"):
            raise ConfigError.at(node, f"{phase} is not allowed here (server config only)")
        for handler_key, entries in _handler_entries(node, phase, ctx).items():
            # Repeating a directive in the same section appends to that section's list.
            settings.handlers[handler_key] = settings.handlers.get(handler_key, ()) + entries
    elif key in _FLAG_BY_LOWER:
        settings.python_config[_FLAG_BY_LOWER[key]] = _flag(node)
    elif key == "pythoninterpreter":
        settings.python_config["PythonInterpreter"] = _one(node)
    elif key == "pythonhandlermodule":
        _handler_module(settings, node, ctx)
    elif key in _FILTER_DIRECTIVES:
        _FILTER_DIRECTIVES[key](settings, node, ctx)
    elif key in _CONTEXTUAL:
        _CONTEXTUAL[key](settings, node, ctx)
    else:
        _SIMPLE[key](settings, node)
        if ctx.is_server and settings.autoindex is not None:  # -- mod_autoindex --
            settings.autoindex.server_level = True
