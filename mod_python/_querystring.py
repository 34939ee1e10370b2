"""mod_python.util's `parse_qs` and `parse_qsl`, kept apart so that `apache` can re-export
them without importing `util` (which imports `apache`).

Owns splitting a query string on `&` and `;` and decoding it as mod_python 3.5 does. Must not
import anything of mod_python.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple, Union
from urllib.parse import unquote_to_bytes

__all__ = ["parse_qs", "parse_qsl"]

_QS_SPLIT = re.compile(rb"[&;]")


def parse_qsl_bytes(qs: bytes, keep_blank_values: Any,
                     strict_parsing: Any) -> List[Tuple[bytes, bytes]]:
    pairs: List[Tuple[bytes, bytes]] = []
    for field in _QS_SPLIT.split(qs):
        if not field:
            continue
        key, eq, value = field.partition(b"=")
        if not eq and strict_parsing:
            raise ValueError(f"bad query field: {field!r}")
        if value or keep_blank_values:
            pairs.append((unquote_to_bytes(key.replace(b"+", b" ")),
                          unquote_to_bytes(value.replace(b"+", b" "))))
    return pairs


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
