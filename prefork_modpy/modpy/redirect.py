"""`req.internal_redirect(uri)`: the request that httpd's ap_internal_redirect builds.

Owns the new request's inheritance rules (http_request.c `internal_internal_redirect`): same
connection, method, protocol, `the_request`, request headers and `err_headers_out`; fresh
`headers_out` (keeping `Location` when the status is a redirect) and `notes`;
`subprocess_env` renamed `REDIRECT_*` plus `REDIRECT_STATUS`; `prev`/`next` linking the two.
From then on the original request's response forwards to the new one (a handler may still
write through `req.prev`), and it sends nothing of its own.
"""

from __future__ import annotations

from typing import Optional

from ..httpd import translate
from ..runtime.record import ForwardedResponse
from ..runtime.table import Table
from .request import Request, refuse_assignment

# httpd's LimitInternalRecursion default.
MAX_REDIRECTS = 10


class RedirectedRequest(Request):
    """A request created by an internal redirect: its URI is the redirect target."""

    _target = ""
    unparsed_uri = property(lambda self: self._target)
    # ap_die turns a local ErrorDocument's request into a GET
    _method: Optional[str] = None
    method = property(lambda self: self._method or self.raw.method)
    header_only = property(lambda self: int(self.method == "HEAD"))


RedirectedRequest.__name__ = RedirectedRequest.__qualname__ = "mp_request"
RedirectedRequest.__module__ = "builtins"  # "<class 'mp_request'>", as mod_python's C type
refuse_assignment(RedirectedRequest)


def depth(req: Request) -> int:
    count = 0
    while req.prev is not None:
        req, count = req.prev, count + 1
    return count


def new_request(req: Request, target: str, method: Optional[str] = None) -> Request:
    """The request for `target` (with `method` instead of the client's when given);
    raises translate.HTTPError for a target that cannot be mapped (the caller answers it
    with that status)."""
    path, args, _ = translate.split_target(target)
    uri = translate.decode_path(path)
    new = RedirectedRequest(req.raw, req.runtime, req.vhost, uri, args, req.hostname)
    new._target = target
    if method is not None and method != req.method and req.method != "HEAD":
        new._method = method
    new.prev, req.next = req, new
    new.use_tables(req.headers_in, req.err_headers_out, _renamed_env(req))
    new.status = req.status
    if 300 <= req.status < 400 and "Location" in req.headers_out:
        # As the table returns it (a list when there are several), as before the split.
        new.headers_out["Location"] = req.headers_out["Location"]  # type: ignore[assignment]
    new.no_cache, new.no_local_copy = req.no_cache, req.no_local_copy
    new.continue_body(req)
    req.response = ForwardedResponse(req.response, new)
    return new


def _renamed_env(req: Request) -> Table:
    """rename_original_env: every variable becomes REDIRECT_<name>."""
    pairs = [(f"REDIRECT_{key}", value) for key, value in req.subprocess_env.items()]
    pairs.append(("REDIRECT_STATUS", str(req.status)))
    return Table._from_pairs(pairs)
