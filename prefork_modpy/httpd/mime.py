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
# TypesConfig: extension (no dot, lower case) → type, from the system's mime.types (through
# Python's mimetypes) until `use_types_config` reads the file the config names.
_SYSTEM_TYPES = {ext[1:].lower(): kind for ext, kind in mimetypes.types_map.items()}
_CACHE_LIMIT = 4096


def read_types_config(path: str) -> dict[str, str]:
    """mod_mime's mime_post_config: `type ext ext ...` lines, `#` comments; an extension
    listed again takes the later type."""
    table: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            words = line.partition("#")[0].split()
            for ext in words[1:]:
                table[ext.lower()] = words[0].lower()
    return table


def use_types_config(path: str) -> None:
    """TypesConfig: this file's table replaces the system one (before any request)."""
    global _SYSTEM_TYPES
    _SYSTEM_TYPES = read_types_config(path)


def extensions(filename: str) -> list[str]:
    """The extensions mod_mime walks: after the base name (leading dots belong to it)."""
    name = filename.rpartition("/")[2]
    stripped = name.lstrip(".")
    dot = stripped.find(".")
    if dot < 0:
        return []
    return [ext.lower() for ext in stripped[dot + 1:].split(".") if ext]


def find_type(filename: str, settings: Optional[DirSettings]) -> tuple[
        Optional[str], Optional[str], Optional[str]]:
    """(content type with AddCharset's charset, content encoding, Content-Language) mod_mime
    gives `filename` under `settings`."""
    cache = settings.mime_cache if settings is not None else _NO_SETTINGS_CACHE
    key = filename.rpartition("/")[2]
    found = cache.get(key)
    if found is None:
        found = _find(key, settings)
        if len(cache) < _CACHE_LIMIT:
            cache[key] = found
    return found


_NO_SETTINGS_CACHE: dict = {}


def _find(name: str, settings: Optional[DirSettings]) -> tuple[
        Optional[str], Optional[str], Optional[str]]:
    forced = settings.mime_types if settings is not None else {}
    encodings = settings.encodings if settings is not None else {}
    charsets = settings.charsets if settings is not None else {}
    languages_of = settings.languages if settings is not None else {}
    kind: Optional[str] = None
    encoding: Optional[str] = None
    charset: Optional[str] = None
    languages: list[str] = []
    for ext in extensions(name):
        if ext in forced:
            kind = forced[ext]
        elif ext in _SYSTEM_TYPES:
            kind = _SYSTEM_TYPES[ext]
        if ext in encodings:
            encoding = encodings[ext] if encoding is None else f"{encoding}, {encodings[ext]}"
        # -- AddCharset / AddLanguage (find_ct: the last charset wins, languages add up) --
        charset = charsets.get(ext, charset)
        if ext in languages_of:
            languages.append(languages_of[ext])
    if charset is not None and kind is not None:
        kind = with_charset(kind, charset)
    # The header filter joins r->content_languages with a bare comma.
    return kind, encoding, ",".join(languages) or None


def with_charset(kind: str, charset: str) -> str:
    """find_ct: the type's own charset parameter is replaced in place, else appended."""
    base, *params = [param.strip() for param in kind.split(";")]
    out, replaced = [base], False
    for param in filter(None, params):
        if param.partition("=")[0].strip().lower() == "charset":
            if not replaced:
                out.append(f"charset={charset}")
            replaced = True
        else:
            out.append(param)
    if not replaced:
        out.append(f"charset={charset}")
    return "; ".join(out)
