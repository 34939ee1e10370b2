"""httpd's core answer to TRACE (`ap_send_http_trace`, a map_to_storage hook).

Owns what a TRACE request gets once translation is done and before any access, auth or
content handler runs: with `TraceEnable On` the request line and headers echoed back as
`message/http` (a request body is refused with 413), with `extended` the body echoed too
(at most 64 KiB), with `Off` 405 (and `TRACE` left out of every `Allow`, see
errorpages.make_allow). Must not know about mod_python's phases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mod_python import apache

if TYPE_CHECKING:
    from ..runtime.record import RequestRec

# ap_send_http_trace: an extended TRACE body above this is refused.
MAX_EXTENDED_BODY = 65536


def answer(req: RequestRec, trace_enable: str) -> int:
    """The status for a TRACE request (DONE once the echo is written)."""
    if trace_enable == "off":
        req.notes["error-notes"] = "TRACE denied by server configuration"
        return apache.HTTP_METHOD_NOT_ALLOWED
    raw = req.raw
    has_body = bool(raw.chunked or raw.content_length)
    if has_body and trace_enable != "extended":
        req.notes["error-notes"] = "TRACE with a request body is not allowed"
        return apache.HTTP_REQUEST_ENTITY_TOO_LARGE
    body = b""
    if has_body:
        if (raw.content_length or 0) > MAX_EXTENDED_BODY:
            req.notes["error-notes"] = "Extended TRACE request bodies cannot exceed 64k\n"
            return apache.HTTP_REQUEST_ENTITY_TOO_LARGE
        body = req.read(MAX_EXTENDED_BODY + 1)
        if len(body) > MAX_EXTENDED_BODY:
            return apache.HTTP_REQUEST_ENTITY_TOO_LARGE
    req.content_type = "message/http"
    # form_header_field: `name: value` CRLF for each header as httpd's headers_in holds it.
    head = [raw.the_request, *(f"{name}: {value}" for name, value in req.headers_in.items())]
    req.write(("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body, 0)
    return apache.DONE
