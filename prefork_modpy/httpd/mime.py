"""mod_mime's type checker: Content-Type and Content-Encoding from a file name.

Owns httpd's `find_ct` walk: the name's first component is the base, every later
dot-separated extension is looked up in turn and the last one that knows a type wins
(`archive.tar.gz` → `application/gzip`, as with Debian's /etc/mime.types); `AddType` forces a
type, `AddEncoding` adds to Content-Encoding. A directory gets `httpd/unix-directory`.
Results are cached per effective settings and file name, so a request pays one dict lookup.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ..config.directives import DirSettings

DIR_MAGIC_TYPE = "httpd/unix-directory"

mimetypes.init()
# TypesConfig: extension (no dot, lower case) → type, from the system's mime.types.
_SYSTEM_TYPES = {ext[1:].lower(): kind for ext, kind in mimetypes.types_map.items()}
_CACHE_LIMIT = 4096


def extensions(filename: str) -> list[str]:
    """The extensions mod_mime walks: after the base name (leading dots belong to it)."""
    name = filename.rpartition("/")[2]
    stripped = name.lstrip(".")
    dot = stripped.find(".")
    if dot < 0:
        return []
    return [ext.lower() for ext in stripped[dot + 1:].split(".") if ext]


def find_type(filename: str, settings: Optional[DirSettings]) -> tuple[Optional[str],
                                                                        Optional[str]]:
    """(content type, content encoding) mod_mime gives `filename` under `settings`."""
    cache = settings.mime_cache if settings is not None else _NO_SETTINGS_CACHE
    key = filename.rpartition("/")[2]
    found = cache.get(key)
    if found is None:
        found = _find(key, settings)
        if len(cache) < _CACHE_LIMIT:
            cache[key] = found
    return found


_NO_SETTINGS_CACHE: dict = {}


def _find(name: str, settings: Optional[DirSettings]) -> tuple[Optional[str], Optional[str]]:
    forced = settings.mime_types if settings is not None else {}
    encodings = settings.encodings if settings is not None else {}
    kind: Optional[str] = None
    encoding: Optional[str] = None
    for ext in extensions(name):
        if ext in forced:
            kind = forced[ext]
        elif ext in _SYSTEM_TYPES:
            kind = _SYSTEM_TYPES[ext]
        if ext in encodings:
            encoding = encodings[ext] if encoding is None else f"{encoding}, {encodings[ext]}"
    return kind, encoding
