"""The `LogFormat`/`CustomLog` grammar: nicknames, directives and which ones are supported.

Owns what a format string may say (Apache's mod_log_config syntax: `%[<>]{arg}X`, the
built-in `common`, `combined` and `vhost_combined` nicknames, and `json`) and the check the
config runs on every LogFormat and CustomLog, so a bad format is a `file:line` error at load
time. Must not know about requests: `httpd.accesslog` turns the parsed pieces into getters.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Optional, Union

BUILTIN_FORMATS = {
    "common": '%h %l %u %t "%r" %>s %b',
    "combined": '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    "vhost_combined": '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
    "json": "json",
}
JSON_FORMAT = "json"

# %[<>]{arg}X  — Apache's status-code conditions (%400,501{..}i) are refused, not ignored.
_DIRECTIVE = re.compile(r"%([<>]?)(?:\{([^}]*)\})?([<>]?)([a-zA-Z%])")
# Letters that take no argument.
SIMPLE_LETTERS = frozenset("%aAbBODfhHklmPqrRsuUvV")
# Letters whose argument is free text: a header, note or variable name, a strftime format.
_FREE_ARG_LETTERS = frozenset("ionet")
# Letters that take one of a few arguments ("" is the same as no argument).
_ARG_CHOICES = {
    "T": frozenset({"", "us", "ms", "s"}),
    "p": frozenset({"", "canonical", "local", "remote"}),
    "P": frozenset({"", "pid"}),
    "a": frozenset({"c"}),
}


class Directive(NamedTuple):
    """One `%...X` of a format: its letter and its `{argument}` (None without one)."""

    letter: str
    arg: Optional[str]


Piece = Union[str, Directive]


def parse(fmt: str) -> list[Piece]:
    """The literals and directives of `fmt`; ValueError names what is not supported."""
    pieces: list[Piece] = []
    pos = 0
    for match in _DIRECTIVE.finditer(fmt):
        if match.start() > pos:
            pieces.append(_literal(fmt[pos:match.start()]))
        pieces.append(_directive(match))
        pos = match.end()
    rest = fmt[pos:]
    if "%" in rest:
        raise ValueError(f"unsupported or malformed format directive at {rest!r}")
    if rest:
        pieces.append(_literal(rest))
    return pieces


def validate(fmt: str) -> None:
    """Raise ValueError if `fmt` (a format string or `json`) cannot be logged."""
    if fmt != JSON_FORMAT:
        parse(fmt)


def _literal(text: str) -> str:
    if "%" in text:
        bad = text[text.index("%"):][:8]
        raise ValueError(f"unsupported or malformed format directive at {bad!r}")
    # LogFormat strings use C escapes for tabs and newlines; only \t is meaningful here.
    return text.replace("\\t", "\t")


def _directive(match: re.Match) -> Directive:
    arg, letter = match.group(2), match.group(4)
    if not _supported(letter, arg):
        raise ValueError(f"format directive {match.group(0)!r} is not supported")
    return Directive(letter, arg)


def _supported(letter: str, arg: Optional[str]) -> bool:
    if arg is None:
        return letter in SIMPLE_LETTERS or letter in "tTp"
    if letter in _FREE_ARG_LETTERS:
        return True
    choices = _ARG_CHOICES.get(letter)
    return choices is not None and arg in choices


def resolve_format(name_or_format: str, formats: dict[str, str]) -> str:
    """CustomLog's second argument: a nickname (LogFormat's or a built-in) or a format."""
    if name_or_format in formats:
        return formats[name_or_format]
    if name_or_format in BUILTIN_FORMATS:
        return BUILTIN_FORMATS[name_or_format]
    if "%" not in name_or_format:
        raise ValueError(f"unknown log format nickname {name_or_format!r}")
    return name_or_format


# -- ErrorLog syslog[:facility] (runtime/errorlog.py) --
def syslog_facility(target: Optional[str]) -> Optional[int]:
    """`syslog` / `syslog:local1` → the facility (httpd's default is local7); None for a
    file or pipe. ValueError names an unknown facility."""
    if not target or target.split(":")[0].lower() != "syslog":
        return None
    import syslog

    name = target.partition(":")[2].lower() or "local7"
    facility = getattr(syslog, f"LOG_{name.upper()}", None)
    if not isinstance(facility, int) or not name.isalnum():
        raise ValueError(f"unknown syslog facility {name!r}")
    return facility
