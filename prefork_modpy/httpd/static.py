"""Apache's default handler: serve the mapped file, or answer why not.

Owns the decision for a request no Python handler produced, as httpd's `default_handler`
makes it: GET/HEAD/POST send the file, OPTIONS lists the allowed methods, anything else is
405; validators (`Last-Modified`, `ETag`), conditional requests (304/412) and byte ranges
(206/416) follow conditional.py. Never serves the source of handler code (`.py`, bytecode,
editor backups where Python handlers are configured, and a handler module's files
anywhere): those are 404 so a DECLINED handler cannot leak itself, nor anything under a path
segment starting with a dot (`/.git/config`) unless `AllowDotSegments` names it, and nothing
whose real path leaves the document root (403).
"""

from __future__ import annotations

import os
import secrets
import stat
from typing import TYPE_CHECKING

from mod_python import apache

from . import autoindex, conditional, mime, servable
from .outfilters import HttpdOutput

if TYPE_CHECKING:
    from ..config.server import ServerConfig
    from ..runtime.record import RequestRec

_SOURCE_SUFFIXES = (".py", ".pyw", ".pyi", ".pyc", ".pyo", ".psp", ".psp_", "~", ".swp", ".bak",
                    ".orig")
# ap_allow_standard_methods(r, MERGE_ALLOW, M_GET, M_OPTIONS, M_POST): GET implies HEAD.
STANDARD_METHODS = (1 << apache.M_GET) | (1 << apache.M_OPTIONS) | (1 << apache.M_POST)
# What httpd's header filter removes from a 204 or 304 ("no content related headers").
_CONTENT_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding",
                              "content-encoding", "content-language"})


def is_handler_source(req: RequestRec, filename: str) -> bool:
    """Whether `filename` is handler code a DECLINED handler must not leak: a source,
    bytecode or editor-backup name where the settings have Python handlers (what they
    would load), or, wherever it lies, the file of a module a Python*Handler line names
    or this worker has loaded for a handler (and its bytecode and backups). The same
    names in a plain static directory are served, as Apache serves them. Dot-files stay
    refused everywhere."""
    name = os.path.basename(filename).lower().rstrip(".")
    if name.startswith("."):
        return True
    if not name.endswith(_SOURCE_SUFFIXES) and "/__pycache__/" not in filename:
        return False
    settings = req.per_dir_config
    if settings is not None and settings.has_python_handlers:
        return True
    stem = name.partition(".")[0]
    return (stem in handler_module_names(req.runtime.config)
            or req.runtime.modules.is_module_file(filename))


# (configuration, its handler module names): one configuration per worker at a time.
_module_names: list[tuple[ServerConfig, frozenset[str]]] = []


def handler_module_names(config: ServerConfig) -> frozenset[str]:
    """The last component of every module a Python*Handler line names, in any section of
    any host (lower case): `x.py` with such a stem is a handler's source wherever it lies,
    in every worker, loaded or not. Computed once per configuration."""
    if _module_names and _module_names[0][0] is config:
        return _module_names[0][1]
    names = frozenset(
        entry.module.rpartition(".")[2].lower()
        for host in (config.main, *config.vhosts)
        for settings in (host.settings, *(section.settings for section in host.sections))
        for entries in settings.handlers.values() for entry in entries)
    _module_names[:] = [(config, names)]
    return names


def serve(req: RequestRec) -> int:
    """Send req.filename; returns OK or an HTTP status for the caller's error page."""
    filename = req.filename
    if filename is None:
        return apache.HTTP_NOT_FOUND
    method = req.method
    if method not in ("GET", "HEAD", "POST"):
        req.allowed_mask |= STANDARD_METHODS
        return _options(req) if method == "OPTIONS" else apache.HTTP_METHOD_NOT_ALLOWED
    walked = req.walk_finfo
    if walked is not None and walked[0] == filename:
        info = walked[1]  # default_handler reads r->finfo: the walk's stat of this file
    else:
        try:
            info = os.stat(filename)
        except (OSError, ValueError):
            return apache.HTTP_NOT_FOUND
    if req.path_info:
        return apache.HTTP_NOT_FOUND
    root = req.alias_root or req.document_root()
    if (filename, root) not in _plain_names and _refused_name(req, filename, root):
        return apache.HTTP_NOT_FOUND
    if not stat.S_ISREG(info.st_mode):
        if not stat.S_ISDIR(info.st_mode) or not req.runtime.is_servable(root, filename):
            return apache.HTTP_FORBIDDEN
        return _directory(req, filename)
    # -- default_handler opens the file before it sets the validators or checks the
    # conditions: the open is also the inside-the-root check (servable.py) --
    fd = servable.open_inside(req.runtime, root, filename)
    if fd is None:
        return apache.HTTP_FORBIDDEN
    try:
        return _send(req, fd, info)
    finally:
        os.close(fd)


def _directory(req: RequestRec, filename: str) -> int:
    """A directory URL no index file stood in for. -- mod_autoindex -- under Options Indexes
    it is listed; otherwise mod_autoindex's 403 (AH01276), as httpd with Debian's default
    modules answers. An Apache config whose LoadModule lines leave mod_autoindex out gets
    httpd's default handler's 404 (AH00128) instead."""
    modules = req.runtime.config.loaded_modules
    if modules and "autoindex" not in modules:
        _log(req, f"AH00128: Attempt to serve directory: {filename}")
        return apache.HTTP_NOT_FOUND
    settings = req.per_dir_config
    if settings is not None and "indexes" in settings.effective_options and req.uri.endswith("/"):
        return autoindex.serve(req, settings.autoindex)
    _log(req, f"AH01276: Cannot serve directory {filename}: No matching DirectoryIndex found, "
              "and server-generated directory index forbidden by Options directive")
    return apache.HTTP_FORBIDDEN


def _log(req: RequestRec, message: str) -> None:
    ip, port = req.raw.remote_addr
    req.runtime.error_log.log(message, apache.APLOG_ERR, "core", client=f"{ip}:{port}")


# (file name, root) pairs whose names alone pass _refused_name: no dot-file, no source,
# bytecode or backup suffix, no dot segment below the root. A pure function of the two
# strings, so the answer is remembered (bounded: emptied when full).
_PLAIN_NAMES_LIMIT = 4096
_plain_names: set[tuple[str, str]] = set()


def _refused_name(req: RequestRec, filename: str, root: str) -> bool:
    """Handler source (is_handler_source) or below a dot segment: 404 whatever the file."""
    if is_handler_source(req, filename) or _under_dot_segment(req, filename, root):
        return True
    name = filename.rpartition("/")[2].lower().rstrip(".")
    if not name.endswith(_SOURCE_SUFFIXES) and "/__pycache__/" not in filename \
            and "/." not in _below(filename, root):
        if len(_plain_names) >= _PLAIN_NAMES_LIMIT:
            _plain_names.clear()
        _plain_names.add((filename, root))
    return False


def _below(filename: str, root: str) -> str:
    """The part of `filename` below `root` (all of it when it is not below)."""
    root = root.rstrip("/")
    return filename[len(root):] if filename.startswith(root + "/") else filename


def _under_dot_segment(req: RequestRec, filename: str, root: str) -> bool:
    """A segment below the document (or Alias) root starts with a dot (`/.git/config`,
    `/app/.env/x`) and is not named by `AllowDotSegments`: never served, whatever the file."""
    relative = _below(filename, root)
    if "/." not in relative:
        return False
    allowed = req.runtime.config.allowed_dot_segments
    return any(segment.startswith(".") and segment not in allowed
               for segment in relative.split("/"))


def _options(req: RequestRec) -> int:
    """ap_send_http_options: 200, `Allow`, no body."""
    from .errorpages import make_allow

    _set_type(req, req.filename or "")
    req.headers_out["Allow"] = make_allow(req.allowed_mask,
                                          req.runtime.config.trace_enable != "off")
    req.headers_out["Content-Length"] = "0"
    return apache.OK


def _set_type(req: RequestRec, filename: str) -> None:
    if not req.content_type_set:
        kind, encoding, _ = mime.find_type(filename, req.per_dir_config)
        if kind is not None:
            req.content_type = kind
        if encoding is not None:
            req.headers_out["Content-Encoding"] = encoding


def _send(req: RequestRec, fd: int, info: os.stat_result) -> int:
    """The file open as `fd` (stat'ed as `info` by its name just before, as httpd's
    directory walk fills r->finfo) with its validators, conditions and ranges."""
    _set_type(req, req.filename or "")
    req.update_mtime(info.st_mtime)
    etag, last_modified = conditional.file_validators(req, info)
    headers = req.headers_out
    headers["Last-Modified"] = last_modified  # ap_set_last_modified, then ap_set_etag
    headers["ETag"] = etag
    headers["Accept-Ranges"] = "bytes"
    status = conditional.meets_conditions(req)
    if status != apache.OK:
        return send_without_body(req, status)
    ranges = conditional.byte_ranges(req, info.st_size)
    if ranges and _body_filtered(req):
        return _send_filtered_ranges(req, fd)
    if ranges == []:
        return apache.HTTP_RANGE_NOT_SATISFIABLE
    if req.header_only and not ranges and not _body_filtered(req):
        req.headers_out["Content-Length"] = str(info.st_size)
        return apache.OK
    if ranges:
        _send_ranges(req, fd, info.st_size, ranges)
    else:
        _send_whole_file(req, fd, info)
    return apache.OK


def _send_whole_file(req: RequestRec, fd: int, info: os.stat_result) -> None:
    """The file is the whole response: a Content-Length and sendfile(2), the bytes never
    pass through Python. Through the output buffer when something was written already or
    output filters must see the bytes. A failure to send is the client's (OSError)."""
    size = info.st_size
    response = req.response
    sink = response.sink
    if sink is None and response.head is None:  # nothing written, no output filter
        response.send_whole_file(req, fd, size)
        response.whole_file = info
        return
    # -- mod_headers / mod_expires: they change only the head, sendfile(2) still serves --
    head_only = isinstance(sink, HttpdOutput) and not sink.may_change_body
    if req.header_only and _body_filtered(req) and response.head is None:
        # -- mod_deflate -- HEAD: the file as one batch, so that the compressed length is
        # known and sent (httpd's content-length filter sees the whole brigade)
        body = os.pread(fd, size, 0)
        response.parts.append(body)
        response.buffered += len(body)
        response.bytes_queued += len(body)
        return
    if response.head is not None or (sink is not None and not head_only):
        req.copy_file(fd, 0, size)
        return
    if isinstance(sink, HttpdOutput):
        sink.started = True
        sink.start(req, response, size)
    response.send_whole_file(req, fd, size)


def _body_filtered(req: RequestRec) -> bool:
    """Whether DEFLATE may compress the body: then a HEAD's length is the compressed one,
    and the file goes through the filter as httpd's default handler sends it for HEAD."""
    sink = req.response.sink
    return isinstance(sink, HttpdOutput) and sink.may_change_body


def send_without_body(req: RequestRec, status: int) -> int:
    """A status without a body (304, 204, 412); 204 and 304 also lose the
    content-related headers."""
    headers = req.response_head()[2]
    if status in (204, 304):
        headers = [(name, value) for name, value in headers
                   if name.lower() not in _CONTENT_HEADERS]
    req.status = status
    req.response.head = (status, None, headers)
    return apache.OK


def _send_filtered_ranges(req: RequestRec, fd: int) -> int:
    """-- mod_deflate -- httpd's DEFLATE runs before its byte-range filter: the ranges are
    cut from the compressed body (which exists only in memory), and Content-Range counts
    compressed bytes."""
    try:
        body = _read_all(fd)
    except OSError:
        return apache.HTTP_FORBIDDEN
    response = req.response
    sink = response.sink
    assert isinstance(sink, HttpdOutput)
    sink.started = True
    sink.start(req, response, len(body))
    response.head = None  # taken again once the range headers are set
    if sink.gzip is not None:
        body, sink.gzip = sink.gzip.finish(body), None
    ranges = conditional.byte_ranges(req, len(body))
    if not ranges:
        if ranges == []:
            return apache.HTTP_RANGE_NOT_SATISFIABLE
        _write_or_length(req, body)
        return apache.OK
    pieces, trailer = _range_layout(req, len(body), ranges)
    _write_or_length(req, b"".join(prefix + body[start:start + count]
                                   for prefix, start, count in pieces) + trailer)
    return apache.OK


def _read_all(fd: int) -> bytes:
    """The whole file behind `fd`, to its current end."""
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _write_or_length(req: RequestRec, body: bytes) -> None:
    if req.header_only:
        req.headers_out["Content-Length"] = str(len(body))
    else:
        req.write(body, 0)


def _send_ranges(req: RequestRec, fd: int, size: int, ranges: list[tuple[int, int]]) -> None:
    """206 (httpd's byterange filter) of a file: the bytes go out with sendfile(2), part by
    part, never whole in memory; a HEAD gets the length the GET would have, without
    reading."""
    pieces, trailer = _range_layout(req, size, ranges)
    if req.header_only:
        length = sum(len(prefix) + count for prefix, _, count in pieces) + len(trailer)
        req.headers_out["Content-Length"] = str(length)
        return
    _send_pieces(req, fd, pieces, trailer)


def _range_layout(req: RequestRec, size: int, ranges: list[tuple[int, int]]
                  ) -> tuple[list[tuple[bytes, int, int]], bytes]:
    """206's head and body layout: one range with Content-Range, several as
    multipart/byteranges. The body is `(prefix, start, count)` pieces and a trailer."""
    req.status = apache.HTTP_PARTIAL_CONTENT
    if len(ranges) == 1:
        start, end = ranges[0]
        req.headers_out["Content-Range"] = f"bytes {start}-{end}/{size}"
        return [(b"", start, end - start + 1)], b""
    boundary = secrets.token_hex(8)
    original = req.content_type
    head = f"\r\n--{boundary}\r\n"
    if original:
        head += f"Content-type: {original}\r\n"
    pieces = [(f"{head}Content-range: bytes {start}-{end}/{size}\r\n\r\n".encode(),
               start, end - start + 1) for start, end in ranges]
    req.content_type = f"multipart/byteranges; boundary={boundary}"
    return pieces, f"\r\n--{boundary}--\r\n".encode()


def _send_pieces(req: RequestRec, fd: int, pieces: list[tuple[bytes, int, int]],
                 trailer: bytes) -> None:
    response = req.response
    if len(pieces) == 1 and response.head is None and response.sink is None:
        _, start, count = pieces[0]
        response.send_whole_file(req, fd, count, start)
        return
    for prefix, start, count in pieces:
        if prefix:
            req.write(prefix, 0)
        req.file_piece(fd, start, count)
    if trailer:
        req.write(trailer, 0)
