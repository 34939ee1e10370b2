"""The simple part of httpd's ap_expr, for `Header ... expr=...` conditions.

Owns parsing a condition made of comparisons joined by `&&` or `||` (one kind per
condition), each `[!] word op word`, `-n word`, `-z word`, `true` or `false`, where a word
is `%{VAR}`, a quoted string or a number, and op is `==`, `!=`, `<`, `<=`, `>`, `>=`
(strings), `-eq`, `-ne`, `-lt`, `-le`, `-gt`, `-ge` (integers), or `=~`/`!~` with a
`/regex/` or `m#regex#` (PCRE, as httpd). Anything else (functions, parentheses, `-ipmatch`,
string lists...) is refused by the caller with the reason. Must not know requests: the
variables' values come from the lookup the caller passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Union

from .regex import HttpdRegex, RegexError, compile_regex

# The ap_expr variables prefork-modpy can give a value (httpd/headers.py supplies them).
VARIABLES = frozenset({
    "REQUEST_URI", "REQUEST_METHOD", "REQUEST_SCHEME", "QUERY_STRING", "REQUEST_FILENAME",
    "REMOTE_ADDR", "HTTP_HOST", "HTTP_USER_AGENT", "HTTP_REFERER", "HTTP_COOKIE",
    "HTTP_ACCEPT", "CONTENT_TYPE", "REQUEST_STATUS", "HANDLER", "THE_REQUEST",
    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "DOCUMENT_ROOT", "HTTPS", "IS_SUBREQ",
})
_STRING_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
               "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_INT_OPS = {"-eq": "==", "-ne": "!=", "-lt": "<", "-le": "<=", "-gt": ">", "-ge": ">="}
_TOKEN = re.compile(r"""\s*(%\{[A-Za-z_:]+\}|'[^']*'|"[^"]*"|m(.)(?:(?!\2).)*\2|/(?:[^/\\]|\\.)*/
                        |&&|\|\||==|!=|<=|>=|=~|!~|<|>|!|-[a-z]+|\d+|true|false|\S+)""", re.X)


class ExprError(ValueError):
    """A condition outside the supported part of ap_expr; the message says why."""


@dataclass(frozen=True)
class Word:
    variable: Optional[str]  # %{NAME}
    text: str  # a literal


@dataclass(frozen=True)
class Comparison:
    negated: bool
    op: str  # "==", ..., "-eq", ..., "=~", "!~", "-n", "-z", "true", "false"
    left: Optional[Word] = None
    right: Optional[Union[Word, HttpdRegex]] = None


@dataclass(frozen=True)
class Expr:
    """Comparisons joined by one kind of operator."""

    joiner: str  # "&&" or "||"
    terms: tuple[Comparison, ...]
    text: str

    def evaluate(self, lookup: Callable[[str], str]) -> bool:
        results = (_compare(term, lookup) for term in self.terms)
        return all(results) if self.joiner == "&&" else any(results)


def parse(text: str) -> Expr:
    tokens = [match.group(1) for match in _TOKEN.finditer(text)]
    joiners = {token for token in tokens if token in ("&&", "||")}
    if len(joiners) > 1:
        raise ExprError("&& and || mixed without parentheses")
    terms: list[list[str]] = [[]]
    for token in tokens:
        if token in ("&&", "||"):
            terms.append([])
        else:
            terms[-1].append(token)
    return Expr(joiners.pop() if joiners else "&&", tuple(_term(term) for term in terms), text)


def _term(tokens: list[str]) -> Comparison:
    negated = False
    while tokens and tokens[0] == "!":
        negated, tokens = not negated, tokens[1:]
    if tokens in (["true"], ["false"]):
        return Comparison(negated, tokens[0])
    if len(tokens) == 2 and tokens[0] in ("-n", "-z"):
        return Comparison(negated, tokens[0], _word(tokens[1]))
    if len(tokens) != 3:
        raise ExprError(f"cannot read {' '.join(tokens) or 'an empty condition'!r}")
    left, op, right = tokens
    if op in ("=~", "!~"):
        return Comparison(negated, op, _word(left), _regex(right))
    if op not in _STRING_OPS and op not in _INT_OPS:
        raise ExprError(f"the operator {op!r} is not supported")
    return Comparison(negated, op, _word(left), _word(right))


def _word(token: str) -> Word:
    if token.startswith("%{") and token.endswith("}"):
        name = token[2:-1]
        if name not in VARIABLES:
            raise ExprError(f"the variable %{{{name}}} is not available")
        return Word(name, "")
    if token[:1] in ("'", '"') and token[-1:] == token[:1] and len(token) >= 2:
        if "%{" in token:
            raise ExprError("variables inside strings are not supported")
        return Word(None, token[1:-1])
    if token.isdigit():
        return Word(None, token)
    raise ExprError(f"cannot read {token!r} (expected %{{VAR}}, a quoted string or a number; "
                    "functions and parentheses are not supported)")


def _regex(token: str) -> HttpdRegex:
    if token.startswith("/") and token.endswith("/") and len(token) >= 2:
        pattern = token[1:-1]
    elif token.startswith("m") and len(token) >= 3 and token[-1] == token[1]:
        pattern = token[2:-1]
    else:
        raise ExprError(f"cannot read the regex {token!r} (expected /regex/ or m#regex#)")
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise ExprError(f"the regex {pattern!r} does not compile: {exc}") from None


def _value(word: Word, lookup: Callable[[str], str]) -> str:
    return lookup(word.variable) if word.variable is not None else word.text


def _compare(term: Comparison, lookup: Callable[[str], str]) -> bool:
    op = term.op
    if op in ("true", "false"):
        result = op == "true"
    elif op in ("-n", "-z"):
        assert term.left is not None
        result = bool(_value(term.left, lookup)) == (op == "-n")
    elif op in ("=~", "!~"):
        assert term.left is not None and isinstance(term.right, HttpdRegex)
        result = (term.right.search(_value(term.left, lookup)) is not None) == (op == "=~")
    else:
        assert term.left is not None and isinstance(term.right, Word)
        left, right = _value(term.left, lookup), _value(term.right, lookup)
        if op in _INT_OPS:
            try:
                result = _STRING_OPS[_INT_OPS[op]](int(left), int(right))
            except ValueError:
                result = False
        else:
            result = _STRING_OPS[op](left, right)
    return result != term.negated
