"""The response to a handler that returned an HTTP error (or redirect) status.

Owns what httpd's `ap_die` / `ap_send_error_response` put on the wire: the stock page with
only `err_headers_out` (the handler's `headers_out` are dropped) except the `Location` of a
3xx or 201 (taken from `headers_out`, else `err_headers_out`), `Allow` on 405/501, the
title a matching `status_line` gives, `Connection: close` where httpd drops the connection;
204 and 304 go out without a body and, for 304, with only the headers httpd keeps. When the
handler froze the head with output still buffered, the page is appended to it, as with
mod_python; when body bytes are already on the wire, the connection is closed instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from . import errorpages, outfilters, static
from .cgienv import server_port

if TYPE_CHECKING:
    from ..runtime.record import RequestRec


def send_error(req: RequestRec, status: int, custom_text: Optional[str] = None,
               recursive: int = 0) -> None:
    """Answer `status` for `req` and finish the response; `custom_text` is an
    `ErrorDocument code "text"` body, `recursive` the status an ErrorDocument's own request
    failed with (ap_send_error_response's recursive_error)."""
    response = req.response
    if response.streaming:
        # Part of the body is on the wire under its framing (chunked or a Content-Length):
        # a page appended there would pass for body bytes. Closing the connection without
        # the end of the body tells the client the response failed.
        req.log_error(f"response failed with status {status} after {response.bytes_queued} "
                      "body bytes were sent: connection closed")
        response.abort()
        return
    if response.head is not None:
        req.write(_page(req, status, _location(req)), 0)
        response.finish(req)
        return
    response.headers_final = True
    response.sink = None  # httpd drops RESOURCE filters for its error documents
    if status in (204, 304):
        static.send_without_body(req, status)
        response.finish(req)
        return
    location = _location(req)
    headers = [("Content-Type", errorpages.CONTENT_TYPE)]
    err_headers = req.err_headers_out
    keep_location = status in errorpages.KEEPS_LOCATION and location
    headers.extend(item for item in err_headers.items()
                   if not (keep_location and item[0].lower() == "location"))
    headers.extend(outfilters.error_headers(req, status))  # -- mod_headers: Header always --
    if keep_location:
        headers.append(("Location", location))
    if status in (405, 501):
        trace = req.runtime.config.trace_enable != "off"  # TraceEnable
        headers.append(("Allow", errorpages.make_allow(req.allowed_mask, trace)))
    if status in errorpages.DROPS_CONNECTION:
        headers.append(("Connection", "close"))
    # HEAD: httpd finishes after the headers, without a page or its Content-Length.
    if req.header_only:
        body = b""
    elif custom_text is not None:
        body = custom_text.encode("utf-8")
    else:
        body = _page(req, status, location, recursive)
    req.status = status
    response.head = (_wire_status(status), _status_line(req, status), headers)
    response.parts, response.buffered = [body], len(body)
    response.bytes_queued = len(body)
    response.finish(req)


def _wire_status(status: int) -> int:
    """httpd sends a status it has no reason phrase for (418, 299, ...) as 500."""
    return status if status in errorpages.STATUS_LINES else 500


def _status_line(req: RequestRec, status: int) -> Optional[str]:
    """A handler's status_line is used when it starts with the status (httpd's check)."""
    line = req.status_line
    if line and line[:3] == str(status) and (len(line) == 3 or line[3].isspace()):
        return line
    return None


def _location(req: RequestRec) -> str:
    location = req.headers_out.get("Location")
    if location is None:
        location = req.err_headers_out.get("Location")
    return location or ""


def _page(req: RequestRec, status: int, location: str, recursive: int = 0) -> bytes:
    return errorpages.error_body(status, req.method, location, req.status_line,
                                 req.notes, req.server.server_admin, _signature(req),
                                 recursive)


def _signature(req: RequestRec) -> str:
    """ServerSignature's footer: the request's host name and port as ap_get_server_name /
    ap_get_server_port give them with UseCanonicalName Off (Host's port, else ServerName's,
    else the scheme's default)."""
    mode = req.vhost.server_signature
    if mode not in ("on", "email"):
        return ""
    port = server_port(req)
    name = req.hostname or req.server.server_hostname
    return errorpages.signature_footer(mode, req.runtime.config.server_banner, name, port,
                                       req.server.server_admin)
