"""The directives of mod_headers, mod_expires, mod_deflate (and mod_filter's by-type form).

Owns parsing `Header`, `RequestHeader`, `ExpiresActive`, `ExpiresByType`, `ExpiresDefault`,
`AddOutputFilterByType` and `DeflateCompressionLevel` into the values `DirSettings` keeps,
with httpd's checks and messages (mod_headers' header_inout_cmd, mod_expires' check_code).
What cannot be honoured is refused with the reason (`early`, `expr=`, format tags that need
SSL or the scoreboard). Must not apply anything to requests (httpd/headers.py,
httpd/expires.py, httpd/deflate.py do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import apexpr
from .regex import HttpdRegex, RegexError, compile_regex
from .syntax import ConfigError, Node

# -- mod_headers ------------------------------------------------------------------------------

HEADER_ACTIONS = ("set", "setifempty", "add", "append", "merge", "unset", "echo", "edit",
                  "edit*", "note")
# Format tags mod_headers knows (parse_format_tag) that prefork-modpy refuses, and why.
_REFUSED_TAGS = {"s": "SSL variables: TLS is terminated in front of prefork-modpy",
                 "l": "the load average", "i": "the scoreboard's idle workers",
                 "b": "the scoreboard's busy workers", "L": "mod_unique_id's log id"}
_KNOWN_TAGS = frozenset({"t", "D", "e"})


@dataclass(frozen=True)
class FormatPart:
    """One piece of a header value: a literal, or a %t / %D / %{VAR}e tag."""

    tag: str  # "" for a literal
    text: str  # the literal, or the tag's argument


@dataclass(frozen=True)
class HeaderAction:
    """One `Header`/`RequestHeader` line."""

    action: str  # one of HEADER_ACTIONS
    header: str
    value: tuple[FormatPart, ...] = ()  # the value (for edit: the replacement)
    regex: Optional[HttpdRegex] = None  # edit/edit*: the match; echo: the header names
    env: Optional[str] = None  # env=VAR or env=!VAR (with the "!")
    always: bool = False  # `Header always`: err_headers_out, also on error responses
    condition: Optional[apexpr.Expr] = None  # expr=... (the simple part of ap_expr)


def parse_format(node: Node, text: str) -> tuple[FormatPart, ...]:
    """mod_headers' parse_format_string: literals with \\n \\r \\t \\\\ escapes, %%, and
    %t, %D, %{VAR}e; any other tag is httpd's error or a refusal with the reason."""
    parts: list[FormatPart] = []
    index, size = 0, len(text)
    while index < size:
        if text[index] != "%":
            end = text.find("%", index)
            end = size if end < 0 else end
            parts.append(FormatPart("", _unescape(text[index:end])))
            index = end
            continue
        index += 1
        if index >= size or text[index] == "%":
            parts.append(FormatPart("", "%"))
            index += 1
            continue
        arg = ""
        if text[index] == "{":
            close = text.find("}", index)
            close = size if close < 0 else close
            arg, index = text[index + 1:close], close + 1
        tag = text[index] if index < size else ""
        if tag in _REFUSED_TAGS:
            raise ConfigError.at(node, f"{node.name}: the format tag %{tag} ({_REFUSED_TAGS[tag]}) "
                                       "is not available in prefork-modpy (refused rather than "
                                       "ignored)")
        if tag not in _KNOWN_TAGS:
            raise ConfigError.at(node, f"Unrecognized header format %{text[index - 1]}")
        parts.append(FormatPart(tag, arg))
        index += 1
    return tuple(parts)


def _unescape(text: str) -> str:
    """parse_misc_string's backslash escapes; any other backslash is kept."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "\\rnt":
            out.append({"\\": "\\", "r": "\r", "n": "\n", "t": "\t"}[text[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_header(node: Node, is_request: bool) -> HeaderAction:
    """header_cmd + header_inout_cmd: `[always|onsuccess] action header [value] [subs]
    [env=[!]VAR]`."""
    words = list(node.args)
    always = False
    if not is_request and words and words[0].lower() in ("always", "onsuccess"):
        always = words.pop(0).lower() == "always"
    if len(words) < 2:
        raise ConfigError.at(node, f"{node.name} requires at least two arguments")
    if len(words) > 5:
        raise ConfigError.at(node, f"{node.name} has too many arguments")
    action, header = words[0].lower(), words[1]
    value, subs, clause = (words[2:] + [None, None, None])[:3]
    if action not in HEADER_ACTIONS:
        raise ConfigError.at(node, "first argument must be 'add', 'set', 'setifempty', "
                                   "'append', 'merge', 'unset', 'echo', 'note', 'edit', or "
                                   "'edit*'.")
    regex = None
    if action in ("edit", "edit*"):
        if subs is None:
            raise ConfigError.at(node, "Header edit requires a match and a substitution")
        regex = _regex(node, value or "", "Header edit regex could not be compiled")
        value = subs
    else:
        if clause is not None:
            raise ConfigError.at(node, "Too many arguments to directive")
        clause = subs
    if action in ("unset", "echo"):
        if value is not None:
            if clause is not None:
                raise ConfigError.at(node, f"header {action} takes two arguments")
            clause, value = value, None
        if action == "echo":
            if is_request:
                raise ConfigError.at(node, "Header echo only valid on Header directives")
            regex = _regex(node, header, "Header echo regex could not be compiled")
    elif value is None:
        raise ConfigError.at(node, "Header requires three arguments")
    if value is not None and value.lower().startswith("expr="):
        _refuse(node, "a value given as expr= (an ap_expr string expression)")
    condition = _condition(node, clause)
    env = None if condition is not None else _clause(node, clause)
    header = header.partition(":")[0]
    parts = parse_format(node, value) if value is not None else ()
    return HeaderAction(action, header, parts, regex, env, always, condition)


def _condition(node: Node, clause: Optional[str]) -> Optional[apexpr.Expr]:
    """expr=...: the simple comparisons apexpr.py reads; anything else is refused."""
    if clause is None or not clause.lower().startswith("expr="):
        return None
    try:
        return apexpr.parse(clause[5:])
    except apexpr.ExprError as exc:
        _refuse(node, f"the condition {clause!r} ({exc}; only comparisons of %{{VAR}}, "
                      "strings and numbers joined by && or || are)")
    return None


def _clause(node: Node, clause: Optional[str]) -> Optional[str]:
    if clause is None:
        return None
    lower = clause.lower()
    if lower == "early":
        _refuse(node, "early (applied before the request is mapped; prefork-modpy applies "
                      "headers at fixup and output time only)")
    if lower.startswith("env="):
        name = clause[4:]
        if not name or name == "!":
            raise ConfigError.at(node, "error: missing environment variable name. envclause "
                                       "should be in the form env=envar ")
        return name
    raise ConfigError.at(node, f"Unknown parameter: {clause}")


def _refuse(node: Node, what: str) -> None:
    raise ConfigError.at(node, f"{node.name}: {what} is not supported by prefork-modpy "
                               "(refused rather than ignored)")


def _regex(node: Node, pattern: str, message: str) -> HttpdRegex:
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise ConfigError.at(node, f"{message}: {exc}") from None


def _header(settings: Any, node: Node) -> None:
    settings.header_actions = settings.header_actions + (parse_header(node, False),)


def _request_header(settings: Any, node: Node) -> None:
    settings.request_header_actions = settings.request_header_actions + (
        parse_header(node, True),)


# -- mod_expires ------------------------------------------------------------------------------

# check_code's <type> words: a prefix of the name, at least this many letters.
_UNITS = (("years", 1, 365 * 86400), ("months", 2, 30 * 86400), ("weeks", 1, 7 * 86400),
          ("days", 1, 86400), ("hours", 1, 3600), ("minutes", 2, 60), ("seconds", 1, 1))


def expires_code(node: Node, text: str) -> tuple[str, int]:
    """mod_expires' check_code: "A3600"/"M3600", or `<base> [plus] {<num> <type>}*`
    -> (base "A" or "M", seconds)."""
    if text[:1] in ("A", "M"):
        return text[0], _atoi(text[1:])
    words = text.split()
    first = words.pop(0).lower() if words else ""
    if first[:1] in ("n", "a"):
        base = "A"
    elif first[:1] == "m":
        base = "M"
    else:
        raise ConfigError.at(node, f"bad expires code, unrecognised <base> '{first}'")
    if words and words[0][:1].lower() == "p":
        words.pop(0)
    seconds = 0
    while words:
        number = words.pop(0)
        if not number[:1].isdigit():
            raise ConfigError.at(node, "bad expires code, numeric value expected <num> "
                                       f"'{number}'")
        if not words:
            raise ConfigError.at(node, "bad expires code, missing <type>")
        seconds += _atoi(number) * _unit(node, words.pop(0))
    return base, seconds


def _unit(node: Node, word: str) -> int:
    lower = word.lower()
    for name, letters, factor in _UNITS:
        if lower[:letters] == name[:letters]:  # strncasecmp(word, name, letters)
            return factor
    raise ConfigError.at(node, f"bad expires code, unrecognised <type>'{word}'")


def _atoi(text: str) -> int:
    digits = ""
    for char in text.strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else 0


def _expires_active(settings: Any, node: Node) -> None:
    if len(node.args) != 1 or node.args[0].lower() not in ("on", "off"):
        raise ConfigError.at(node, "ExpiresActive must be On or Off")
    settings.expires_active = node.args[0].lower() == "on"


def _expires_by_type(settings: Any, node: Node) -> None:
    if len(node.args) != 2:
        raise ConfigError.at(node, "ExpiresByType takes two arguments, a MIME type and an "
                                   "expiry code")
    if "/" not in node.args[0]:
        raise ConfigError.at(node, "Invalid mimetype: should contain a slash")
    settings.expires_by_type = {**settings.expires_by_type,
                                node.args[0].lower(): expires_code(node, node.args[1])}


def _expires_default(settings: Any, node: Node) -> None:
    if len(node.args) != 1:
        raise ConfigError.at(node, "ExpiresDefault takes one argument")
    settings.expires_default = expires_code(node, node.args[0])


# -- mod_deflate / mod_filter -----------------------------------------------------------------

DEFLATE = "deflate"


def _by_type(settings: Any, node: Node) -> None:
    """AddOutputFilterByType DEFLATE type...: only httpd's DEFLATE filter by type."""
    if len(node.args) < 2:
        raise ConfigError.at(node, "AddOutputFilterByType takes a filter name and one or more "
                                   "media types")
    names = [name.strip().lower() for name in node.args[0].split(";") if name.strip()]
    if names != [DEFLATE]:
        raise ConfigError.at(node, f"AddOutputFilterByType {node.args[0]}: only DEFLATE is "
                                   "supported by type (Python filters are activated by name "
                                   "with SetOutputFilter/AddOutputFilter); refused rather than "
                                   "ignored")
    settings.deflate_types = settings.deflate_types | frozenset(
        kind.lower() for kind in node.args[1:])


def _compression_level(settings: Any, node: Node) -> None:
    if len(node.args) != 1 or not node.args[0].isdigit() or not 1 <= int(node.args[0]) <= 9:
        raise ConfigError.at(node, "DeflateCompressionLevel must be between 1 and 9")
    settings.deflate_level = int(node.args[0])


# Per-directory directives of these modules, by lower-case name (directives.py's table).
DIRECTIVES: dict[str, Callable[[Any, Node], None]] = {
    "header": _header,
    "requestheader": _request_header,
    "expiresactive": _expires_active,
    "expiresbytype": _expires_by_type,
    "expiresdefault": _expires_default,
    "addoutputfilterbytype": _by_type,
    "deflatecompressionlevel": _compression_level,
}
