"""mod_deflate's DEFLATE output filter: whether to compress a response, and its headers.

Owns deflate_out_filter's decision as httpd 2.4 makes it on the first output: not for an
empty response, a subrequest, a 204, `no-gzip` in the environment, a partial response
(`Content-Range`), a type other than text/html under `gzip-only-text/html=1`, or a body
already encoded (Content-Encoding other than identity/7bit/8bit/binary); then `Vary:
Accept-Encoding` in any case, and compression only when Accept-Encoding lists gzip without
q=0 (or `force-gzip` is set). Compressing sets Content-Encoding, drops Content-Length and
Content-MD5 and suffixes the ETag with "-gzip" (DeflateAlterETag AddSuffix); a 304 only
gets those headers. The bytes are compressed by the Rust engine (`_core.GzipStream`, zlib-rs
through flate2). `AddOutputFilterByType DEFLATE` matches the type without its parameters
(mod_filter). Must not send anything (httpd/outfilters.py does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from .. import _core
from .headers import merge_value

if TYPE_CHECKING:
    from ..config.directives import DirSettings
    from ..runtime.record import RequestRec
    from ..runtime.table import Table

# zlib's Z_DEFAULT_COMPRESSION, the level httpd uses without DeflateCompressionLevel.
DEFAULT_LEVEL = 6
_IDENTITY = frozenset({"identity", "7bit", "8bit", "binary"})


def by_type(req: RequestRec, settings: DirSettings) -> bool:
    """mod_filter's by-type match: the type up to ';', space or tab, exactly."""
    content_type = req.content_type
    if not content_type or not settings.deflate_types:
        return False
    end = len(content_type)
    for mark in ";\t ":
        cut = content_type.find(mark)
        if 0 <= cut < end:
            end = cut
    return content_type[:end].lower() in settings.deflate_types


# A whole response this small is not compressed: the gzip header, the trailer and 50 bytes
# "for Content-Encoding and Vary headers and ETag suffix" (deflate_out_filter).
SMALL = 10 + 8 + 50


def start(req: RequestRec, whole_size: Optional[int]) -> Optional[_core.GzipStream]:
    """The first output reached DEFLATE (`whole_size`: the body's size when this is all of
    it): a gzip stream to compress the body with, or None to pass it through (the headers
    are already changed as httpd changes them)."""
    if whole_size is not None and whole_size <= SMALL:
        return None
    if req.main is not None or req.status == 204:
        return None
    env = req.subprocess_env
    headers_out = req.headers_out
    if env.get("no-gzip") is not None or headers_out.get("Content-Range") is not None:
        return None
    content_type = req.content_type
    if (content_type is None or not content_type.startswith("text/html")) \
            and env.get("gzip-only-text/html") == "1":
        return None
    encoding = _encoding(req)
    if encoding and any(token not in _IDENTITY for token in _tokens(encoding)):  # strcmp
        return None
    add_vary(headers_out, "Accept-Encoding")
    if env.get("force-gzip") is None and not accepts_gzip(req.headers_in.get("Accept-Encoding")):
        return None
    if not encoding or encoding.lower() == "identity":
        headers_out["Content-Encoding"] = "gzip"
    else:
        merge_value(headers_out, "Content-Encoding", "gzip")
    for name in ("Content-Length", "Content-MD5"):
        if name in headers_out:
            del headers_out[name]
    _suffix_etag(req)
    if req.status == 304:
        return None
    settings = req.per_dir_config
    level = settings.deflate_level if settings is not None else None
    return _core.GzipStream(level or DEFAULT_LEVEL)


def _encoding(req: RequestRec) -> Optional[str]:
    """Content-Encoding from both tables, as deflate_out_filter joins them."""
    encoding = req.headers_out.get("Content-Encoding")
    err_encoding = req.err_headers_out.get("Content-Encoding")
    if encoding and err_encoding:
        return f"{encoding},{err_encoding}"
    return encoding or err_encoding


def _tokens(value: str) -> list[str]:
    return [token.strip() for token in value.split(",") if token.strip()]


def accepts_gzip(header: Optional[str]) -> bool:
    """deflate_out_filter's Accept-Encoding scan (ap_get_token): the first token that is
    gzip, and its q-value unless it is q=0, q=0., q=0.0 ... (literally)."""
    if header is None:
        return False
    text = header
    token, text = _get_token(text, False)
    while token and token.lower() != "gzip":
        while text.startswith(";"):
            _, text = _get_token(text[1:], True)
        if text.startswith(","):
            text = text[1:]
        token, text = _get_token(text, False) if text else ("", "")
    if not token:
        return False
    if text:
        text = text.lstrip(";")
        q, _ = _get_token(text, True)
        if len(q) >= 3 and "q=0.000".startswith(q):
            return False
    return True


def _get_token(text: str, accept_white: bool) -> tuple[str, str]:
    """ap_get_token: a token up to ';' or ',' (or a space unless `accept_white`), quoted
    strings kept whole; the rest with leading spaces skipped."""
    index, size = 0, len(text)
    while index < size and text[index].isspace():
        index += 1
    begin = index
    while index < size and (accept_white or not text[index].isspace()) \
            and text[index] not in ";,":
        if text[index] == '"':
            close = text.find('"', index + 1)
            index = size if close < 0 else close + 1
        else:
            index += 1
    token = text[begin:index]
    while index < size and text[index].isspace():
        index += 1
    return token, text[index:]


def add_vary(table: Table, item: str) -> None:
    """Vary gets `item`; then httpd's header filter (fixup_vary) keeps each field name
    once, joined by ","."""
    names: list[str] = []
    for value in [*table.getall("Vary", []), item]:
        for token in _tokens(value):
            if token.lower() not in {name.lower() for name in names}:
                names.append(token)
    table["Vary"] = ",".join(names)


def _suffix_etag(req: RequestRec) -> None:
    """deflate_check_etag with AddSuffix: "tag" becomes "tag-gzip"."""
    etag = req.headers_out.get("ETag")
    if etag and len(etag) > 2 and etag.endswith('"'):
        req.headers_out["ETag"] = etag[:-1] + '-gzip"'
