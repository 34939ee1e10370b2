"""`req.internal_redirect(uri)`: the request that httpd's ap_internal_redirect builds.

Owns the new request's inheritance rules (http_request.c `internal_internal_redirect`): same
connection, method, protocol, `the_request`, request headers and `err_headers_out`; fresh
`headers_out` (keeping `Location` when the status is a redirect) and `notes`;
`subprocess_env` renamed `REDIRECT_*` plus `REDIRECT_STATUS`; `prev`/`next` linking the two.
From then on the original request's output goes to the new one (a handler may still write
through `req.prev`), and it sends nothing of its own.
"""

from __future__ import annotations

from typing import Any

from ..httpd import translate
from ..runtime.table import Table
from .reqapi import refuse_assignment
from .request import Request

# httpd's LimitInternalRecursion default.
MAX_REDIRECTS = 10


class RedirectedRequest(Request):
    """A request created by an internal redirect: its URI is the redirect target."""

    _target = ""
    unparsed_uri = property(lambda self: self._target)


RedirectedRequest.__name__ = RedirectedRequest.__qualname__ = "mp_request"
refuse_assignment(RedirectedRequest)


def depth(req: Request) -> int:
    count = 0
    while req.prev is not None:
        req, count = req.prev, count + 1
    return count


def new_request(req: Request, target: str) -> Request:
    """The request for `target`; raises translate.HTTPError for a target that cannot be
    mapped (the caller answers it with that status)."""
    path, args, _ = translate.split_target(target)
    uri = translate.decode_path(path)
    new = RedirectedRequest(req._raw, req._runtime, req._vhost, uri, args, req._hostname)
    new._target = target
    new.prev, req.next = req, new
    new._headers_in = req.headers_in
    new._err_headers_out = req.err_headers_out
    new.status = req.status
    if 300 <= req.status < 400 and req._headers_out is not None \
            and "Location" in req._headers_out:
        new.headers_out["Location"] = req._headers_out["Location"]
    new._subprocess_env = _renamed_env(req)
    new.no_cache, new.no_local_copy = req.no_cache, req.no_local_copy
    new._read_length, new._line_buffer = req._read_length, req._line_buffer
    _forward_output(req, new)
    return new


def _renamed_env(req: Request) -> Table:
    """rename_original_env: every variable becomes REDIRECT_<name>."""
    pairs = [(f"REDIRECT_{key}", value) for key, value in req.subprocess_env.items()]
    pairs.append(("REDIRECT_STATUS", str(req.status)))
    return Table._from_pairs(pairs)


def _forward_output(old: Request, new: Request) -> None:
    """What the old request writes now belongs to the new response; the old one's own
    response is never sent (instance attributes shadow the methods)."""
    target: Any = old
    target.write = new.write
    target.flush = new.flush
    target._finish_response = _nothing


def _nothing() -> None:
    """The old request's response: already given by the new request."""
