"""Where issue 10's httpd modules hook into the request walk (dispatch.py calls these).

Owns the order httpd gives them around mod_python's phases, which for hooks of the same
priority is Debian's module load order (env before python, setenvif after it):
mod_setenvif at post-read-request (server lines, after PythonPostReadRequestHandler) and
header-parser (section lines, after PythonHeaderParserHandler); mod_alias's redirects and
AliasMatch at translate-name, its section redirects at fixups, then mod_env, before
PythonFixupHandler; core's LimitRequestBody per directory and mod_dir's FallbackResource
after the fixups; core's ErrorDocument when a request ends in an error (ap_die). The
modules themselves live in httpd/ (envvars, redirects, errordoc) and config/httpdmods.py.
Must not run Python handlers.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from ..config.directives import PYTHON_HANDLER_NAMES
from ..httpd import envvars, errordoc, redirects, translate
from . import redirect

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..config.httpdmods import HttpdMods
    from .request import Request

OK, DONE = apache.OK, apache.DONE

# The dispatcher's internal redirect (ap_internal_redirect) and its serving of a new request.
Redirect = Callable[["Request", str], None]
Serve = Callable[["Request"], None]


def post_read_request(req: Request, server: HttpdMods) -> None:
    """mod_setenvif's post-read-request hook: the server and virtual host lines."""
    if server.setenvif:
        envvars.apply_conditions(req, server.setenvif)


def translate_name(req: Request, server: Optional[HttpdMods]) -> Optional[int]:
    """mod_alias's translate_alias_redir: the server's redirects, then `Alias`, then
    `AliasMatch` (httpd keeps the two in one list in config order). None: no rule applies
    and the next translate hook (PythonTransHandler, then the document root) decides."""
    if server is not None and server.redirects:
        status = redirects.redirect(req, server.redirects)
        if status is not None:
            return status
    aliased = req.vhost.map_alias(req.uri) if req.vhost.url_aliases else None
    if aliased is not None:
        root, uri = aliased
        req.alias_root = root
    else:
        mapped = redirects.alias_match(server.alias_matches, req.uri) \
            if server is not None and server.alias_matches else None
        if mapped is None:
            return None
        target, req.alias_root = mapped
        root, uri = "", target
    req.filename, req.path_info, req.is_dir = translate.map_to_file(root, uri)
    req.canonical_filename = req.filename
    if not req.path_info and req.prev is not None:
        # ap_internal_redirect's request starts zeroed: no extra path leaves it NULL
        req.path_info = None
    return OK


def header_parser(req: Request, mods: HttpdMods) -> None:
    """mod_setenvif's header-parser hook: the lines the sections added."""
    if mods.setenvif:
        envvars.apply_conditions(req, _section_only(mods.setenvif, req, "setenvif"))


def fixups(req: Request, mods: HttpdMods) -> int:
    """mod_alias's fixup_redir (section redirects), then mod_env's fixup."""
    if mods.redirects:
        status = redirects.redirect(req, _section_only(mods.redirects, req, "redirects"))
        if status is not None:
            return status
    envvars.fixup_env(req, mods)
    return OK


def after_fixups(req: Request, mods: HttpdMods, settings: DirSettings,
                 internal_redirect: Redirect) -> int:
    """LimitRequestBody of this directory, then FallbackResource."""
    if mods.limit_request_body:
        result = _body_within(req, mods.limit_request_body, settings)
        if result != OK:
            return result
    if mods.fallback_resource:
        return _fallback(req, mods.fallback_resource, internal_redirect)
    return OK


def _section_only(items: tuple, req: Request, name: str) -> tuple:
    """The part of a merged tuple the sections added: the server's own lines ran in an
    earlier phase (post-read-request, translate-name)."""
    server = req.vhost.settings.httpd
    own = len(getattr(server, name)) if server is not None else 0
    if name == "setenvif":  # merge_setenvif_config: parent's lines first
        return items[own:]
    return items[:len(items) - own]  # merge_alias_dir_config: child's lines first


def _body_within(req: Request, limit: int, settings: DirSettings) -> int:
    """core's LimitRequestBody of this directory against the declared Content-Length (a
    chunked body is bounded by the engine's limit). httpd checks it when the body is read:
    the default handler discards it first (413); a mod_python handler's req.read() fails
    with mod_python's "Client read error" (500 unless caught), and a handler that does not
    read the body is not affected."""
    length = req.headers_in.get("Content-Length")
    if length is None or not length.isdigit() or int(length) <= limit:
        return OK
    req.log_error(f"Requested content-length of {length} is larger than the configured "
                  f"limit of {limit}")
    if req.handler in PYTHON_HANDLER_NAMES and req.input_chain is None \
            and not settings.filtered:
        req.input_chain = _BodyOverLimit()
        return OK
    return apache.HTTP_REQUEST_ENTITY_TOO_LARGE


class _BodyOverLimit:
    """The body a handler reads when it exceeds LimitRequestBody: ap_get_client_block
    fails, and mod_python's req.read() raises IOError."""

    def read(self, rec: Any, size: int) -> bytes:
        raise OSError("Client read error (Timeout?)")


def _fallback(req: Request, target: str, internal_redirect: Redirect) -> int:
    """mod_dir's fixup_dflt: no handler and no file: serve FallbackResource (when it maps
    to a regular file) in place of the missing one."""
    if req.handler is not None or req.filename is None or req.is_dir \
            or os.path.lexists(req.filename):
        return OK
    vhost = req.vhost
    root, uri = vhost.map_alias(target) or (vhost.document_root, target)
    filename, path_info, is_dir = translate.map_to_file(root, uri)
    if is_dir or path_info or not os.path.isfile(filename):
        return OK
    internal_redirect(req, target + (f"?{req.args}" if req.args else ""))
    return DONE


def error_document(req: Request, status: int, serve: Serve) -> bool:
    """ap_die's ErrorDocument for `status`; False when none applies (the stock page then)."""
    if req.error_document_of is not None:  # the ErrorDocument's own request failed
        errordoc.send_error(req, req.error_document_of, recursive=status)
        return True
    mods = req.per_dir_config.httpd if req.per_dir_config is not None else None
    document = mods.error_documents.get(status) if mods is not None else None
    if document is None or req.response.head is not None:
        return False
    kind, value = document
    if kind == "text":
        errordoc.send_error(req, status, custom_text=value)
    elif kind == "remote":  # the client sees 302, not the error (as httpd warns)
        req.headers_out["Location"] = value
        errordoc.send_error(req, apache.HTTP_MOVED_TEMPORARILY)
    elif kind == "local":
        _local_document(req, status, value, serve)
    else:  # ErrorDocument code default
        return False
    return True


def _local_document(req: Request, status: int, target: str, serve: Serve) -> None:
    """ap_die's local ErrorDocument: an internal redirect, as GET, that keeps the error
    status (REDIRECT_STATUS, REDIRECT_REQUEST_METHOD, REDIRECT_ERROR_NOTES)."""
    req.status = status
    req.no_local_copy = 1
    req.subprocess_env["REQUEST_METHOD"] = req.method
    notes = req.notes.get("error-notes")
    if notes is not None:
        req.subprocess_env["ERROR_NOTES"] = notes
    try:
        new = redirect.new_request(req, target, method="GET")
    except translate.HTTPError:
        errordoc.send_error(req, status, recursive=apache.HTTP_BAD_REQUEST)
        return
    new.error_document_of = status
    serve(new)
