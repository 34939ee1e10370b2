"""mod_expires: `Expires` and `Cache-Control: max-age` from ExpiresByType/ExpiresDefault.

Owns expires_filter and set_expiration_fields as httpd 2.4 runs them when a response's first
output passes: nothing for an error status, nothing when the handler set `Expires` itself
(in err_headers_out or headers_out: that table gets the fields); the code for the response's
type (parameters dropped), else the default; base "A" is the request time, "M" the file's
modification time (no file: nothing); an expiry in the past is the request time. Must not
send anything.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .headers import merge_value

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec
    from ..runtime.table import Table


def apply(req: RequestRec, settings: DirSettings) -> None:
    if not settings.expires_active or 400 <= req.status < 600 or req.main is not None:
        return
    if req.err_headers_out.get("Expires") is not None \
            or req.headers_out.get("Expires") is not None:
        return  # the handler decided (mod_cgi's fields land in err_headers_out)
    code = None
    content_type = req.content_type
    if content_type:
        by_type = settings.expires_by_type
        code = by_type.get(content_type.split(";")[0].strip().lower())
        if code is None and "/" in content_type:  # an ExpiresByType major/* entry
            code = by_type.get(content_type.partition("/")[0].lower() + "/*")
    if code is None:
        code = settings.expires_default
    if code is not None:
        _set_fields(req, req.headers_out, code)


def _set_fields(req: RequestRec, table: Table, code: tuple[str, int]) -> None:
    """set_expiration_fields, in microseconds as apr_time_t."""
    base, seconds = code
    now = round(req.request_time * 1_000_000)
    if base == "M":
        try:
            start = os.stat(req.filename).st_mtime_ns // 1000 if req.filename else None
        except OSError:
            start = None
        if start is None:
            return  # no file on disk: nothing to base it on (and no error, as httpd)
    else:
        start = now
    expires = max(start + seconds * 1_000_000, now)
    merge_value(table, "Cache-Control", f"max-age={(expires - now) // 1_000_000}")
    table["Expires"] = req.runtime.http_date(expires / 1_000_000)
