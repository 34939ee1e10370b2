"""Apache's default handler: serve the mapped file, or answer why not.

Owns the decision for a request no Python handler produced: 404 for missing files, 403 for
directories and for anything whose real path leaves the document root, 405 for methods other
than GET/HEAD, and never the source of handler code (`.py`, bytecode, editor backups): those
are 404 so a DECLINED handler cannot leak itself.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from typing import TYPE_CHECKING

from mod_python import apache

if TYPE_CHECKING:
    from .request import Request

_SOURCE_SUFFIXES = (".py", ".pyc", ".pyo", ".psp", ".psp_", "~", ".swp", ".bak", ".orig")
_SMALL_FILE = 1 << 20

mimetypes.init()


def is_handler_source(filename: str) -> bool:
    name = os.path.basename(filename).lower().rstrip(".")
    return name.endswith(_SOURCE_SUFFIXES) or "/__pycache__/" in filename or name.startswith(".")


def content_type_for(filename: str, mime_types: dict[str, str]) -> str | None:
    """AddType entries first (any of the name's extensions, last wins), then mime.types."""
    extensions = os.path.basename(filename).lower().split(".")[1:]
    for ext in reversed(extensions):
        if ext in mime_types:
            return mime_types[ext]
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed


def serve(req: Request) -> int:
    """Send req.filename; returns OK or an HTTP status for the caller's error page."""
    filename = req.filename
    if filename is None:
        return apache.HTTP_NOT_FOUND
    if req.method not in ("GET", "HEAD"):
        req.allow_methods(("GET", "HEAD", "OPTIONS"))
        return apache.HTTP_METHOD_NOT_ALLOWED
    try:
        info = os.stat(filename)
    except (OSError, ValueError):
        return apache.HTTP_NOT_FOUND
    if req.path_info or is_handler_source(filename):
        return apache.HTTP_NOT_FOUND
    if not stat.S_ISREG(info.st_mode):
        return apache.HTTP_FORBIDDEN
    if not req._runtime.is_servable(req.document_root(), filename):
        return apache.HTTP_FORBIDDEN
    return _send(req, filename, info)


def _send(req: Request, filename: str, info: os.stat_result) -> int:
    if not req._content_type_set:
        content_type = content_type_for(filename, req._settings.mime_types if req._settings else {})
        if content_type is not None:
            req.content_type = content_type
    req.headers_out["Last-Modified"] = req._runtime.http_date(info.st_mtime)
    req.headers_out["Accept-Ranges"] = "bytes"
    try:
        req.sendfile(filename)
    except OSError:
        return apache.HTTP_FORBIDDEN
    return apache.OK
