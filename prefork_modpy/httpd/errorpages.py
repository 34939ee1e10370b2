"""Apache's stock error documents, so clients see what Apache + mod_python would send.

Owns httpd 2.4's status-line table, the canned explanation per status
(`get_canned_error_string` in http_protocol.c, word for word, including the 500 text that
httpd uses for every status it has no text for) and the page around it
(`ap_send_error_response`), plus the `Allow` value of a 405/501 (`make_allow`). The Rust
engine is given `STATUS_LINES` and `error_body` when it is built (server/worker.py): its
status lines and the pages of the requests it refuses itself come from here too.
Nothing else: which status to send is the dispatcher's business.
"""

from __future__ import annotations

from typing import Optional, Protocol

# httpd 2.4.x (since 2.4.58) sends the HTML 4.01 doctype on its error pages.
DOCTYPE = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
           '"http://www.w3.org/TR/html4/strict.dtd">\n')

# httpd's status_lines[]: statuses it has a reason phrase for. Anything else is sent, and
# titled, as 500 by httpd (ap_index_of_response).
STATUS_LINES = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 200: "OK",
    201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
    205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
    305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Request Entity Too Large", 414: "Request-URI Too Long",
    415: "Unsupported Media Type", 416: "Requested Range Not Satisfiable",
    417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Entity",
    423: "Locked", 424: "Failed Dependency", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}

_SERVER_ERROR = ("<p>The server encountered an internal error or\nmisconfiguration and was "
                 "unable to complete\nyour request.</p>\n<p>Please contact the server "
                 "administrator at \n {admin} to inform them of the time this error occurred,\n"
                 " and the actions you performed just before this error.</p>\n<p>More "
                 "information about this error may be available\nin the server error log.</p>\n")
_MOVED = '<p>The document has moved <a href="{location}">here</a>.</p>\n'

# status → text; "{method}"/"{location}" are filled in (HTML-escaped), "{notes}" takes the
# request's `error-notes` note where httpd appends it.
_CANNED = {
    301: _MOVED, 302: _MOVED, 307: _MOVED, 308: _MOVED,
    303: '<p>The answer to your request is located <a href="{location}">here</a>.</p>\n',
    305: "<p>This resource is only accessible through the proxy\n<br />\nYou will need to "
         "configure your client to use that proxy.</p>\n",
    401: "<p>This server could not verify that you\nare authorized to access the document\n"
         "requested.  Either you supplied the wrong\ncredentials (e.g., bad password), or "
         "your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n",
    400: "<p>Your browser sent a request that this server could not understand.<br />\n"
         "{notes}</p>\n",
    403: "<p>You don't have permission to access this resource.{notes}</p>\n",
    404: "<p>The requested URL was not found on this server.</p>\n",
    405: "<p>The requested method {method} is not allowed for this URL.</p>\n",
    406: "<p>An appropriate representation of the requested resource could not be found on "
         "this server.</p>\n",
    411: "<p>A request of the requested method {method} requires a valid Content-length."
         "<br />\n{notes}</p>\n",
    412: "<p>The precondition on the request for this URL evaluated to false.</p>\n",
    501: "<p>{method} not supported for current URL.<br />\n{notes}</p>\n",
    502: "<p>The proxy server received an invalid\r\nresponse from an upstream server."
         "<br />\r\n{notes}</p>\n",
    506: "<p>A variant for the requested resource\n<pre>\n\n</pre>\nis itself a negotiable "
         "resource. This indicates a configuration error.</p>\n",
    408: "<p>Server timeout waiting for the HTTP request from the client.</p>\n",
    410: "<p>The requested resource is no longer available on this server and there is no "
         "forwarding address.\nPlease remove all references to this resource.</p>\n",
    413: "The requested resource does not allow request data with {method} requests, or the "
         "amount of data provided in\nthe request exceeds the capacity limit.\n",
    414: "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n"
         "{notes}</p>\n",
    415: "<p>The supplied request data is not in a format\nacceptable for processing by this "
         "resource.</p>\n",
    416: "<p>None of the range-specifier values in the Range\nrequest-header field overlap "
         "the current extent\nof the selected resource.</p>\n",
    422: "<p>The server understands the media type of the\nrequest entity, but was unable to "
         "process the\ncontained instructions.</p>\n",
    423: "<p>The requested resource is currently locked.\nThe lock must be released or proper"
         " identification\ngiven before the method can be applied.</p>\n",
    424: "<p>The method could not be performed on the resource\nbecause the requested action "
         "depended on another\naction and that other action failed.</p>\n",
    426: "<p>The requested resource can only be retrieved\nusing SSL.  The server is willing "
         "to upgrade the current\nconnection to SSL, but your client doesn't support it.\n"
         "Either upgrade your client, or try requesting the page\nusing https://\n",
    428: "<p>The request is required to be conditional.</p>\n",
    429: "<p>The user has sent too many requests\nin a given amount of time.</p>\n",
    431: "<p>The server refused this request because\nthe request header fields are too "
         "large.</p>\n",
    503: "<p>The server is temporarily unable to service your\nrequest due to maintenance "
         "downtime or capacity\nproblems. Please try again later.</p>\n",
    504: "<p>The gateway did not receive a timely response\nfrom the upstream server or "
         "application.</p>\n",
    507: "<p>The method could not be performed on the resource\nbecause the server is unable "
         "to store the\nrepresentation needed to successfully complete the\nrequest.  There "
         "is insufficient free space left in\nyour storage allocation.</p>\n",
    508: "<p>The server terminated an operation because\nit encountered an infinite loop.</p>\n",
    510: "<p>A mandatory extension policy in the request is not\naccepted by the server for "
         "this resource.</p>\n",
    511: "<p>The client needs to authenticate to gain\nnetwork access.</p>\n",
    421: "<p>The client needs a new connection for this\nrequest as the requested host name "
         "does not match\nthe Server Name Indication (SNI) in use for this\nconnection.</p>\n",
    451: "<p>Access to this URL has been denied for legal reasons.<br />\n{notes}</p>\n",
}
_CANNED[407] = _CANNED[401]

# Statuses after which Apache closes the connection (ap_status_drops_connection).
DROPS_CONNECTION = frozenset({400, 408, 411, 413, 414, 417, 500, 503, 501})
# 3xx and 201 error responses carry the handler's Location (ap_send_error_response).
KEEPS_LOCATION = frozenset({201, 300, 301, 302, 303, 304, 305, 306, 307, 308})

CONTENT_TYPE = "text/html; charset=iso-8859-1"

# mod_python/httpd method numbers in the order prefork-modpy lists them in `Allow`
# (httpd walks a randomly seeded hash, so its order changes at every start).
_ALLOW_ORDER = (
    ("GET", 0), ("HEAD", 0), ("PUT", 1), ("POST", 2), ("DELETE", 3), ("CONNECT", 4),
    ("OPTIONS", 5), ("PATCH", 7), ("PROPFIND", 8), ("PROPPATCH", 9), ("MKCOL", 10),
    ("COPY", 11), ("MOVE", 12), ("LOCK", 13), ("UNLOCK", 14), ("VERSION-CONTROL", 15),
    ("CHECKOUT", 16), ("UNCHECKOUT", 17), ("CHECKIN", 18), ("UPDATE", 19), ("LABEL", 20),
    ("REPORT", 21), ("MKWORKSPACE", 22), ("MKACTIVITY", 23), ("BASELINE-CONTROL", 24),
    ("MERGE", 25),
)


def escape_html(text: str) -> str:
    """ap_escape_html: only &, <, > and double quotes (not single quotes)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def reason_phrase(status: int) -> str:
    return STATUS_LINES.get(status) or STATUS_LINES[500]


def make_allow(mask: int, trace: bool = True) -> str:
    """httpd's make_allow(): every registered method whose bit is set (GET implies HEAD),
    then TRACE unless `TraceEnable Off` (tested per server)."""
    names = [name for name, number in _ALLOW_ORDER if mask & (1 << number)]
    if trace:
        names.append("TRACE")
    return ",".join(names)


def _title(status: int, status_line: Optional[str]) -> str:
    """httpd accepts a handler's status_line only if it starts with the status itself."""
    if status_line and status_line[:3] == str(status) and (
            len(status_line) == 3 or status_line[3].isspace()):
        reason = status_line[4:]
        if len(status_line) > 4 and not status_line[4].isalnum():
            return f"{status} {reason_phrase(status)}"
        return f"{status} {reason or 'Unknown Reason'}"
    if status not in STATUS_LINES:
        return f"500 {STATUS_LINES[500]}"
    return f"{status} {STATUS_LINES[status]}"


class Notes(Protocol):
    """The request's notes as the page reads them (a Table, or a dict in tests)."""

    def get(self, key: str) -> Optional[str]: ...


def error_body(status: int, method: str = "GET", location: str = "",
               status_line: Optional[str] = None,
               notes: Optional[Notes] = None,
               admin: str = "[no address given]", signature: str = "",
               recursive: int = 0) -> bytes:
    """The stock error page for `status`, as ap_send_error_response writes it;
    `signature` is ap_psignature's footer (ServerSignature, see `signature_footer`),
    `recursive` the status an ErrorDocument's own request ended with."""
    title = _title(status, status_line)
    text = _CANNED.get(status)
    if text is None:
        text = _SERVER_ERROR.replace("{admin}", admin)
    elif "{" in text:
        error_notes = (notes.get("error-notes") if notes is not None else None) or ""
        text = text.format(method=escape_html(method), location=escape_html(location),
                           notes=error_notes)
    if recursive:
        text += (f"<p>Additionally, a {_title(recursive, None)}\nerror was encountered while "
                 "trying to use an ErrorDocument to handle the request.</p>\n")
    page = (f"{DOCTYPE}<html><head>\n<title>{title}</title>\n</head><body>\n"
            f"<h1>{title[4:]}</h1>\n{text}{signature}</body></html>\n")
    return page.encode("iso-8859-1", "xmlcharrefreplace")


def signature_footer(mode: str, banner: str, server_name: str, port: int,
                     admin: str) -> str:
    """ap_psignature("<hr>\\n", r): the `ServerSignature On|EMail` footer ("" for Off)."""
    if mode not in ("on", "email"):
        return ""
    name = escape_html(server_name)
    if mode == "email":
        scheme = "" if _is_url(admin) else "mailto:"
        name = f'<a href="{scheme}{escape_html(admin)}">{name}</a>'
    return f"<hr>\n<address>{banner} Server at {name} Port {port}</address>\n"


def _is_url(text: str) -> bool:
    """ap_is_url: a scheme (letters, digits, + - .) followed by a colon."""
    scheme, colon, _ = text.partition(":")
    return bool(colon and scheme) and all(c.isalnum() or c in "+-." for c in scheme)
