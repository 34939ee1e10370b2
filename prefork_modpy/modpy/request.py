"""The `req` object handlers receive: mod_python's `mp_request`, plus `mp_conn`/`mp_server`.

Owns the request's attributes (built when first read from the engine's `RawRequest`), the
response state (status, headers, output buffer) and the body/response I/O that goes through
the engine. Headers freeze at the first `write()`, as the manual says; the bytes themselves
are buffered so a small response gets a Content-Length and goes out in one `writev`.
Must not know about processes or config files.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from mod_python import apache

from ..runtime.table import Table
from .reqapi import FROM_MIME as _FROM_MIME
from .reqapi import METHOD_NUMBERS, RequestAPI, refuse_assignment

if TYPE_CHECKING:
    from .._core import RawRequest
    from ..config.directives import DirSettings
    from ..config.server import VirtualHost
    from ..runtime.runtime import Runtime

# mod_python logs without a module name: its lines read `[:error] [pid N] ...`.
MODULE = ""

# Past this many buffered bytes the response starts streaming (chunked on HTTP/1.1).
STREAM_THRESHOLD = 64 * 1024


class mp_server:  # noqa: N801 - mod_python's type name, visible to handlers
    """The (virtual) server a request belongs to."""

    def __init__(self, vhost: VirtualHost, runtime: Runtime) -> None:
        self._vhost = vhost
        self._runtime = runtime
        limits = runtime.config.limits
        self.server_hostname = vhost.server_name
        self.names = tuple(a for a in vhost.aliases if "*" not in a and "?" not in a)
        self.wild_names = tuple(a for a in vhost.aliases if "*" in a or "?" in a)
        self.is_virtual = int(vhost.is_virtual)
        self.defn_name = vhost.file
        self.defn_line_number = vhost.line
        self.server_admin = "[no address given]"
        self.port = 0
        self.error_fname = runtime.config.error_log
        self.loglevel = runtime.error_log.level
        self.timeout = float(limits.timeout)
        self.keep_alive_timeout = float(limits.keepalive_timeout)
        self.keep_alive_max = limits.max_keepalive_requests
        self.keep_alive = int(limits.keepalive)
        self.limit_req_line = limits.request_line
        self.limit_req_fieldsize = limits.field_size
        self.limit_req_fields = limits.fields
        self.path = None
        self.pathlen = 0
        self._config = _config_table(vhost.settings.python_config)
        self._options = Table(vhost.settings.options)

    def get_config(self) -> Table:
        return self._config

    def get_options(self) -> Table:
        return _purge_empty(self._options)

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        self._runtime.error_log.log(message, level, MODULE)

    def register_cleanup(self, req: Any, callback: Callable, data: Any = None) -> None:
        self._runtime.register_child_cleanup(callback, data)


class mp_conn:  # noqa: N801 - mod_python's type name
    """The client connection a request arrived on."""

    def __init__(self, raw: RawRequest, server: mp_server) -> None:
        self.remote_addr = self.client_addr = raw.remote_addr
        self.remote_ip = self.client_ip = raw.remote_addr[0]
        self.local_addr = raw.local_addr
        self.local_ip = raw.local_addr[0]
        self.keepalives = raw.keepalive_count - 1  # httpd counts the requests before this
        self.base_server = server
        self.remote_host = None
        self.remote_logname = None
        self.local_host = None
        self.aborted = 0
        self.double_reverse = 0
        self.keepalive = apache.AP_CONN_UNKNOWN
        self.id = id(raw) & 0x7FFFFFFF
        self.notes = Table()

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        """ap_log_cerror: with the client's address, as a request's lines have."""
        ip, port = self.client_addr
        self.base_server._runtime.error_log.log(message, level, MODULE,
                                                client=f"{ip}:{port}")


class Request(RequestAPI):
    """mod_python's request object (RequestAPI holds the methods off the hot path)."""

    # Defaults live on the class: a request pays only for what it changes (hot path).
    filename: Optional[str] = None
    canonical_filename: Optional[str] = None
    path_info: Optional[str] = ""
    _status = 200
    status_line: Optional[str] = None
    handler: Optional[str] = None
    user: Optional[str] = None
    ap_auth_type: Optional[str] = None
    no_cache = 0
    no_local_copy = 0
    used_path_info = apache.AP_REQ_DEFAULT_PATH_INFO
    assbackwards = 0
    proxyreq = apache.PROXYREQ_NONE
    chunked = 0
    prev = next = main = None
    _settings: Optional[DirSettings] = None
    _body_error: Optional[BaseException] = None
    _is_dir = False
    _content_type: Any = _FROM_MIME  # mod_mime's type until a handler sets one
    _ct_set = 0  # read as req._content_type_set (read-only, as in mod_python)
    _headers_in: Optional[Table] = None
    _headers_out: Optional[Table] = None
    _err_headers_out: Optional[Table] = None
    _notes: Optional[Table] = None
    _subprocess_env: Optional[Table] = None
    _connection: Optional[mp_conn] = None
    _server: Optional[mp_server] = None
    _out_len = 0
    _frozen: Optional[tuple[int, Optional[str], list[tuple[str, str]]]] = None
    _streaming = False
    _bytes_queued = 0
    _read_length = 0
    _line_buffer = b""
    _cleanups: tuple = ()
    _dynamic_handlers: Optional[dict[str, list]] = None
    _running: Optional[list] = None

    def __init__(self, raw: RawRequest, runtime: Runtime, vhost: VirtualHost,
                 uri: str, args: Optional[str],
                 hostname: Optional[str] = None) -> None:
        self._raw = raw
        self._runtime = runtime
        self._vhost = vhost
        self.uri = uri
        self.args = args
        self._hostname = hostname or vhost.server_name
        self._out: list[bytes] = []

    # -- what the client sent -------------------------------------------------------------

    method = property(lambda self: self._raw.method)
    hostname = property(lambda self: self._hostname)
    unparsed_uri = property(lambda self: self._raw.target)
    protocol = property(lambda self: self._raw.protocol)
    proto_num = property(lambda self: self._raw.proto_num)
    the_request = property(lambda self: self._raw.the_request)
    request_time = property(lambda self: self._raw.request_time)
    header_only = property(lambda self: int(self._raw.method == "HEAD"))
    method_number = property(lambda self: METHOD_NUMBERS.get(self._raw.method, apache.M_INVALID))
    expecting_100 = property(lambda self: int(self._raw.expect_continue))
    read_chunked = property(lambda self: int(self._raw.chunked))
    read_length = property(lambda self: self._read_length)
    bytes_sent = property(lambda self: self._bytes_queued)
    sent_bodyct = property(lambda self: int(self._frozen is not None))
    range = property(lambda self: self._raw.header("Range"))

    @property
    def remaining(self) -> int:
        length = self._raw.content_length
        return max(0, length - self._read_length) if length is not None else 0

    @property
    def headers_in(self) -> Table:
        if self._headers_in is None:
            self._headers_in = Table._from_pairs(utf8_headers(self._raw.headers), merge=True)
        return self._headers_in

    @property
    def useragent_ip(self) -> str:
        return self._raw.remote_addr[0]

    @property
    def useragent_addr(self) -> tuple[str, int]:
        return self._raw.remote_addr

    @property
    def connection(self) -> mp_conn:
        if self._connection is None:
            self._connection = mp_conn(self._raw, self.server)
        return self._connection

    @property
    def server(self) -> mp_server:
        if self._server is None:
            self._server = self._runtime.server_object(self._vhost)
        return self._server

    # -- what the handler sends back ------------------------------------------------------

    @property
    def content_type(self) -> Optional[str]:
        if self._content_type is _FROM_MIME:
            self._content_type = self._mime_type()
        return self._content_type

    @content_type.setter
    def content_type(self, value: Optional[str]) -> None:
        self._content_type = value
        self._ct_set = 1

    @property
    def headers_out(self) -> Table:
        if self._headers_out is None:
            self._headers_out = Table()
        return self._headers_out

    @property
    def err_headers_out(self) -> Table:
        if self._err_headers_out is None:
            self._err_headers_out = Table()
        return self._err_headers_out

    @property
    def notes(self) -> Table:
        if self._notes is None:
            # mod_python's post-read-request hook always leaves this note behind.
            self._notes = Table._from_pairs([("python_init_ran", "1")])
        return self._notes

    @property
    def subprocess_env(self) -> Table:
        if self._subprocess_env is None:
            self._subprocess_env = Table()
        return self._subprocess_env

    def write(self, data: Any, flush: int = 1) -> None:
        """Queue body bytes. A flushing write (the default) freezes status and headers, as
        the manual says; `write(data, 0)` only buffers, so headers may still change and
        util.redirect() still works, as under httpd."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("Argument to write() must be a string or bytes")
        if flush and self._frozen is None:
            self._freeze_headers()
        if not data:
            return
        self._out.append(bytes(data))
        self._out_len += len(data)
        self._bytes_queued += len(data)
        if self._out_len >= STREAM_THRESHOLD:
            self._push(streaming=True)

    def flush(self) -> None:
        """Send what is buffered. The engine decides chunked vs close-delimited."""
        if self._frozen is None:
            self._freeze_headers()
        self._push(streaming=True)

    def set_content_length(self, length: int) -> None:
        self._clength = int(length)
        self.headers_out["Content-Length"] = str(self._clength)

    def send_http_header(self) -> None:
        """No-op kept for old handlers (mod_python 2.x API)."""

    def _freeze_headers(self) -> None:
        self._frozen = (self._status, self.status_line, self._response_headers())

    def _response_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        content_type = self._content_type
        if content_type is _FROM_MIME:
            content_type = self._mime_type()
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if self._headers_out is not None:
            items = self._headers_out.items()
            if content_type is not None:
                # httpd sends r->content_type, replacing a Content-Type in headers_out.
                items = [(k, v) for k, v in items if k.lower() != "content-type"]
            headers.extend(items)
        if self._err_headers_out is not None:
            headers.extend(self._err_headers_out.items())
        if self.no_cache:
            headers.append(("Expires", self._runtime.http_date(time.time())))
        return headers

    def _push(self, streaming: bool) -> None:
        body = b"".join(self._out)
        self._out.clear()
        self._out_len = 0
        if not self._streaming:
            if self._frozen is None:  # unflushed writes passed the threshold
                self._freeze_headers()
            status, line, headers = self._frozen  # type: ignore[misc]
            self._raw.send_response(status, _reason(line), headers, body, not streaming)
            self._streaming = streaming
            self.chunked = int(streaming and self._raw.proto_num >= 1001)
        elif body:
            self._raw.write(body)

    def _finish_response(self) -> None:
        """End of the content phase: send what is left as one complete response."""
        if self._frozen is None:
            self._freeze_headers()
        # A HEAD whose handler wrote nothing goes out without a Content-Length (Apache's).
        if self._streaming or (not self._bytes_queued and self._raw.method == "HEAD"):
            self._push(streaming=True)
        else:
            self._push(streaming=False)
        self._raw.finish()

    @property
    def _headers_sent(self) -> bool:
        return self._streaming or self._raw.headers_sent

    # -- request body ---------------------------------------------------------------------

    def read(self, length: int = -1) -> bytes:
        if length == 0:
            return b""
        data = b""
        if self._line_buffer:
            data, self._line_buffer = self._take_line_buffer(length)
            if length > 0:
                length -= len(data)
                if length == 0:
                    return data
        chunk = self._read_body(length if length > 0 else -1)
        return data + chunk

    def _read_body(self, size: int) -> bytes:
        """The engine's body read; a client failure is remembered so the dispatcher can
        tell it from the handler's own I/O errors."""
        try:
            chunk = self._raw.read_body(size)
        except OSError as exc:
            self._body_error = exc
            raise
        self._read_length += len(chunk)
        return chunk

    def _take_line_buffer(self, length: int) -> tuple[bytes, bytes]:
        if length < 0:
            return self._line_buffer, b""
        return self._line_buffer[:length], self._line_buffer[length:]

    def readline(self, length: int = -1) -> bytes:
        while b"\n" not in self._line_buffer and (length < 0 or len(self._line_buffer) < length):
            chunk = self._read_body(8192)
            if not chunk:
                break
            self._line_buffer += chunk
        end = self._line_buffer.find(b"\n") + 1 or len(self._line_buffer)
        if length >= 0:
            end = min(end, length)
        line, self._line_buffer = self._line_buffer[:end], self._line_buffer[end:]
        return line

    def readlines(self, sizehint: int = -1) -> list[bytes]:
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline(sizehint if lines and sizehint > 0 else -1)
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if 0 < sizehint <= total:
                return lines

    def discard_request_body(self) -> int:
        while self._read_body(65536):
            pass
        return apache.OK

    # -- configuration --------------------------------------------------------------------

    def get_config(self) -> Table:
        return _config_table(self._settings.python_config if self._settings else {})

    def get_options(self) -> Table:
        return _purge_empty(Table(self._settings.options if self._settings else {}))

    def document_root(self) -> str:
        return self._vhost.document_root

    def auth_type(self) -> Optional[str]:
        return self._settings.auth_type if self._settings else None

    def auth_name(self) -> Optional[str]:
        return self._settings.auth_name if self._settings else None

    # -- logging and misc -----------------------------------------------------------------

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        ip, port = self._raw.remote_addr
        self._runtime.error_log.log(message, level, MODULE, client=f"{ip}:{port}")

    def register_cleanup(self, callback: Callable, data: Any = None) -> None:
        if not callable(callback):
            raise ValueError("first argument must be a callable object")
        self._cleanups = (*self._cleanups, (callback, data))

    def get_remote_host(self, kind: int = apache.REMOTE_NAME, str_is_ip: Any = None) -> Any:
        host = None if kind == apache.REMOTE_HOST else self._raw.remote_addr[0]
        return host if str_is_ip is None else (host, int(host is not None))

    def is_https(self) -> int:
        return 0

    def ssl_var_lookup(self, name: str) -> None:
        return None

    def sendfile(self, path: str, offset: int = 0, length: int = -1) -> int:
        """The file's bytes (from `offset`, `length` of them or up to its end) join the body.
        A piece that fits the output buffer is buffered like write() (a small response
        keeps its Content-Length); a larger one streams through sendfile(2), with no copy
        through Python. Output filters see the bytes as written data."""
        try:
            os.stat(path)
        except OSError:
            raise OSError("Could not stat file for reading") from None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            raise OSError("Could not open file for reading") from None
        try:
            size = os.fstat(fd).st_size
            count = max(0, size - offset if length < 0 else min(length, size - offset))
            if count + self._out_len <= STREAM_THRESHOLD or getattr(
                    self, "_output_filters", None) is not None:
                return self._sendfile_copy(fd, offset, count)
            if self._frozen is None:
                self._freeze_headers()
            self._push(streaming=True)
            self._raw.send_file(fd, offset, count)
        finally:
            os.close(fd)
        self._bytes_queued += count
        return count

    def _sendfile_copy(self, fd: int, offset: int, count: int) -> int:
        sent = 0
        while sent < count:
            try:
                chunk = os.pread(fd, min(count - sent, 1 << 20), offset + sent)
            except OSError:
                raise OSError("Could not open file for reading") from None
            if not chunk:
                break
            self.write(chunk, 0)
            sent += len(chunk)
        return sent

    def add_handler(self, phase: str, handler: str, directory: Optional[str] = None) -> None:
        """Run `handler` later in this request: in the running list if `phase` is the
        current phase, else after the configured handlers of `phase`."""
        from ..config.directives import DEFAULT_OBJECT, HandlerEntry

        if phase not in DEFAULT_OBJECT or phase == "PythonCleanupHandler":
            raise IndexError(f"Invalid phase: {phase}")
        module, _, obj = handler.partition("::")
        if directory is not None:
            directory = os.path.join(os.path.abspath(directory), "")
        elif self.hlist is not None and not self.hlist.is_location:
            directory = self.hlist.directory
        entry = HandlerEntry(handler, module, obj or DEFAULT_OBJECT[phase], directory, False)
        if phase == self.phase and self._running is not None:
            self._running.append(entry)
        else:
            if self._dynamic_handlers is None:
                self._dynamic_handlers = {}
            self._dynamic_handlers.setdefault(phase, []).append(entry)


Request.__name__ = Request.__qualname__ = "mp_request"
refuse_assignment(Request)


def utf8_headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The engine decodes header bytes as Latin-1; mod_python 3.5 hands out UTF-8 str.
    Values that are not valid UTF-8 stay Latin-1 (mod_python raises SystemError)."""
    if "".join([value for _, value in pairs]).isascii():
        return pairs
    return [(name, _recode(value)) for name, value in pairs]


def _recode(value: str) -> str:
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _reason(status_line: Optional[str]) -> Optional[str]:
    if not status_line:
        return None
    return status_line.partition(" ")[2] or None


def _config_table(python_config: dict[str, str]) -> Table:
    return Table(python_config)


def _purge_empty(options: Table) -> Table:
    for key in [key for key, value in options.items() if value == ""]:
        del options[key]
    return options
