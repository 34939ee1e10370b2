"""Apache's stock error documents, so clients see what Apache + mod_python would send.

Owns the status → (title, explanation) table and the HTML body; nothing else.
"""

from __future__ import annotations

import html

_TEXT = {
    301: ("Moved Permanently", "The document has moved <a href=\"{location}\">here</a>."),
    302: ("Found", "The document has moved <a href=\"{location}\">here</a>."),
    400: ("Bad Request", "Your browser sent a request that this server could not understand."),
    401: ("Unauthorized", "This server could not verify that you\nare authorized to access the "
          "document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password),"
          " or your\nbrowser doesn't understand how to supply\nthe credentials required."),
    403: ("Forbidden", "You don't have permission to access this resource."),
    404: ("Not Found", "The requested URL was not found on this server."),
    405: ("Method Not Allowed", "The requested method {method} is not allowed for this URL."),
    411: ("Length Required", "A request of the requested method {method} requires a valid "
          "Content-length."),
    413: ("Request Entity Too Large", "The requested resource does not allow request data "
          "with {method} requests, or the amount of data provided in\nthe request exceeds the "
          "capacity limit."),
    500: ("Internal Server Error", "The server encountered an internal error or\n"
          "misconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the"
          " server administrator at \n [no address given] to inform them of the time this "
          "error occurred,\n and the actions you performed just before this error.</p>\n<p>More"
          " information about this error may be available\nin the server error log."),
    501: ("Not Implemented", "{method} not supported for current URL."),
    503: ("Service Unavailable", "The server is temporarily unable to service your\nrequest "
          "due to maintenance downtime or capacity\nproblems. Please try again later."),
}

# Statuses after which Apache closes the connection (ap_status_drops_connection).
DROPS_CONNECTION = frozenset({400, 408, 411, 413, 414, 417, 500, 503, 501})

CONTENT_TYPE = "text/html; charset=iso-8859-1"


def reason_phrase(status: int) -> str:
    if status in _TEXT:
        return _TEXT[status][0]
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def error_body(status: int, method: str = "GET", location: str = "") -> bytes:
    """The stock error page for `status`."""
    title = reason_phrase(status)
    text = _TEXT.get(status, (title, f"The server answered {status} {title}."))[1]
    text = text.format(method=html.escape(method), location=html.escape(location))
    page = (
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n'
        f"<html><head>\n<title>{status} {title}</title>\n</head><body>\n"
        f"<h1>{title}</h1>\n<p>{text}</p>\n</body></html>\n"
    )
    return page.encode("iso-8859-1", "xmlcharrefreplace")
