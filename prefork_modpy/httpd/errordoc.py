"""The response to a handler that returned an HTTP error (or redirect) status.

Owns what httpd's `ap_die` / `ap_send_error_response` put on the wire: the stock page with
only `err_headers_out` (the handler's `headers_out` are dropped) except the `Location` of a
3xx or 201 (taken from `headers_out`, else `err_headers_out`), `Allow` on 405/501, the
title a matching `status_line` gives, `Connection: close` where httpd drops the connection;
204 and 304 go out without a body and, for 304, with only the headers httpd keeps. When the
handler already sent output, the page is appended to it, as with mod_python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from . import errorpages, static

if TYPE_CHECKING:
    from ..modpy.request import Request


def send_error(req: Request, status: int) -> None:
    """Answer `status` for `req` and finish the response."""
    if req._frozen is not None:
        req.write(_page(req, status, _location(req)), 0)
        req._finish_response()
        return
    req._headers_final = True
    if req._output_filters:
        req._output_filters = []  # httpd drops RESOURCE filters for its error documents
    if status in (204, 304):
        static.send_without_body(req, status)
        req._finish_response()
        return
    location = _location(req)
    headers = [("Content-Type", errorpages.CONTENT_TYPE)]
    err_headers = req.err_headers_out
    keep_location = status in errorpages.KEEPS_LOCATION and location
    headers.extend(item for item in err_headers.items()
                   if not (keep_location and item[0].lower() == "location"))
    if keep_location:
        headers.append(("Location", location))
    if status in (405, 501):
        headers.append(("Allow", errorpages.make_allow(req._allowed_mask)))
    if status in errorpages.DROPS_CONNECTION:
        headers.append(("Connection", "close"))
    # HEAD: httpd finishes after the headers, without a page or its Content-Length.
    body = b"" if req.header_only else _page(req, status, location)
    req.status = status
    req._frozen = (_wire_status(status), _status_line(req, status), headers)
    req._out, req._out_len = [body], len(body)
    req._bytes_queued = len(body)
    req._finish_response()


def _wire_status(status: int) -> int:
    """httpd sends a status it has no reason phrase for (418, 299, ...) as 500."""
    return status if status in errorpages.STATUS_LINES else 500


def _status_line(req: Request, status: int) -> Optional[str]:
    """A handler's status_line is used when it starts with the status (httpd's check)."""
    line = req.status_line
    if line and line[:3] == str(status) and (len(line) == 3 or line[3].isspace()):
        return line
    return None


def _location(req: Request) -> str:
    headers_out = req._headers_out
    location = headers_out.get("Location") if headers_out is not None else None
    if location is None and req._err_headers_out is not None:
        location = req._err_headers_out.get("Location")
    return location or ""


def _page(req: Request, status: int, location: str) -> bytes:
    return errorpages.error_body(status, req.method, location, req.status_line,
                                 req._notes, req.server.server_admin)
