"""URI → filename translation (what Apache's core translate_name and directory walk do).

Owns decoding and normalising the request path once, mapping it under DocumentRoot, and
splitting the rest into `path_info` the way Apache does (the longest existing path wins).
Refuses traversal, NUL, encoded slashes and bad UTF-8 with a status, never a traceback.
"""

from __future__ import annotations

import os
import stat
from typing import Optional

_HEX = frozenset("0123456789abcdefABCDEF")


class HTTPError(Exception):
    """A request the translation refuses; `status` is the answer."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


def split_target(target: str) -> tuple[str, Optional[str], Optional[str]]:
    """origin-form or absolute-form target → (raw path, query or None, authority or None).
    The authority of an absolute-form target replaces Host (RFC 9112 §3.2.2)."""
    authority = None
    if not target.startswith("/"):
        if target == "*":
            return "*", None, None
        _, sep, rest = target.partition("://")
        if not sep:
            raise HTTPError(400, "bad request-target")
        end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
        authority, target = rest[:end], rest[end:]
        if not target.startswith("/"):
            target = "/" + target
    path, sep, query = target.partition("?")
    path = path.partition("#")[0]
    return path, (query if sep else None), authority


def host_name(host: Optional[str]) -> Optional[str]:
    """`Example.test:8080` → `example.test`; `[::1]:80` → `::1` (name-based vhosts and
    req.hostname use the name without the port)."""
    if not host:
        return None
    if host.startswith("["):
        return host[1:].partition("]")[0].lower()
    return host.partition(":")[0].lower()


def decode_path(raw: str) -> str:
    """Percent-decode exactly once and normalise: merge slashes, drop '.' segments,
    resolve '..' (403 if it would climb above the root)."""
    if "%" not in raw and "/." not in raw and "//" not in raw and "\x00" not in raw:
        return raw  # already normal: the common case costs four scans
    if "%" in raw:
        raw = _percent_decode(raw)
    if "\x00" in raw:
        raise HTTPError(400, "NUL in path")
    segments: list[str] = []
    for segment in raw.split("/")[1:]:
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise HTTPError(403, "path climbs above the document root")
            segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if raw.endswith(("/", "/.", "/..")) and segments else ""
    return "/" + "/".join(segments) + trailing


def _percent_decode(raw: str) -> str:
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        char = raw[i]
        if char != "%":
            out += char.encode("utf-8")
            i += 1
            continue
        pair = raw[i + 1:i + 3]
        if len(pair) != 2 or not set(pair) <= _HEX:
            raise HTTPError(400, "bad percent-encoding")
        byte = int(pair, 16)
        if byte == 0x2F:
            raise HTTPError(404, "encoded slash")  # Apache's AllowEncodedSlashes Off
        if byte == 0:
            raise HTTPError(400, "NUL in path")
        out.append(byte)
        i += 3
    try:
        return out.decode("utf-8")  # strict: overlong forms like %c0%ae are refused
    except UnicodeDecodeError:
        raise HTTPError(400, "path is not valid UTF-8") from None


def map_to_file(root: str, uri: str) -> tuple[str, str, bool]:
    """Apache's directory walk: (filename, path_info, filename is a directory). The longest
    existing prefix is the file and the rest, trailing slash included, is path_info; past
    an existing directory, the next component is the file even if it is missing."""
    base = root.rstrip("/")
    full = base + uri
    mode = _mode(full)
    if mode is not None:
        return full, "", stat.S_ISDIR(mode)
    parts = uri[1:].split("/")
    for cut in range(len(parts) - 1, -1, -1):
        prefix = base + "".join("/" + p for p in parts[:cut])
        mode = _mode(prefix)
        if mode is None:
            continue
        rest = parts[cut:]
        if stat.S_ISDIR(mode):
            path_info = "/" + "/".join(rest[1:]) if len(rest) > 1 else ""
            return prefix + "/" + rest[0], path_info, False
        return prefix, "/" + "/".join(rest), False
    return full, "", False


def _mode(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):
        return None
