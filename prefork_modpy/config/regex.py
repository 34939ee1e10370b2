"""httpd's regular expressions: PCRE syntax and httpd's default options, through libpcre2.

Owns compiling every pattern a config gives (`<DirectoryMatch>`, `<FilesMatch>`,
`<LocationMatch>`, the `~` forms, regex directives) the way httpd's `ap_pregcomp` does:
PCRE2 (POSIX classes such as `[[:alnum:]]`, possessive quantifiers, `(?i)`), with
`RegexDefaultOptions` (httpd 2.4's default: DOTALL and DOLLAR_ENDONLY), case-sensitive as on
Unix (httpd adds ICASE only on case-insensitive file systems). Python's `re` is not used: its
syntax differs (`[[:alnum:]]` is a character set there) and a pattern would silently mean
something else. Must not know where a pattern is used.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

import pcre2

# PCRE2 compile options (pcre2.h); the binding passes them through.
_CASELESS = 0x00000008
_DOTALL = 0x00000020
_DOLLAR_ENDONLY = 0x00000010
# RegexDefaultOptions names (httpd's ap_regcomp_set_default_cflags).
DEFAULT_OPTION_BITS = {"ICASE": _CASELESS, "DOTALL": _DOTALL, "DOLLAR_ENDONLY": _DOLLAR_ENDONLY}
HTTPD_DEFAULT_OPTIONS = _DOTALL | _DOLLAR_ENDONLY


class RegexError(ValueError):
    """A pattern libpcre2 cannot compile; the message is libpcre2's."""


class HttpdRegex:
    """A compiled httpd regex with the part of `re.Pattern`'s interface the server uses."""

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str, options: int = HTTPD_DEFAULT_OPTIONS,
                 icase: bool = False) -> None:
        self.pattern = pattern
        flags = options | (_CASELESS if icase else 0)
        try:
            self._compiled = pcre2.compile(pattern, flags)
        except (pcre2.PatternError, ValueError) as exc:
            raise RegexError(str(exc)) from None

    def search(self, text: str) -> Optional[pcre2.Match]:
        """The first match anywhere in `text` (httpd's ap_regexec), or None."""
        return self._compiled.search(text)

    @property
    def groupindex(self) -> dict:
        """Named groups: httpd 2.4.8+ exports them as MATCH_<NAME> environment variables."""
        return dict(self._compiled.groupindex)

    def __repr__(self) -> str:
        return f"HttpdRegex({self.pattern!r})"


def compile_regex(pattern: str, options: int = HTTPD_DEFAULT_OPTIONS,
                  icase: bool = False) -> HttpdRegex:
    return HttpdRegex(pattern, options, icase)


class SearchPattern(Protocol):
    """What sections and handler entries keep: an `HttpdRegex`, or a `re.Pattern` for a
    `<Directory>` wildcard (fnmatch-style, translated by server.py)."""

    @property
    def pattern(self) -> str: ...

    def search(self, text: str) -> Optional[Any]: ...
