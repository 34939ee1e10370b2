"""mod_python.util's `parse_qs` and `parse_qsl`, kept apart so that `apache` can re-export
them without importing `util` (which imports `apache`).

Owns splitting a query string on `&` and `;` and decoding it as mod_python 3.5 does. Must not
import anything of mod_python.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Tuple, Union
from urllib.parse import unquote_to_bytes

__all__ = ["parse_qs", "parse_qsl"]

_QS_SPLIT = re.compile(rb"[&;]")


def parse_qsl_bytes(qs: bytes, keep_blank_values: Any,
                    strict_parsing: Any) -> List[Tuple[bytes, bytes]]:
    pairs: List[Tuple[bytes, bytes]] = []
    for field in _QS_SPLIT.split(qs):
        _add_field(pairs, field, keep_blank_values, strict_parsing)
    return pairs


def parse_qsl_blocks(blocks: Iterator[bytes], keep_blank_values: Any,
                     strict_parsing: Any) -> Iterator[Tuple[bytes, bytes]]:
    """`parse_qsl_bytes` over a body arriving in blocks, in time linear in its size:
    complete fields are parsed as each block arrives; the pieces of a field that spans
    blocks are joined once, when its separator arrives (never re-concatenated per
    block), and the whole body is never held as one string."""
    pending: List[bytes] = []
    for block in blocks:
        fields = _QS_SPLIT.split(block)
        if len(fields) == 1:
            pending.append(block)
            continue
        pending.append(fields[0])
        fields[0] = b"".join(pending)
        pending = [fields.pop()]
        pairs: List[Tuple[bytes, bytes]] = []
        for field in fields:
            _add_field(pairs, field, keep_blank_values, strict_parsing)
        yield from pairs
    pairs = []
    _add_field(pairs, b"".join(pending), keep_blank_values, strict_parsing)
    yield from pairs


def _add_field(pairs: List[Tuple[bytes, bytes]], field: bytes, keep_blank_values: Any,
               strict_parsing: Any) -> None:
    """Append one `name=value` field, unquoted, to `pairs` (python's parse_qsl rules)."""
    if not field:
        return
    key, eq, value = field.partition(b"=")
    if not eq and strict_parsing:
        raise ValueError(f"bad query field: {field!r}")
    if value or keep_blank_values:
        pairs.append((unquote_to_bytes(key.replace(b"+", b" ")),
                      unquote_to_bytes(value.replace(b"+", b" "))))


def parse_qsl(qs: Union[str, bytes], keep_blank_values: Any = 0,
              strict_parsing: Any = 0) -> List[Tuple[Any, Any]]:
    """Split a query string on ``&`` and ``;`` into ``(name, value)`` pairs.

    ``+`` becomes a space and %-escapes are decoded; pairs with an empty value are
    dropped unless ``keep_blank_values``; ``strict_parsing`` raises ValueError for a
    field without ``=`` (as urllib does).  str in gives str out (UTF-8, invalid
    sequences replaced), bytes in gives bytes out."""
    if isinstance(qs, str):
        raw = qs.encode("utf-8", "surrogateescape")
        return [(k.decode("utf-8", "replace"), v.decode("utf-8", "replace"))
                for k, v in parse_qsl_bytes(raw, keep_blank_values, strict_parsing)]
    if isinstance(qs, (bytes, bytearray, memoryview)):
        return parse_qsl_bytes(bytes(qs), keep_blank_values, strict_parsing)
    raise TypeError("parse_qsl() argument 1 must be str or bytes")


def parse_qs(qs: Union[str, bytes], keep_blank_values: Any = 0,
             strict_parsing: Any = 0) -> Dict[Any, List[Any]]:
    """Like ``parse_qsl`` but returns a dict of name -> list of values."""
    result: Dict[Any, List[Any]] = {}
    for key, value in parse_qsl(qs, keep_blank_values, strict_parsing):
        result.setdefault(key, []).append(value)
    return result
