"""Validators and conditional requests: ETag, Last-Modified, If-* headers and byte ranges.

Owns httpd 2.4's rules, ported from http_etag.c (`ap_make_etag`: `"size-mtime"` in hex,
microseconds, weak within a second of the request), http_protocol.c
(`ap_meets_conditions` and the `ap_condition_if_*` checks) and byterange_filter.c
(`ap_set_byterange`: syntax, merging, 416). Used by `req.set_etag()`,
`req.set_last_modified()`, `req.meets_conditions()` and by the static file handler.
Pure functions over a request; no socket I/O.
"""

from __future__ import annotations

import email.utils
import os
import re
import time
from typing import TYPE_CHECKING, Optional, Union

from mod_python import apache

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

# ap_condition_e
NONE, NOMATCH, WEAK, STRONG = 0, 1, 2, 3

_ETAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def http_time(value: Optional[str]) -> int:
    """apr_date_parse_http in whole seconds; 0 (APR_DATE_BAD) when absent or unparsable."""
    if not value:
        return 0
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return 0
    try:
        return int(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return 0


def make_etag(request_time: float, mtime_us: int, size: Optional[int]) -> str:
    """`"size-mtime"` for a file (FileETag MTime Size, httpd 2.4's default), `"mtime"`
    otherwise; weak (`W/`) if the resource changed less than a second before the request."""
    weak = "W/" if request_time * 1_000_000 - mtime_us < 1_000_000 else ""
    if size is None:
        return f'{weak}"{mtime_us:x}"'
    return f'{weak}"{size:x}-{mtime_us:x}"'


# The validators of the files a worker serves, (mtime in microseconds, size) -> the strong
# ETag and the Last-Modified date: pure functions of the key, so a changed file (another
# mtime or size) gets its own entry. Bounded: emptied when full.
_VALIDATORS_LIMIT = 1024
_validators: dict[tuple[int, int], tuple[str, str]] = {}


def file_validators(req: RequestRec, info: os.stat_result) -> tuple[str, str]:
    """(ETag, Last-Modified) of the file a request sends, as make_etag() and
    set_last_modified() make them: the tag weak within a second of the change, the date
    never later than the request (req.mtime, which update_mtime() moved to the file's
    mtime or later)."""
    mtime_us = info.st_mtime_ns // 1000
    key = (mtime_us, info.st_size)
    known = _validators.get(key)
    if known is None:
        if len(_validators) >= _VALIDATORS_LIMIT:
            _validators.clear()
        known = _validators[key] = (f'"{info.st_size:x}-{mtime_us:x}"',
                                    req.runtime.http_date(info.st_mtime))
    etag, date = known
    request_time = req.request_time
    if request_time * 1_000_000 - mtime_us < 1_000_000:
        etag = "W/" + etag
    mtime = req.mtime
    if mtime != info.st_mtime or mtime > request_time:
        date = req.runtime.http_date(min(mtime, request_time))
    return etag, date


def file_etag(req: RequestRec, info: os.stat_result) -> str:
    return make_etag(req.request_time, info.st_mtime_ns // 1000, info.st_size)


def set_etag(req: RequestRec) -> None:
    """req.set_etag(): from the mapped file if there is one, else from req.mtime."""
    info = _stat(req.filename)
    if info is not None:
        req.headers_out["ETag"] = file_etag(req, info)
    else:
        req.headers_out["ETag"] = make_etag(req.request_time, int(req.mtime * 1_000_000), None)


def set_last_modified(req: RequestRec) -> None:
    """ap_set_last_modified: req.mtime, but never later than the request itself."""
    mtime = min(req.mtime, req.request_time)
    req.headers_out["Last-Modified"] = req.runtime.http_date(mtime)


def _stat(filename: Optional[str]) -> Optional[os.stat_result]:
    if not filename:
        return None
    try:
        return os.stat(filename)
    except (OSError, ValueError):
        return None


def _etag_in(line: str, etag: str, strong: bool) -> bool:
    """ap_find_etag_strong/weak: is `etag` one of the entity tags listed in `line`?"""
    if strong and etag.startswith("W/"):
        return False
    opaque = etag[2:] if etag.startswith("W/") else etag
    for weak, tag in _ETAG.findall(line):
        if strong and weak:
            continue
        if tag == (etag if strong else opaque):
            return True
    return False


def _times(req: RequestRec) -> tuple[int, int]:
    """(resource mtime, request time) in seconds, from the response headers if set."""
    headers = req.headers_out
    mtime = http_time(headers.get("Last-Modified"))
    if not mtime:
        mtime = int(req.mtime or time.time())
    reqtime = http_time(headers.get("Date")) or int(req.request_time)
    return mtime, reqtime


def _if_match(req: RequestRec) -> int:
    value = req.headers_in.get("If-Match")
    if value is None:
        return NONE
    etag = req.headers_out.get("ETag")
    if value.startswith("*") or (etag is not None and _etag_in(value, etag, strong=True)):
        return STRONG
    return NOMATCH


def _if_none_match(req: RequestRec) -> int:
    value = req.headers_in.get("If-None-Match")
    if value is None:
        return NONE
    if value.startswith("*"):
        return STRONG
    etag = req.headers_out.get("ETag")
    if etag is None:
        return NOMATCH
    if req.method_number != apache.M_GET:
        return STRONG if _etag_in(value, etag, strong=True) else NOMATCH
    if "Range" in req.headers_in:
        return STRONG if _etag_in(value, etag, strong=True) else NOMATCH
    return WEAK if _etag_in(value, etag, strong=False) else NOMATCH


def _if_since(req: RequestRec, header: str) -> int:
    """ap_condition_if_unmodified_since and ap_condition_if_modified_since, which differ
    only in what the date must say: If-Unmodified-Since holds when the resource changed
    after it, If-Modified-Since when it did not (a date after the request's own does not
    count). A change less than a minute before the request makes the match weak, and a
    weak match does not count with a Range."""
    value = req.headers_in.get(header)
    if value is None:
        return NONE
    since = http_time(value)
    mtime, reqtime = _times(req)
    if header == "If-Unmodified-Since":
        holds = bool(since) and mtime > since
    else:
        holds = mtime <= since <= reqtime
    if not holds:
        return NOMATCH
    if reqtime < mtime + 60:
        return NOMATCH if "Range" in req.headers_in else WEAK
    return STRONG


def if_range(req: RequestRec) -> int:
    """ap_condition_if_range: does an If-Range (with a Range) still match?"""
    value = req.headers_in.get("If-Range")
    if value is None or "Range" not in req.headers_in:
        return NONE
    if value.startswith('"'):
        return STRONG if value == req.headers_out.get("ETag") else NOMATCH
    mtime, reqtime = _times(req)
    if http_time(value) == mtime:
        return NOMATCH if reqtime < mtime + 60 else STRONG
    return NOMATCH


def meets_conditions(req: RequestRec) -> int:
    """ap_meets_conditions: OK, HTTP_NOT_MODIFIED or HTTP_PRECONDITION_FAILED."""
    if not 200 <= req.status < 300 or req.no_local_copy:
        return apache.OK
    get = req.headers_in.get
    if get("If-Match") is None and get("If-Unmodified-Since") is None \
            and get("If-None-Match") is None and get("If-Modified-Since") is None:
        return apache.OK  # no condition: every test below says NONE (If-Range only adds OK)
    if _if_match(req) == NOMATCH:
        return apache.HTTP_PRECONDITION_FAILED
    not_modified = -1
    cond = _if_since(req, "If-Unmodified-Since")
    if cond == NOMATCH:
        not_modified = 0
    elif cond >= WEAK:
        return apache.HTTP_PRECONDITION_FAILED
    is_get = req.method_number == apache.M_GET
    cond = _if_none_match(req)
    if cond == NOMATCH:
        not_modified = 0
    elif cond >= WEAK:
        if not is_get:
            return apache.HTTP_PRECONDITION_FAILED
        not_modified = 1 if not_modified else 0
    cond = _if_since(req, "If-Modified-Since")
    if cond == NOMATCH:
        not_modified = 0
    elif cond >= WEAK and is_get:
        not_modified = 1 if not_modified else 0
    if if_range(req) > NONE:
        return apache.OK
    return apache.HTTP_NOT_MODIFIED if not_modified == 1 else apache.OK


def _length(text: str) -> Optional[int]:
    """ap_parse_strict_length: digits only."""
    text = text.strip()
    return int(text) if text.isdigit() else None


def byte_ranges(req: RequestRec, length: int) -> Optional[list[tuple[int, int]]]:
    """ap_set_byterange: the (start, end) ranges to send, merged in order; None when the
    Range header does not apply (send the whole body); [] when nothing is satisfiable
    (416). MaxRanges is httpd's default, 200."""
    value = req.headers_in.get("Range")
    if (value is None or value[:6].lower() != "bytes=" or req.status != 200
            or length <= 0 or if_range(req) == NOMATCH):
        return None
    merged: list[tuple[int, int]] = []
    current: Optional[tuple[int, int]] = None
    unsatisfiable = False
    for spec in value[6:].split(","):
        if not spec:
            break
        parsed = _parse_spec(spec, length)
        if parsed is None:
            return None
        if isinstance(parsed, str):  # "whole"
            merged, current = [], (0, length - 1)
            break
        start, end = parsed
        if start >= length:
            unsatisfiable = True
            continue
        current = _merge(merged, current, (max(start, 0), min(end, length - 1)))
    if current is not None:
        merged.append(current)
    elif unsatisfiable:
        return []
    if sum(end - start + 1 for start, end in merged) > length or len(merged) > 200:
        return None
    return merged or None


def _parse_spec(spec: str, length: int) -> Union[tuple[int, int], str, None]:
    """One byte-range-spec: (start, end), "whole" for `0-`, None if malformed."""
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    if not first.strip():
        count = _length(last)
        if count is None or count < 1:
            return None
        return length - count, length - 1
    start = _length(first)
    if start is None:
        return None
    if not last.strip():
        return "whole" if start == 0 else (start, length - 1)
    end = _length(last)
    if end is None or start > end:
        return None
    return start, end


def _merge(merged: list[tuple[int, int]], current: Optional[tuple[int, int]],
           new: tuple[int, int]) -> tuple[int, int]:
    """httpd merges a range into the previous one when they overlap or touch."""
    if current is None:
        return new
    (ostart, oend), (start, end) = current, new
    joined = start >= ostart and end <= oend
    if start < ostart and end >= ostart - 1:
        ostart, joined = start, True
    if end >= oend and start <= oend + 1:
        oend, joined = end, True
    if joined:
        return ostart, oend
    merged.append(current)
    return new
