"""`Options` without `FollowSymLinks`: httpd's symbolic-link check of the directory walk.

Owns the answer for a request whose mapped path passes through a symbolic link where the
options in effect do not allow it (`resolve_symlink` in httpd's request.c): 403 with
httpd's AH00037 line, unless `SymLinksIfOwnerMatch` is on and the link and its target
have the same owner. Only the components under the document root (or the Alias
directory) are checked, where the config's own sections set the options. Must not know
about mod_python's phases.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mod_python import apache

if TYPE_CHECKING:
    from ..runtime.record import RequestRec


def check(req: RequestRec, options: frozenset[str]) -> int:
    """OK, or 403 for the first forbidden link on the way to req.filename."""
    filename = req.filename
    if filename is None or "followsymlinks" in options:
        return apache.OK
    root = (req.alias_root or req.document_root()).rstrip("/")
    if not filename.startswith(root + "/"):
        return apache.OK
    owner_match = "symlinksifownermatch" in options
    path = root
    for part in filename[len(root) + 1:].split("/"):
        if not part:
            continue
        path = f"{path}/{part}"
        if not _allowed(path, owner_match):
            ip, port = req.raw.remote_addr
            req.runtime.error_log.log(
                f"AH00037: Symbolic link not allowed or link target not accessible: {path}",
                apache.APLOG_ERR, "core", client=f"{ip}:{port}")
            return apache.HTTP_FORBIDDEN
    return apache.OK


def _allowed(path: str, owner_match: bool) -> bool:
    try:
        link = os.lstat(path)
    except OSError:
        return True  # missing: the rest of the request answers 404
    if not os.path.islink(path):
        return True
    if not owner_match:
        return False
    try:
        return os.stat(path).st_uid == link.st_uid
    except OSError:
        return False
