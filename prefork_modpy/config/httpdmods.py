"""The per-directory directives of httpd's env, setenvif, access_compat, authz_core (its
containers), authn_file, authz_groupfile, alias-redirect and mod_dir modules, and core's
ErrorDocument and per-directory LimitRequestBody.

Owns parsing and validating `SetEnv`/`UnsetEnv`/`PassEnv`, `SetEnvIf*`/`BrowserMatch*`,
`Order`/`Allow`/`Deny`/`Satisfy`, `Require` (every form, `not`, `<RequireAll|Any|None>`),
`<Limit>`/`<LimitExcept>`, `AuthUserFile`/`AuthGroupFile`/`AuthBasicProvider`,
`Redirect*`/`AliasMatch`, `ErrorDocument`, `DirectorySlash`, `FallbackResource` and
`LimitRequestBody` into `HttpdMods`, and the merge rules of each httpd module
(merge_env_dir_configs, merge_setenvif_config, mod_access_compat's absent merger,
merge_authz_core_dir_config with AuthMerging Off, merge_alias_dir_config). Must not
evaluate a request: the httpd/ modules and modpy/httpdhooks.py do. No I/O except reading
the environment for PassEnv (as httpd does at start).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional, Protocol, Union

from .regex import RegexError, SearchPattern, compile_regex
from .syntax import LEGACY_CLIENT_VARIABLES, ConfigError, Node


class SettingsHolder(Protocol):
    """The part of directives.DirSettings this module fills (directives.py imports this
    module, so it is named by shape, not imported)."""

    httpd: Optional[HttpdMods]
    requires: Optional[tuple[str, ...]]


class SectionPlace(Protocol):
    """The part of directives.SectionContext this module reads."""

    @property
    def is_server(self) -> bool: ...


# -- methods (<Limit>/<LimitExcept>) --------------------------------------------------------

@dataclass(frozen=True)
class Methods:
    """The methods a directive applies to: `names`, or every method but `names` when
    `inverted` (<LimitExcept>). httpd numbers HEAD as M_GET, so HEAD counts as GET."""

    names: frozenset[str]
    inverted: bool = False

    def __contains__(self, method: object) -> bool:
        name = "GET" if method == "HEAD" else method
        return (name in self.names) != self.inverted


def methods_union(first: Optional[Methods], second: Optional[Methods]) -> Optional[Methods]:
    """None is every method (cmd->limited's default)."""
    if first is None or second is None:
        return None
    if not first.inverted and not second.inverted:
        return Methods(first.names | second.names)
    if first.inverted and second.inverted:
        return Methods(first.names & second.names, True)
    plain, inverted = (first, second) if second.inverted else (second, first)
    return Methods(inverted.names - plain.names, True)


def applies(limited: Optional[Methods], method: str) -> bool:
    return limited is None or method in limited


# -- mod_env / mod_setenvif -----------------------------------------------------------------

# mod_setenvif's special attributes (case-insensitive), in setenvif.c's order.
SPECIAL_ATTRIBUTES = ("remote_host", "remote_addr", "server_addr", "request_method",
                      "request_protocol", "request_uri")
_TOKEN = re.compile(r"[-A-Za-z0-9_]*")


@dataclass(frozen=True)
class EnvCondition:
    """One SetEnvIf/BrowserMatch line (setenvif.c's sei_entry)."""

    special: Optional[str]  # one of SPECIAL_ATTRIBUTES
    name: str  # the header or variable name when not special
    name_regex: Optional[SearchPattern]  # when the attribute is a regex of header names
    pattern: SearchPattern
    actions: tuple[tuple[str, Optional[str]], ...]  # (variable, value); None: unset
    where: str


# -- mod_access_compat -----------------------------------------------------------------------

DENY_THEN_ALLOW, ALLOW_THEN_DENY, MUTUAL_FAILURE = "deny,allow", "allow,deny", "mutual-failure"


@dataclass(frozen=True)
class HostRule:
    """One word after `Allow from` / `Deny from`."""

    kind: str  # all | ip | host | env | nenv
    limited: Optional[Methods]
    network: Any = None  # ipaddress network for ip
    text: str = ""  # host name / variable


@dataclass
class AccessCompat:
    """mod_access_compat's dir config. httpd gives the module no merge function, so a
    section that uses any of its directives replaces the whole config of its parent."""

    orders: list[tuple[Optional[Methods], str]] = field(default_factory=list)
    allows: list[HostRule] = field(default_factory=list)
    denies: list[HostRule] = field(default_factory=list)
    satisfy: list[tuple[Optional[Methods], str]] = field(default_factory=list)

    def order_for(self, method: str) -> str:
        order = DENY_THEN_ALLOW
        for limited, value in self.orders:
            if applies(limited, method):
                order = value
        return order

    def satisfy_for(self, method: str) -> str:
        value = "nospec"
        for limited, given in self.satisfy:
            if applies(limited, method):
                value = given
        return value


# -- mod_authz_core --------------------------------------------------------------------------

@dataclass
class AuthzRule:
    """One `Require [not] provider args` line."""

    provider: str
    args: tuple[str, ...]
    negate: bool
    limited: Optional[Methods]
    parsed: Any = None  # ip: networks; group/user/method/env: a frozenset

    @property
    def text(self) -> str:
        return " ".join(("not",) * self.negate + (self.provider, *self.args))


@dataclass
class AuthzSection:
    """<RequireAll> (and), <RequireAny> (or), <RequireNone> (or, negated); a section's
    own lines form an implicit <RequireAny>."""

    op_and: bool = False
    negate: bool = False
    children: list[Union[AuthzRule, AuthzSection]] = field(default_factory=list)
    limited: Optional[Methods] = Methods(frozenset())

    @property
    def name(self) -> str:
        if self.op_and:
            return "<RequireNotAll>" if self.negate else "<RequireAll>"
        return "<RequireNone>" if self.negate else "<RequireAny>"


# -- mod_alias -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RedirectRule:
    status: int
    prefix: Optional[str]  # Redirect: the URL-path prefix
    regex: Optional[SearchPattern]  # RedirectMatch
    target: Optional[str]  # None for gone (410)


@dataclass(frozen=True)
class AliasMatchRule:
    regex: SearchPattern
    target: str


@dataclass
class HttpdMods:
    """What one section sets for the modules above; None / empty: inherit."""

    env_set: dict[str, str] = field(default_factory=dict)
    env_unset: frozenset[str] = frozenset()
    setenvif: tuple[EnvCondition, ...] = ()
    access: Optional[AccessCompat] = None
    authz: Optional[AuthzSection] = None
    auth_user_file: Optional[str] = None
    auth_group_file: Optional[str] = None
    basic_providers: Optional[tuple[str, ...]] = None
    redirects: tuple[RedirectRule, ...] = ()
    alias_matches: tuple[AliasMatchRule, ...] = ()
    # core's ErrorDocument: status -> (kind, value), kind text | local | remote | default
    error_documents: dict[int, tuple[str, str]] = field(default_factory=dict)
    directory_slash: Optional[bool] = None  # mod_dir's DirectorySlash (None: On)
    fallback_resource: Optional[str] = None  # mod_dir's FallbackResource ("": disabled)
    limit_request_body: Optional[int] = None  # core's LimitRequestBody here (0: none)

    def merged_with(self, child: HttpdMods) -> HttpdMods:
        env = {name: value for name, value in self.env_set.items()
               if name not in child.env_unset}
        env.update(child.env_set)
        return HttpdMods(
            env_set=env,
            setenvif=self.setenvif + child.setenvif,
            access=child.access if child.access is not None else self.access,
            authz=child.authz if child.authz is not None else self.authz,
            auth_user_file=_pick(child.auth_user_file, self.auth_user_file),
            auth_group_file=_pick(child.auth_group_file, self.auth_group_file),
            basic_providers=_pick(child.basic_providers, self.basic_providers),
            # mod_alias merges per-dir redirects child first (merge_alias_dir_config)
            redirects=child.redirects + self.redirects,
            alias_matches=child.alias_matches + self.alias_matches,
            error_documents={**self.error_documents, **child.error_documents},
            directory_slash=_pick(child.directory_slash, self.directory_slash),
            fallback_resource=_pick(child.fallback_resource, self.fallback_resource),
            limit_request_body=_pick(child.limit_request_body, self.limit_request_body),
        )


def merge(parent: Optional[HttpdMods], child: Optional[HttpdMods]) -> Optional[HttpdMods]:
    if child is None:
        return parent
    if parent is None:
        return child
    return parent.merged_with(child)


def env_by_walk(server: Optional[HttpdMods],
                groups: list[list[Optional[HttpdMods]]]) -> dict[str, str]:
    """mod_env's variables as httpd's walks merge them: each group folded first (a fold of
    two or more sections keeps no UnsetEnv: merge_env_dir_configs leaves it NULL), then
    merged onto the result so far."""
    result = server or HttpdMods()
    for group in groups:
        present = [mods for mods in group if mods is not None]
        if not present:
            continue
        folded = present[0]
        for mods in present[1:]:
            folded = folded.merged_with(mods)
        result = result.merged_with(folded)
    return result.env_set


def _pick(child: Any, parent: Any) -> Any:
    return child if child is not None else parent


# -- the directives ------------------------------------------------------------------------

@dataclass
class _Ctx:
    """Where a directive stands: the <Limit> methods and the enclosing Require container;
    `warnings` collects the config's warning lines."""

    section: SectionPlace
    limited: Optional[Methods] = None
    container: Optional[AuthzSection] = None
    warnings: list[str] = field(default_factory=list)


# httpd's special variables whose effect is a protocol workaround prefork-modpy does not
# apply (mod_deflate's no-gzip & co. belong to that module).
_UNAPPLIED_SPECIAL = LEGACY_CLIENT_VARIABLES - {"gzip-only-text/html", "no-gzip", "dont-vary"}


def _mods(settings: SettingsHolder) -> HttpdMods:
    if settings.httpd is None:
        settings.httpd = HttpdMods()
    return settings.httpd


def _set_env(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if not 1 <= len(node.args) <= 2:
        raise ConfigError.at(node, "SetEnv takes a variable name and an optional value")
    mods = _mods(settings)
    mods.env_set[node.args[0]] = node.args[1] if len(node.args) == 2 else ""


def _unset_env(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if not node.args:
        raise ConfigError.at(node, "UnsetEnv needs at least one variable name")
    mods = _mods(settings)
    # mod_env: UnsetEnv drops what the same section set before it and, at merge time,
    # what the parent sections set.
    for name in node.args:
        mods.env_set.pop(name, None)
    mods.env_unset |= frozenset(node.args)


def _pass_env(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    """PassEnv copies the server process's variable as it was at start (httpd warns
    "PassEnv variable %s was undefined" and sets nothing when it is missing)."""
    if not node.args:
        raise ConfigError.at(node, "PassEnv needs at least one variable name")
    mods = _mods(settings)
    for name in node.args:
        value = os.environ.get(name)
        if value is not None:
            mods.env_set[name] = value


def _setenvif(attribute: Optional[str], icase: bool) -> Callable[[SettingsHolder, Node, _Ctx],
                                                                 None]:
    def apply(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
        words = list(node.args)
        if attribute is not None:
            words.insert(0, attribute)
        if len(words) < 3:
            raise ConfigError.at(node, f"{node.name} takes an attribute (BrowserMatch: none), "
                                       "a regex and at least one variable")
        condition = _condition(node, words[0], words[1], words[2:], icase)
        _warn_special(node, condition, ctx.warnings)
        mods = _mods(settings)
        mods.setenvif += (condition,)
    return apply


def _condition(node: Node, attr: str, regex: str, actions: list[str],
               icase: bool) -> EnvCondition:
    pattern = _regex(node, regex, icase)
    special = attr.lower() if attr.lower() in SPECIAL_ATTRIBUTES else None
    name_regex = None
    if special is None and _TOKEN.fullmatch(attr) is None:
        # setenvif.c: an attribute with non-token characters is a regex of header names,
        # matched without regard to case
        name_regex = _regex(node, attr, True)
    parsed: list[tuple[str, Optional[str]]] = []
    for word in actions:
        if word.startswith("!"):
            if not word[1:]:
                raise ConfigError.at(node, f"{node.name}: '!' needs a variable name")
            parsed.append((word[1:], None))
        else:
            name, eq, value = word.partition("=")
            if not name:
                raise ConfigError.at(node, f"{node.name}: missing variable name in {word!r}")
            parsed.append((name, value if eq else "1"))
    return EnvCondition(special, attr, name_regex, pattern, tuple(parsed), node.where)


def _warn_special(node: Node, condition: EnvCondition, warnings: list[str]) -> None:
    """One warning per variable: it is set (handlers see it) but its httpd meaning is not
    applied (the stock setenvif.conf sets them for clients of the 1990s)."""
    for name, value in condition.actions:
        if value is None or name.lower() not in _UNAPPLIED_SPECIAL:
            continue
        text = (f"{node.name}: the variable {name!r} is set, but its meaning to httpd (a "
                "protocol workaround for old clients) is not applied by prefork-modpy")
        if not any(line.endswith(text) for line in warnings):
            warnings.append(f"{node.where}: {text}")


def _regex(node: Node, text: str, icase: bool) -> SearchPattern:
    try:
        return compile_regex(text, icase=icase)
    except RegexError as exc:
        raise ConfigError.at(node, f"{node.name}: PCRE cannot compile {text!r}: {exc}") from None


def _access(settings: SettingsHolder) -> AccessCompat:
    mods = _mods(settings)
    if mods.access is None:
        mods.access = AccessCompat()
    return mods.access


def _order(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    value = "".join(node.args).lower()
    if len(node.args) != 1 or value not in (DENY_THEN_ALLOW, ALLOW_THEN_DENY, MUTUAL_FAILURE):
        raise ConfigError.at(node, "unknown order (Order takes Deny,Allow, Allow,Deny or "
                                   "Mutual-failure, without spaces)")
    _access(settings).orders.append((ctx.limited, value))


def _allow_deny(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if len(node.args) < 2 or node.args[0].lower() != "from":
        raise ConfigError.at(node, "allow and deny must be followed by 'from'")
    rules = [_host_rule(node, word, ctx.limited) for word in node.args[1:]]
    access = _access(settings)
    (access.allows if node.key == "allow" else access.denies).extend(rules)


def _host_rule(node: Node, word: str, limited: Optional[Methods]) -> HostRule:
    """mod_access_compat's allow_cmd: all, env=[!]var, an address (full, partial,
    /bits, /netmask), else a host name or domain."""
    lower = word.lower()
    if lower == "all":
        return HostRule("all", limited)
    if lower.startswith("env="):
        name = word[4:]
        negated = name.startswith("!")
        name = name.lstrip("!")
        if not name:
            raise ConfigError.at(node, f"{node.name} from {word}: missing variable name")
        return HostRule("nenv" if negated else "env", limited, text=name)
    network = _network(word)
    if network is not None:
        return HostRule("ip", limited, network=network)
    if "/" in word:
        raise ConfigError.at(node, f"An IP address was expected: {word!r}")
    return HostRule("host", limited, text=lower)


_PARTIAL_IP = re.compile(r"\d{1,3}(\.\d{1,3}){0,3}\.?")


def _network(word: str) -> Any:
    """apr_ipsubnet_create: `10.1` and `10.1.` are 10.1.0.0/16; a/bits; a/netmask."""
    address, slash, mask = word.partition("/")
    if not slash and _PARTIAL_IP.fullmatch(word):
        parts = [part for part in word.split(".") if part]
        padded = ".".join(parts + ["0"] * (4 - len(parts)))
        word = f"{padded}/{8 * len(parts)}"
    try:
        return ipaddress.ip_network(word, strict=False)
    except ValueError:
        return None


def _satisfy(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    value = "".join(node.args).lower()
    if len(node.args) != 1 or value not in ("all", "any"):
        raise ConfigError.at(node, "Satisfy either 'any' or 'all'.")
    _access(settings).satisfy.append((ctx.limited, value))


# Require providers: authz_host (ip, host, local, all? in authz_core), authz_user,
# authz_groupfile, authz_core's env and method, mod_ssl's ssl and ssl-verify-client.
REQUIRE_PROVIDERS = frozenset({"all", "env", "method", "ip", "host", "local", "valid-user",
                               "user", "group", "forward-dns", "ssl", "ssl-verify-client"})
_NO_ARGUMENT = ("valid-user", "local", "ssl", "ssl-verify-client")
_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE",
                           "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK",
                           "UNLOCK", "VERSION-CONTROL", "CHECKOUT", "UNCHECKOUT", "CHECKIN",
                           "UPDATE", "LABEL", "REPORT", "MKWORKSPACE", "MKACTIVITY",
                           "BASELINE-CONTROL", "MERGE", "HEAD"})


def _require(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    """authz_core's add_authz_provider."""
    words = list(node.args)
    negate = bool(words) and words[0].lower() == "not"
    if negate:
        words = words[1:]
    if not words:
        raise ConfigError.at(node, "Require needs a provider (all, ip, user, group, ...)")
    provider, args = words[0].lower(), tuple(words[1:])
    if provider == "expr":
        raise ConfigError.at(node, "Require expr needs httpd's ap_expr language, which "
                                   "prefork-modpy does not implement (use Require env with "
                                   "SetEnvIf, or a PythonAuthzHandler)")
    if provider == "forward-dns":
        raise ConfigError.at(node, "Require forward-dns needs DNS lookups at each request; "
                                   "prefork-modpy refuses it (use Require ip)")
    if provider not in REQUIRE_PROVIDERS:
        raise ConfigError.at(node, f"Require: Unknown Authz provider: {words[0]}")
    rule = AuthzRule(provider, args, negate, ctx.limited, _parse_require(node, provider, args))
    _join_section(settings, node, ctx, rule, "negative Require directive")
    settings.requires = (settings.requires or ()) + (" ".join(node.args),)


def _parse_require(node: Node, provider: str, args: tuple[str, ...]) -> Any:
    if provider == "all":
        if args not in (("granted",), ("denied",)):
            raise ConfigError.at(node, "Require all takes 'granted' or 'denied'")
        return args[0] == "granted"
    if provider in _NO_ARGUMENT:
        if args:
            raise ConfigError.at(node, f"Require {provider} takes no argument")
        return None
    if not args:
        raise ConfigError.at(node, f"Require {provider} needs at least one argument")
    if provider == "ip":
        networks = []
        for word in args:
            network = _network(word)
            if network is None:
                raise ConfigError.at(node, f"Require ip: ip address '{word}' appears to be "
                                           "invalid")
            networks.append(network)
        return tuple(networks)
    if provider == "method":
        unknown = [word for word in args if word.upper() not in _HTTP_METHODS]
        if unknown:
            raise ConfigError.at(node, f"Require method: unknown method {unknown[0]!r}")
        return frozenset(word.upper() for word in args)
    if provider == "host":
        return tuple(word.lower() for word in args)
    return frozenset(args)


def _require_container(settings: SettingsHolder, node: Node, ctx: _Ctx,
                       apply_other: Callable[[SettingsHolder, Node], None]) -> None:
    """authz_core's add_authz_section: <RequireAll>, <RequireAny>, <RequireNone>."""
    if node.args:
        raise ConfigError.at(node, f"<{node.name}> directive doesn't take additional arguments")
    section = AuthzSection(op_and=node.key == "requireall", negate=node.key == "requirenone")
    inner = replace(ctx, container=section)
    for child in node.children or []:
        if child.key not in ("require", "requireall", "requireany", "requirenone"):
            raise ConfigError.at(child, f"{child.name} is not allowed in <{node.name}> "
                                        "(only Require and Require containers)")
        _apply(settings, child, inner, apply_other)
    if not section.children:
        raise ConfigError.at(node, f"{section.name} directive contains no authorization "
                                   "directives")
    if all(_negative(child) for child in section.children):
        raise ConfigError.at(node, f"{section.name} directive contains only negative "
                                   "authorization directives")
    _join_section(settings, node, ctx, section, f"{section.name} directive")


def _join_section(settings: SettingsHolder, node: Node, ctx: _Ctx,
                  item: Union[AuthzRule, AuthzSection], what: str) -> None:
    """The end of add_authz_provider and add_authz_section: the Require or the container
    joins the section it stands in (the context's own, made on first use, outside any);
    a negative one only means something inside an AND (<RequireAll>, the context's)."""
    parent = ctx.container
    if parent is None:
        mods = _mods(settings)
        if mods.authz is None:
            mods.authz = AuthzSection()
        parent = mods.authz
    if item.negate and not parent.op_and:
        raise ConfigError.at(node, f"{what} has no effect in {parent.name} directive")
    parent.limited = methods_union(parent.limited, item.limited)
    parent.children.append(item)


def _negative(child: Union[AuthzRule, AuthzSection]) -> bool:
    return child.negate


def _limit(settings: SettingsHolder, node: Node, ctx: _Ctx,
           apply_other: Callable[[SettingsHolder, Node], None]) -> None:
    """core's <Limit>/<LimitExcept>: Require, Order/Allow/Deny/Satisfy inside apply to the
    methods named (every other method for LimitExcept); other directives to all."""
    if ctx.limited is not None:
        raise ConfigError.at(node, f"<{node.name}> cannot be nested in <Limit>/<LimitExcept>")
    if not node.args:
        raise ConfigError.at(node, f"<{node.name}> needs at least one method")
    names = frozenset(word.upper() for word in node.args)
    inner = replace(ctx, limited=Methods(names, node.key == "limitexcept"))
    for child in node.children or []:
        _apply(settings, child, inner, apply_other)


def _auth_file(attr: str) -> Callable[[SettingsHolder, Node, _Ctx], None]:
    def apply(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
        if len(node.args) != 1:
            raise ConfigError.at(node, f"{node.name} takes one file name")
        setattr(_mods(settings), attr, node.args[0])
    return apply


def _basic_provider(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if not node.args:
        raise ConfigError.at(node, "AuthBasicProvider needs a provider name")
    unknown = [word for word in node.args if word.lower() != "file"]
    if unknown:
        raise ConfigError.at(node, f"AuthBasicProvider {unknown[0]}: prefork-modpy has the "
                                   "'file' provider (AuthUserFile) only; check other "
                                   "sources in a PythonAuthenHandler")
    _mods(settings).basic_providers = tuple(word.lower() for word in node.args)


_REDIRECT_STATUS = {"permanent": 301, "temp": 302, "seeother": 303, "gone": 410}


def _redirect(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    """mod_alias's add_redirect_internal: [status] URL-path|regex [URL]."""
    words = list(node.args)
    default = {"redirectpermanent": 301, "redirecttemp": 302}.get(node.key, 302)
    status = default
    if node.key in ("redirect", "redirectmatch") and words:
        first = words[0].lower()
        if first in _REDIRECT_STATUS:
            status = _REDIRECT_STATUS[first]
            words = words[1:]
        elif first.isdigit():
            status = int(first)
            words = words[1:]
    is_redirect = 300 <= status < 400
    if not words or len(words) > 2 or (is_redirect and len(words) != 2) or (
            not is_redirect and len(words) != 1):
        raise ConfigError.at(node, f"{node.name}: URL to redirect to is missing" if is_redirect
                             and len(words) == 1 else
                             f"{node.name}: takes [status] URL-path [URL] (a URL for 3xx "
                             "only)")
    target = words[1] if len(words) == 2 else None
    if target is not None and not (re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target)
                                   or target.startswith("/")):
        raise ConfigError.at(node, f"{node.name} to non-URL {target!r}")
    if node.key == "redirectmatch":
        rule = RedirectRule(status, None, _regex(node, words[0], False), target)
    else:
        rule = RedirectRule(status, words[0], None, target)
    mods = _mods(settings)
    mods.redirects += (rule,)


def _alias_match(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if len(node.args) != 2:
        raise ConfigError.at(node, "AliasMatch takes a regex and a file-system path")
    if not ctx.section.is_server:
        raise ConfigError.at(node, "AliasMatch is not allowed here (server config and "
                                   "virtual host only)")
    mods = _mods(settings)
    mods.alias_matches += (AliasMatchRule(_regex(node, node.args[0], False), node.args[1]),)


_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")


def _error_document(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    """core's set_error_document: the kind follows httpd's heuristic (a space: text; a
    leading '/': a local URL; a URL: a remote one; else text)."""
    if len(node.args) != 2 or not node.args[0].isdigit():
        raise ConfigError.at(node, "ErrorDocument takes an error code and a document")
    code, document = int(node.args[0]), node.args[1]
    if not 400 <= code < 600 and code not in range(300, 400):
        raise ConfigError.at(node, f"Unsupported HTTP response code {code}")
    if document.lower() == "default":
        kind = "default"
    elif " " in document:
        kind = "text"
    elif document.startswith("/"):
        kind = "local"
    elif _URL.match(document):
        kind = "remote"
    else:
        kind = "text"
    if code == 401 and kind == "remote":
        # httpd ignores this line with "cannot use a full URL in a 401 ErrorDocument
        # directive --- ignoring!"; refused here, as a line that would do nothing
        raise ConfigError.at(node, "cannot use a full URL in a 401 ErrorDocument directive "
                                   "(httpd ignores the line; remove it)")
    _mods(settings).error_documents[code] = (kind, document)


def _directory_slash(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    value = " ".join(node.args).lower()
    if value not in ("on", "off"):
        raise ConfigError.at(node, "DirectorySlash must be On or Off")
    _mods(settings).directory_slash = value == "on"


def _fallback_resource(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    if len(node.args) != 1:
        raise ConfigError.at(node, "FallbackResource takes one local URL (or disabled)")
    value = node.args[0]
    if value.lower() == "disabled":
        value = ""
    elif not value.startswith("/"):
        raise ConfigError.at(node, f"FallbackResource {value}: a local URL-path starting with "
                                   "/ is expected")
    _mods(settings).fallback_resource = value


_MAX_BODY = 2**31 - 1  # httpd's AP_MAX_LIMIT_REQ_BODY on 64-bit builds


def _limit_request_body(settings: SettingsHolder, node: Node, ctx: _Ctx) -> None:
    """core's LimitRequestBody, per directory (server.py hands the engine the largest)."""
    if len(node.args) != 1 or not node.args[0].isdigit() or int(node.args[0]) > _MAX_BODY:
        raise ConfigError.at(node, f"LimitRequestBody requires a non-negative integer up to "
                                   f"{_MAX_BODY}")
    _mods(settings).limit_request_body = int(node.args[0])


def engine_body_limit(main: Optional[HttpdMods], others: list[Optional[HttpdMods]],
                      default: int) -> int:
    """The body limit the engine enforces for every request: the main server's value when
    no section or virtual host sets one (`default`, httpd 2.4.54+'s 1 GiB, when it sets
    none either); else the largest of all (0: unlimited), and the per-directory values are
    checked per request (dispatch)."""
    main_value = main.limit_request_body if main is not None else None
    if main_value is None:
        main_value = default
    values = [mods.limit_request_body for mods in others
              if mods is not None and mods.limit_request_body is not None]
    if not values:
        return main_value
    values.append(main_value)
    return 0 if 0 in values else max(values)


def is_empty(mods: HttpdMods) -> bool:
    return mods == HttpdMods()


_DIRECTIVES: dict[str, Callable[[SettingsHolder, Node, _Ctx], None]] = {
    "errordocument": _error_document,
    "limitrequestbody": _limit_request_body,
    "directoryslash": _directory_slash,
    "fallbackresource": _fallback_resource,
    "setenv": _set_env,
    "unsetenv": _unset_env,
    "passenv": _pass_env,
    "setenvif": _setenvif(None, False),
    "setenvifnocase": _setenvif(None, True),
    "browsermatch": _setenvif("User-Agent", False),
    "browsermatchnocase": _setenvif("User-Agent", True),
    "order": _order,
    "allow": _allow_deny,
    "deny": _allow_deny,
    "satisfy": _satisfy,
    "require": _require,
    "authuserfile": _auth_file("auth_user_file"),
    "authgroupfile": _auth_file("auth_group_file"),
    "authbasicprovider": _basic_provider,
    "redirect": _redirect,
    "redirectmatch": _redirect,
    "redirectpermanent": _redirect,
    "redirecttemp": _redirect,
    "aliasmatch": _alias_match,
}
SECTIONS = frozenset({"limit", "limitexcept", "requireall", "requireany", "requirenone"})
DIRECTIVES = frozenset(_DIRECTIVES)


def is_directive(key: str) -> bool:
    return key in _DIRECTIVES or key in SECTIONS


def apply(settings: SettingsHolder, node: Node, ctx: SectionPlace,
          apply_other: Callable[[SettingsHolder, Node], None],
          warnings: Optional[list[str]] = None) -> None:
    """Record one of this module's directives or sections; `apply_other` records any other
    directive found inside a <Limit>; warning lines go to `warnings`."""
    _apply(settings, node, _Ctx(ctx, warnings=warnings if warnings is not None else []),
           apply_other)


def _apply(settings: SettingsHolder, node: Node, ctx: _Ctx,
           apply_other: Callable[[SettingsHolder, Node], None]) -> None:
    key = node.key
    if key in ("limit", "limitexcept"):
        _limit(settings, node, ctx, apply_other)
    elif key in SECTIONS:
        _require_container(settings, node, ctx, apply_other)
    elif key in _DIRECTIVES:
        _DIRECTIVES[key](settings, node, ctx)
    else:
        apply_other(settings, node)
