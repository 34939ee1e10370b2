"""mod_rewrite's configuration: RewriteEngine, RewriteBase, RewriteCond, RewriteRule,
RewriteMap (txt, int) and RewriteOptions Inherit, parsed as mod_rewrite.c's cmd_* do.

Owns the rule and condition model (patterns compiled by regex.py, httpd's PCRE), the flag
parsing with httpd's names, the per-directory merge (`config_perdir_merge`) and the
per-server one (`config_server_merge`). Anything mod_rewrite has that prefork-modpy does
not apply (other map types, proxy and cookie flags, lookahead variables, ap_expr
conditions, other RewriteOptions) is refused by name with the reason. A txt map file must
exist at load (httpd checks it then); its lines are read when first looked up. Must not
know requests (httpd/rewrite.py applies the rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from .regex import HttpdRegex, RegexError, compile_regex
from .syntax import ConfigError, Node

DIRECTIVES = ("rewriteengine", "rewritebase", "rewritecond", "rewriterule", "rewritemap",
              "rewriteoptions")

# Flags prefork-modpy refuses, with why (mod_rewrite's names, lower case, long and short).
_REFUSED_FLAGS = {
    "p": "proxying ([P]) needs mod_proxy, which prefork-modpy is not",
    "proxy": "proxying ([P]) needs mod_proxy, which prefork-modpy is not",
    "co": "cookies ([CO=]) are not set by prefork-modpy's mod_rewrite yet; set them in a "
          "handler",
    "cookie": "cookies ([CO=]) are not set by prefork-modpy's mod_rewrite yet; set them in "
              "a handler",
    "n": "[N] (restart the rules) is not implemented; write the loop as separate rules",
    "next": "[N] (restart the rules) is not implemented; write the loop as separate rules",
    "ns": "[NS] concerns subrequests, which prefork-modpy does not make; remove the flag",
    "nosubreq": "[NS] concerns subrequests, which prefork-modpy does not make; remove the "
                "flag",
    "h": "[H=] (handler) is not implemented; use SetHandler in a <Files> or <Location>",
    "handler": "[H=] (handler) is not implemented; use SetHandler in a <Files> or "
               "<Location>",
    "b": "[B] (escape backreferences) is not implemented",
    "bnp": "[BNP] is not implemented", "backrefnoplus": "[BNP] is not implemented",
    "dpi": "[DPI] is not implemented", "discardpath": "[DPI] is not implemented",
    "qsl": "[QSL] is not implemented", "qslast": "[QSL] is not implemented",
    "unsafeallow3f": "[UnsafeAllow3F] is not implemented",
    "unsafeprefixstat": "[UnsafePrefixStat] is not implemented",
}
_REFUSED_MAPS = ("rnd: random choice, dbm: DBM files, prg: an external program, dbd/fastdbd: "
                 "SQL; prefork-modpy has txt and int maps")
INTERNAL_MAPS = ("toupper", "tolower", "escape", "unescape")
# %{LA-U:..}/%{LA-F:..} do a lookahead subrequest; prefork-modpy makes none.
_LOOKAHEAD = re.compile(r"%\{LA-[UF]:", re.I)


@dataclass(frozen=True)
class Condition:
    """One RewriteCond: TestString, CondPattern and [NC,OR,NV]."""

    test: str
    kind: str  # "regex", "-f", "-d", "-s", "-l", "-x", "<", ">", "=", "<=", ">=", "-eq"...
    operand: str  # the text after the operator (lexical and integer comparisons)
    regex: Optional[HttpdRegex]
    negate: bool
    nocase: bool
    ornext: bool
    novary: bool
    where: str


@dataclass(frozen=True)
class Rule:
    """One RewriteRule with the conditions written before it."""

    pattern: str
    regex: HttpdRegex
    negate: bool
    substitution: Optional[str]  # None for "-": no substitution
    conditions: tuple[Condition, ...]
    last: bool = False
    end: bool = False
    chain: bool = False
    redirect: int = 0  # the status of [R]/[R=code]; 0: no redirect
    status: int = 0  # [F] 403, [G] 410
    qsappend: bool = False
    qsdiscard: bool = False
    passthrough: bool = False
    noescape: bool = False
    skip: int = 0
    env: tuple[str, ...] = ()
    mime_type: Optional[str] = None
    where: str = ""


@dataclass(frozen=True)
class TextMap:
    """`RewriteMap name txt:/path`: key value lines, read when first used."""

    name: str
    path: str


@dataclass(frozen=True)
class InternalMap:
    """`RewriteMap name int:toupper|tolower|escape|unescape`."""

    name: str
    function: str


RewriteMapKind = Union[TextMap, InternalMap]  # a runtime alias: no `|` on Python 3.9


@dataclass
class RewriteSettings:
    """mod_rewrite's per-server or per-directory config (rewrite_server_conf /
    rewrite_perdir_conf). `directory` is the per-directory prefix stripped from the path
    (None in server context)."""

    engine: Optional[bool] = None  # None: not set here
    inherit: Optional[bool] = None
    base: Optional[str] = None
    rules: tuple[Rule, ...] = ()
    pending: list[Condition] = field(default_factory=list)  # conditions awaiting a rule
    maps: dict[str, RewriteMapKind] = field(default_factory=dict)
    directory: Optional[str] = None

    @property
    def active(self) -> bool:
        return bool(self.engine and self.rules)


def merge_perdir(parent: Optional[RewriteSettings],
                 child: Optional[RewriteSettings]) -> Optional[RewriteSettings]:
    """config_perdir_merge: a section that uses no mod_rewrite directive inherits all; one
    that does keeps its own rules (with the parent's after them under RewriteOptions
    Inherit) and inherits an engine state and base it does not set."""
    if child is None:
        return parent
    if parent is None:
        return child
    inherit = child.inherit if child.inherit is not None else parent.inherit
    return RewriteSettings(
        engine=child.engine if child.engine is not None else parent.engine,
        inherit=inherit,
        base=child.base if child.base is not None else parent.base,
        rules=child.rules + parent.rules if inherit else child.rules,
        directory=child.directory)


def merge_server(main: Optional[RewriteSettings],
                 vhost: Optional[RewriteSettings]) -> Optional[RewriteSettings]:
    """config_server_merge: a virtual host inherits no engine state, and the main
    server's rules and maps only under RewriteOptions Inherit."""
    if main is None or vhost is None or not vhost.inherit:
        return vhost
    return RewriteSettings(engine=vhost.engine, inherit=True, rules=vhost.rules + main.rules,
                           maps={**main.maps, **vhost.maps})


def apply_directive(rewrite: Optional[RewriteSettings], node: Node, directory: Optional[str],
                    is_server: bool,
                    resolve_path: Optional[Callable[[str], str]] = None) -> RewriteSettings:
    """Record one mod_rewrite directive; returns the (possibly new) settings."""
    settings = rewrite if rewrite is not None else RewriteSettings(directory=directory)
    key = node.key
    if key == "rewriteengine":
        settings.engine = _on_off(node)
    elif key == "rewriteoptions":
        _options(settings, node)
    elif key == "rewritebase":
        if is_server:
            raise ConfigError.at(node, "RewriteBase: only valid in per-directory config files")
        base = _one(node)
        if not base.startswith("/"):
            raise ConfigError.at(node, "RewriteBase: argument is not a valid URL")
        settings.base = base
    elif key == "rewritecond":
        settings.pending.append(_condition(node))
    elif key == "rewriterule":
        settings.rules += (_rule(node, tuple(settings.pending)),)
        settings.pending.clear()
    elif key == "rewritemap":
        if not is_server:
            raise ConfigError.at(node, "RewriteMap not allowed here (server config and "
                                       "virtual host only)")
        rewrite_map = _map(node, resolve_path)
        settings.maps[rewrite_map.name] = rewrite_map
    return settings


def finish(rewrite: Optional[RewriteSettings]) -> None:
    """A RewriteCond must be followed by a RewriteRule in the same context."""
    if rewrite is not None and rewrite.pending:
        raise ConfigError(f"{rewrite.pending[-1].where}: RewriteCond without a RewriteRule "
                          "after it in this context (httpd drops it silently; prefork-modpy "
                          "refuses it)")


def _on_off(node: Node) -> bool:
    value = _one(node).lower()
    if value not in ("on", "off"):
        raise ConfigError.at(node, "RewriteEngine must be On or Off")
    return value == "on"


def _one(node: Node) -> str:
    if len(node.args) != 1:
        raise ConfigError.at(node, f"{node.name} takes one argument")
    return node.args[0]


def _options(settings: RewriteSettings, node: Node) -> None:
    for word in node.args:
        if word.lower() == "inherit":
            settings.inherit = True
        else:
            raise ConfigError.at(node, f"RewriteOptions {word}: not implemented by "
                                       "prefork-modpy (only Inherit is); refused rather "
                                       "than ignored")


def _flags(node: Node, text: str) -> list[tuple[str, str]]:
    if not (text.startswith("[") and text.endswith("]")):
        raise ConfigError.at(node, f"{node.name}: bad flag delimiters in {text!r}")
    pairs = []
    for item in text[1:-1].split(","):
        name, _, value = item.strip().partition("=")
        if name:
            pairs.append((name.lower(), value))
    return pairs


_INT_OPS = ("-eq", "-ne", "-lt", "-le", "-gt", "-ge")
_FILE_TESTS = ("-f", "-d", "-s", "-l", "-L", "-h", "-x")


def _condition(node: Node) -> Condition:
    if len(node.args) not in (2, 3):
        raise ConfigError.at(node, "RewriteCond: bad argument line (expected TestString "
                                   "CondPattern [flags])")
    test, pattern = node.args[0], node.args[1]
    _check_test_string(node, test)
    nocase = ornext = novary = False
    for name, _value in _flags(node, node.args[2]) if len(node.args) == 3 else []:
        if name in ("nc", "nocase"):
            nocase = True
        elif name in ("or", "ornext"):
            ornext = True
        elif name in ("nv", "novary"):
            novary = True
        else:
            raise ConfigError.at(node, f"RewriteCond: unknown flag '{name}'")
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    if body.lower() == "expr" or body in ("-F", "-U") or body == "-ipmatch":
        raise ConfigError.at(node, f"RewriteCond {body}: not implemented by prefork-modpy "
                                   "(subrequest lookups and ap_expr conditions); refused "
                                   "rather than ignored")
    if body in _FILE_TESTS:
        kind = {"-L": "-l", "-h": "-l"}.get(body, body)
        return Condition(test, kind, "", None, negate, nocase, ornext, novary, node.where)
    if len(body) >= 4 and body[:3] in _INT_OPS:  # `-gt10`: the number follows directly
        kind = "-eq" if body[:3] == "-ne" else body[:3]
        return Condition(test, kind, body[3:], None, negate != (body[:3] == "-ne"), nocase,
                         ornext, novary, node.where)
    if len(body) >= 2 and body[0] in "<>=":
        operator = body[:2] if body[:2] in ("<=", ">=") else body[0]
        operand = body[len(operator):]
        if operator == "=" and operand == '""':
            operand = ""  # `=""` is the empty string
        return Condition(test, operator, operand, None, negate, nocase, ornext, novary,
                         node.where)
    return Condition(test, "regex", "", _compile(node, body, nocase), negate, nocase, ornext,
                     novary, node.where)


def _compile(node: Node, pattern: str, nocase: bool) -> HttpdRegex:
    try:
        return compile_regex(pattern, icase=nocase)
    except RegexError as exc:
        raise ConfigError.at(node, f"{node.name}: cannot compile regular expression "
                                   f"'{pattern}': {exc}") from None


def _check_test_string(node: Node, text: str) -> None:
    if _LOOKAHEAD.search(text):
        raise ConfigError.at(node, f"{node.name}: %{{LA-U:...}}/%{{LA-F:...}} look ahead "
                                   "with a subrequest, which prefork-modpy does not make; "
                                   "refused rather than ignored")


def _rule(node: Node, conditions: tuple[Condition, ...]) -> Rule:
    if len(node.args) not in (2, 3):
        raise ConfigError.at(node, "RewriteRule: bad argument line (expected Pattern "
                                   "Substitution [flags])")
    pattern, substitution = node.args[0], node.args[1]
    _check_test_string(node, substitution)
    negate = pattern.startswith("!")
    body = pattern[1:] if negate else pattern
    fields: dict = {"where": node.where}
    nocase = False
    for name, value in _flags(node, node.args[2]) if len(node.args) == 3 else []:
        nocase = _rule_flag(node, name, value, fields) or nocase
    return Rule(body, _compile(node, body, nocase), negate,
                None if substitution == "-" else substitution, conditions, **fields)


def _rule_flag(node: Node, name: str, value: str, fields: dict) -> bool:
    """One [flag]; returns True for NC (the pattern is compiled afterwards)."""
    if name in _REFUSED_FLAGS:
        raise ConfigError.at(node, f"RewriteRule flag [{name.upper()}]: "
                                   f"{_REFUSED_FLAGS[name]} (refused rather than ignored)")
    if name in ("nc", "nocase"):
        return True
    simple = {"l": "last", "last": "last", "end": "end", "c": "chain", "chain": "chain",
              "qsa": "qsappend", "qsappend": "qsappend", "qsd": "qsdiscard",
              "qsdiscard": "qsdiscard", "pt": "passthrough", "passthrough": "passthrough",
              "ne": "noescape", "noescape": "noescape"}
    if name in simple:
        fields[simple[name]] = True
    elif name in ("r", "redirect"):
        fields["redirect"] = _redirect_code(node, value)
    elif name in ("f", "forbidden"):
        fields["status"] = 403
    elif name in ("g", "gone"):
        fields["status"] = 410
    elif name in ("s", "skip"):
        if not value.isdigit():
            raise ConfigError.at(node, f"RewriteRule: [S={value}] needs a number")
        fields["skip"] = int(value)
    elif name in ("e", "env"):
        if not value:
            raise ConfigError.at(node, "RewriteRule: [E=] needs VAR:VALUE or !VAR")
        fields["env"] = fields.get("env", ()) + (value,)
    elif name in ("t", "type"):
        fields["mime_type"] = value
    else:
        raise ConfigError.at(node, f"RewriteRule: unknown flag '{name}'")
    return False


def _redirect_code(node: Node, value: str) -> int:
    """[R] is 302; [R=permanent|temp|seeother|NNN]; httpd 2.4 accepts 300-399 and, as
    ACTION_STATUS, a non-redirect status (the substitution is then dropped)."""
    named = {"": 302, "permanent": 301, "temp": 302, "seeother": 303}
    lower = value.lower()
    if lower in named:
        return named[lower]
    if not value.isdigit() or not 300 <= int(value) <= 599:
        raise ConfigError.at(node, f"RewriteRule: invalid HTTP response code '{value}' "
                                   "for flag 'R'")
    return int(value)


def _map(node: Node, resolve_path: Optional[Callable[[str], str]]) -> RewriteMapKind:
    if len(node.args) not in (2, 3):
        raise ConfigError.at(node, "RewriteMap takes a name and type:source")
    name, source = node.args[0], node.args[1]
    kind, sep, rest = source.partition(":")
    kind = kind.lower()
    if not sep or not rest:
        raise ConfigError.at(node, f"RewriteMap: bad map type:source {source!r}")
    if kind == "int":
        if rest.lower() not in INTERNAL_MAPS:
            raise ConfigError.at(node, f"RewriteMap: internal map function '{rest}' not "
                                       f"found (one of {', '.join(INTERNAL_MAPS)})")
        return InternalMap(name, rest.lower())
    if kind == "txt":
        path = resolve_path(rest) if resolve_path is not None else rest
        try:
            open(path, "rb").close()
        except OSError as exc:
            raise ConfigError.at(node, f"RewriteMap: file for map {name} not found: "
                                       f"{path} ({exc.strerror})") from None
        return TextMap(name, path)
    raise ConfigError.at(node, f"RewriteMap {name} {kind}: map type not implemented by "
                               f"prefork-modpy ({_REFUSED_MAPS}); refused rather than "
                               "ignored")
