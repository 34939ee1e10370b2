"""What the compat tests compare, and how: a `Case` is one request sent to both servers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional

import pytest

from .conftest import Pair, Reply

ALWAYS_COMPARED = ("content-type", "location")


def as_json(body: bytes) -> object:
    """A JSON body as data (pytest then names the differing keys), anything else as is."""
    try:
        return json.loads(body)
    except ValueError:
        return body


def item_set(value: Optional[str]) -> Optional[set[str]]:
    return None if value is None else {item.strip() for item in value.split(",")}


def allow_set(value: Optional[str]) -> Optional[set[str]]:
    """`Allow` without TRACE: httpd lists it because it answers TRACE (TraceEnable On);
    prefork-modpy lists it only where it answers TRACE too. That rule is compared on its
    own (test_response_guards_compat.test_allow_lists_trace_only_where_trace_is_answered)."""
    items = item_set(value)
    return None if items is None else items - {"TRACE", ""}


def normalize(reply: Reply, port: int) -> Reply:
    """Replace the server's own port (in URLs it builds) by PORT."""
    mark = f":{port}"
    headers = {k: v.replace(mark, ":PORT") for k, v in reply.headers.items()}
    return Reply(reply.status, headers, reply.body.replace(mark.encode(), b":PORT"))


def stock_page(body: bytes) -> bytes:
    """Apache's built-in error page, compared byte for byte (HTML 4.01 DOCTYPE included)."""
    return body


def debug_page_head(body: bytes) -> bytes:
    """The part of a PythonDebug page before the traceback: `<pre>\\nMod_python error:
    "PythonHandler module::function"` (the traceback frames name each server's dispatcher)."""
    return body.split(b"Traceback (most recent call last):", 1)[0]


def final_exception_type(body: bytes) -> bytes:
    """`ValueError` from the traceback's last line (mod_python wraps long messages)."""
    tail = body.rsplit(b"\n\n", 2)[-2] if body.count(b"\n\n") >= 2 else body
    match = re.search(rb"^(\w[\w.]*):", tail.strip(), re.M)
    return match.group(1) if match else tail


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    method: str = "GET"
    body: Optional[bytes] = None
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "exact"  # exact | stock (Apache error page) | debug (PythonDebug page)
    also: tuple[str, ...] = ()  # more headers to compare
    # headers compared as sets of comma-separated items (httpd lists `Allow` in hash order,
    # randomly seeded at each start)
    as_set: tuple[str, ...] = ()
    xfail: str = ""  # an undocumented difference: why prefork-modpy's reply is not Apache's


def params(cases: list[Case]) -> list:
    return [pytest.param(case, id=case.id,
                         marks=[pytest.mark.xfail(reason=case.xfail, strict=True)]
                         if case.xfail else [])
            for case in cases]


def both(pair: Pair, case: Case) -> tuple[Reply, Reply]:
    ours, theirs = pair.both(case.path, method=case.method, body=case.body,
                             headers=case.headers)
    return normalize(ours, pair.modpy_port), normalize(theirs, pair.apache.port)


def assert_same(ours: Reply, theirs: Reply, case: Case) -> None:
    assert ours.status == theirs.status, (ours.body[:500], theirs.body[:500])
    for name in ALWAYS_COMPARED + case.also:
        assert ours.header(name) == theirs.header(name), name
    for name in case.as_set:
        same = allow_set if name == "allow" else item_set
        assert same(ours.header(name)) == same(theirs.header(name)), name
    if case.mode == "exact":
        assert as_json(ours.body) == as_json(theirs.body)
        assert ours.body == theirs.body
    elif case.mode == "stock":
        assert stock_page(ours.body) == stock_page(theirs.body)
    else:
        assert debug_page_head(ours.body) == debug_page_head(theirs.body)
        assert final_exception_type(ours.body) == final_exception_type(theirs.body)
