"""The request record and its response: what one request is made of, below mod_python's API.

Owns `RequestRec`, httpd's request_rec as mod_python shows it: the request line and headers
read from the engine's `RawRequest` when first asked for, the URI mapping, the tables, the
notes and the body reads. And `Response`: the head once frozen, the output buffer, streaming,
byte counts, sendfile and finishing. A response writes each batch through its output sink:
None is the engine itself, an output filter chain puts its own sink in front of it. Headers
freeze at the first flushing write, as the manual says; that write's bytes are held until the
next write or flush or the end (so a one-write response gets a Content-Length and goes out in
one `writev`), later flushing writes go out at once. Streamed batches and engine transfers
are reported to `Runtime.progress` (the watchdog's view). Must not know about phases,
handlers or filters (the layer above uses the hooks here), processes or config files.
"""

from __future__ import annotations

import operator
import os
import re
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Optional, Protocol

from mod_python import apache

from .objects import mp_conn, mp_server
from .table import Table

if TYPE_CHECKING:
    from .._core import RawRequest
    from ..config.directives import DirSettings
    from ..config.server import VirtualHost
    from .runtime import Runtime

# Past this many buffered bytes the response starts streaming (chunked on HTTP/1.1).
STREAM_THRESHOLD = 64 * 1024

# httpd's method registry (ap_method_number_of): names → M_* numbers; HEAD counts as GET.
METHOD_NUMBERS = {
    "GET": 0, "HEAD": 0, "PUT": 1, "POST": 2, "DELETE": 3, "CONNECT": 4, "OPTIONS": 5,
    "TRACE": 6, "PATCH": 7, "PROPFIND": 8, "PROPPATCH": 9, "MKCOL": 10, "COPY": 11,
    "MOVE": 12, "LOCK": 13, "UNLOCK": 14, "VERSION-CONTROL": 15, "CHECKOUT": 16,
    "UNCHECKOUT": 17, "CHECKIN": 18, "UPDATE": 19, "LABEL": 20, "REPORT": 21,
    "MKWORKSPACE": 22, "MKACTIVITY": 23, "BASELINE-CONTROL": 24, "MERGE": 25,
}

# The content type before anyone set one: the type checker's answer for the file (computed
# when first needed, so handlers that set their own type never pay for the lookup).
FROM_MIME: Any = object()

# (status, status_line, headers): what goes on the wire once the head is frozen.
Head = tuple[int, Optional[str], list[tuple[str, str]]]


class OutputSink(Protocol):
    """Where a response's batches go instead of straight to the engine (output filters)."""

    def push(self, rec: RequestRec, response: Response, streaming: bool) -> None:
        """Take `response`'s buffer and pass it on; `response.send` reaches the engine."""

    def finish(self, rec: RequestRec, response: Response) -> None:
        """The end of the response: the last batch, then `response.raw.finish()`."""


class InputChain(Protocol):
    """What the handler's body reads go through instead of the engine (input filters)."""

    def read(self, rec: RequestRec, size: int) -> bytes:
        """Up to `size` bytes of the body (-1: all); `rec.read_unfiltered` reads the engine."""


class ResponseHeadError(ValueError):
    """A head the engine refused to send (a header with CR, LF, NUL or another control
    character, a 1xx or out-of-range status): logged once, the handler's tables cleared,
    and the request is answered 500 (httpd's check_headers in ap_http_header_filter)."""


# field-name is a token, field-value has no control characters but HTAB (as the engine's
# response::valid_field_name / valid_field_value).
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def head_fault(head: Head) -> Optional[str]:
    """Why the engine refuses `head`, in httpd's words, or None."""
    status, _, headers = head
    if not 200 <= status <= 999:
        return f"handler set status {status}, which cannot be a final response"
    for name, value in headers:
        if not _FIELD_NAME.fullmatch(name):
            return f"Response header name {name!r} contains invalid characters"
        if _BAD_FIELD_VALUE.search(value):
            return (f"Response header {name!r} value of {value!r} contains invalid "
                    "characters")
    return None


class Response:
    """The answer to one request (gunicorn's Response, uvicorn's RequestResponseCycle)."""

    __slots__ = ("raw", "sink", "head", "parts", "buffered", "streaming", "bytes_queued",
                 "headers_final", "finished", "flush_held", "client_error", "declared_whole",
                 "whole_file")

    def __init__(self, raw: RawRequest) -> None:
        self.raw = raw
        self.sink: Optional[OutputSink] = None
        self.head: Optional[Head] = None  # frozen status, status line and headers
        self.parts: list[bytes] = []  # buffered body bytes, not yet given to the sink
        self.buffered = 0
        self.streaming = False  # the head went out and more body may follow
        self.bytes_queued = 0  # body bytes written (req.bytes_sent)
        self.headers_final = False  # an error document's head: filters may not change it
        self.finished = False
        # The first flushing write's bytes, held until the next write or flush or the end
        # of the handler (then a lone write is one response with its Content-Length).
        self.flush_held = False
        # The engine's failure to send a streamed batch (the client went away or stalled):
        # the dispatcher tells it from the handler's own errors, as RequestRec.body_error.
        self.client_error: Optional[BaseException] = None
        # The first flushed batch was the whole body the head declares: it went out as the
        # complete response, and nothing may follow it.
        self.declared_whole = False
        # The default handler sent a file whole, as it alone was the response: its stat
        # (httpd.staticplan may let the engine answer the next ones).
        self.whole_file: Optional[os.stat_result] = None

    @property
    def headers_sent(self) -> bool:
        return self.streaming or self.raw.headers_sent

    def freeze(self, rec: RequestRec) -> Head:
        """The head as `rec` says it now, unless it is frozen already."""
        head = self.head
        if head is None:
            head = self.head = rec.response_head()
        return head

    def write(self, rec: RequestRec, data: bytes, flush: Any) -> None:
        """Buffer body bytes; a flushing write freezes the head first and is sent at once
        (mod_python's req.write flushes by default), except the response's first: it is
        held until the next write or flush, or the handler's return, so a handler that
        writes once still sends one response with a Content-Length (what httpd's
        content-length filter gives a body that ends in its first brigade)."""
        if flush and self.head is None:
            self.head = rec.response_head()
        if data and self.declared_whole:
            raise self.past_declared_length(f"{len(data)} more bytes dropped")
        if data:
            self.parts.append(data)
            size = len(data)
            self.buffered += size
            self.bytes_queued += size
        if flush:
            if self.streaming or self.flush_held:
                self.flush_held = False
                self.push_flushed(rec)
                return
            self.flush_held = bool(data)
        if self.buffered >= STREAM_THRESHOLD:
            self.push(rec, streaming=True)

    def flush(self, rec: RequestRec) -> None:
        """Send what is buffered (a held first write too). The engine decides the framing:
        the handler's Content-Length, else chunked or close-delimited."""
        self.freeze(rec)
        self.flush_held = False
        self.push_flushed(rec)

    def push_flushed(self, rec: RequestRec) -> None:
        """Send a flushed batch now. When nothing went out yet and the batch is the whole
        body the head declares (a WSGI application's single block with its Content-Length),
        it is the complete response: one bounded write, as the end of the handler would
        send it, and the same bytes on the wire as streaming them. Else it is streamed."""
        if (not self.streaming and self.sink is None and self.buffered
                and self.raw.method != "HEAD"
                and declared_length(self.head) == self.buffered):
            self._send(rec, self.take(), False)
            self.streaming = True  # complete: finishing sends nothing more
            self.declared_whole = True
            return
        self.push(rec, streaming=True)

    def past_declared_length(self, what_happened: str) -> ValueError:
        """The error for body bytes after a response that went out complete (push_flushed)."""
        return ValueError(f"response body longer than its Content-Length ({self.bytes_queued}):"
                          f" the response went out complete, {what_happened}")

    def take(self) -> bytes:
        """Empty the buffer and return what it held."""
        body = b"".join(self.parts)
        self.parts.clear()
        self.buffered = 0
        return body

    def push(self, rec: RequestRec, streaming: bool) -> None:
        sink = self.sink
        if sink is not None:
            sink.push(rec, self, streaming)
        else:
            self.send(rec, self.take(), streaming)

    def send(self, rec: RequestRec, body: bytes, streaming: bool) -> None:
        """httpd's core output: the first batch carries the head (complete unless
        `streaming`); later ones are body bytes. A streamed batch is progress the watchdog
        sees (Runtime.progress); a complete response is one bounded write."""
        if not body and self.streaming:
            return  # the head went out already and there is nothing to add
        progress = rec.runtime.progress if streaming else None
        if progress is None:
            self._send(rec, body, streaming)
            return
        progress(True)
        try:
            self._send(rec, body, streaming)
        finally:
            progress(False)

    def _send(self, rec: RequestRec, body: bytes, streaming: bool) -> None:
        if not self.streaming:
            head = self.head
            if head is None:
                head = self.head = rec.response_head()
            status, line, headers = head
            if streaming and self.sink is not None:
                # Output filters may change the body's length: a streamed body keeps a
                # handler's Content-Length only when it reaches the engine unfiltered.
                headers = [item for item in headers if item[0].lower() != "content-length"]
            try:
                self.raw.send_response(status, reason(line) if line else None, headers, body,
                                       not streaming)
            except ValueError as exc:
                raise self.refused_head(rec, exc) from None
            self.streaming = streaming
            if (streaming and self.raw.proto_num >= 1001 and not self.raw.method == "HEAD"
                    and not any(item[0].lower() == "content-length" for item in headers)):
                # a declared length frames the body (the engine's choice, as
                # ap_http_header_filter's): chunked only without one
                rec.chunked = 1
                # ap_http_header_filter records the framing it chose in headers_out
                rec.headers_out["Transfer-Encoding"] = "chunked"
        elif body:
            try:
                self.raw.write(body)
            except OSError as exc:
                self.client_error = exc
                raise

    def finish(self, rec: RequestRec) -> None:
        """End of the content phase: send what is left as one complete response (once)."""
        if self.finished:
            return
        if self.head is None:
            self.head = rec.response_head()
        if self.sink is not None:
            self.sink.finish(rec, self)
        else:
            # A HEAD whose handler wrote nothing goes out without a Content-Length (Apache's).
            streaming = self.streaming or (not self.bytes_queued and self.raw.method == "HEAD")
            if not streaming:  # the usual end: one complete response (what send() does)
                self._send(rec, self.take(), False)
                self.finished = True
                return
            self.send(rec, self.take(), streaming)
            if streaming:  # a complete response was finished by send_response itself
                self.raw.finish()
                if self.raw.unsent_length:
                    rec.log_error(f"response body shorter than its Content-Length: "
                                  f"{self.raw.unsent_length} bytes never sent, "
                                  "connection closed")
        self.finished = True

    def abort(self) -> None:
        """Close the connection without ending the body: a failure after part of it was
        sent, which the client must see as incomplete."""
        self.finished = True
        self.raw.abort()

    def send_file(self, rec: RequestRec, fd: int, offset: int, count: int) -> None:
        """Stream `count` bytes of `fd` after what is buffered, with sendfile(2)."""
        if self.declared_whole and count:
            raise self.past_declared_length("the file was not sent")
        self.freeze(rec)
        self.push(rec, streaming=True)
        try:
            with engine_io(rec):
                self.raw.send_file(fd, offset, count)
        except OSError as exc:
            self.client_error = exc
            raise
        self.bytes_queued += count

    def send_whole_file(self, rec: RequestRec, fd: int, size: int, offset: int = 0) -> None:
        """`size` bytes of the file from `offset` are the whole response (a file, or one
        byte range of it): the head with a Content-Length, then sendfile(2); the bytes never
        pass through Python."""
        status, line, headers = self.head = rec.response_head()
        try:
            if size <= STREAM_THRESHOLD:  # one bounded write, as a buffered response
                sent = self.raw.send_file(fd, offset, size, status=status, reason=reason(line),
                                          headers=headers, complete=True)
            else:
                with engine_io(rec):
                    sent = self.raw.send_file(fd, offset, size, status=status,
                                              reason=reason(line), headers=headers,
                                              complete=True)
        except ValueError as exc:
            raise self.refused_head(rec, exc) from None
        self.streaming = True  # the response is complete: finishing sends nothing more
        self.bytes_queued += sent


    def refused_head(self, rec: RequestRec, exc: ValueError) -> ValueError:
        """The engine refused the head (nothing was sent): log why, naming the header,
        forget the head and the handler's headers so the 500 page can go out (httpd clears
        headers_out and err_headers_out), and return the error to raise."""
        fault = head_fault(self.head) if self.head is not None else None
        if fault is None:
            return exc
        rec.log_error(f"{fault}, aborting request")
        self.head = None
        rec.clear_response_headers()
        return ResponseHeadError(fault)


def declared_length(head: Optional[Head]) -> Optional[int]:
    """The Content-Length a frozen head declares (None: none, several or not a number)."""
    found = None
    for name, value in head[2] if head is not None else ():
        if name.lower() == "content-length":
            if found is not None or not value.isdigit():
                return None
            found = int(value)
    return found


class ForwardedResponse(Response):
    """A request's response after an internal redirect (ap_internal_redirect): what it is
    written goes to the new request's response, and it never sends anything itself."""

    __slots__ = ("target",)

    def __init__(self, old: Response, target: RequestRec) -> None:
        super().__init__(old.raw)
        self.head, self.bytes_queued, self.streaming = old.head, old.bytes_queued, old.streaming
        self.target = target

    def write(self, rec: RequestRec, data: bytes, flush: Any) -> None:
        target = self.target
        target.response.write(target, data, flush)

    def flush(self, rec: RequestRec) -> None:
        target = self.target
        target.response.flush(target)

    def finish(self, rec: RequestRec) -> None:
        """Already answered by the new request."""


@contextmanager
def engine_io(rec: RequestRec) -> Iterator[None]:
    """A blocking transfer in the engine (each of its waits bounded by `Timeout`): told to
    Runtime.progress before and after, so the watchdog neither kills a transfer whose
    bytes flow nor loses sight of a handler that stops making progress."""
    progress = rec.runtime.progress
    if progress is None:
        yield
        return
    progress(True)
    try:
        yield
    finally:
        progress(False)


def reason(status_line: Optional[str]) -> Optional[str]:
    """The reason phrase of a handler's `status_line` ("404 Gone" -> "Gone")."""
    if not status_line:
        return None
    return status_line.partition(" ")[2] or None


class RequestRec:
    """One request's data and its response; `modpy.request.Request` adds mod_python's API."""

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
    _chunked = 0
    prev: Optional[RequestRec] = None
    next: Optional[RequestRec] = None
    main: Optional[RequestRec] = None
    per_dir_config: Optional[DirSettings] = None  # the settings in effect (r->per_dir_config)
    is_dir = False  # the URI mapped to a directory
    alias_root: Optional[str] = None  # the Alias directory the URI was mapped under
    allowed_mask = 0  # r->allowed: the methods an `Allow` header of a 405/501 lists
    body_error: Optional[BaseException] = None  # the client's failure while sending the body
    input_chain: Optional[InputChain] = None
    error_document_of: Optional[int] = None  # an ErrorDocument's request: the error status
    # (file name, its stat) from the directory walk (httpd's r->finfo), for the default
    # handler; it stats again if the name changed since.
    walk_finfo: Optional[tuple[str, os.stat_result]] = None
    _mtime = 0.0
    _content_type: Any = FROM_MIME
    _ct_set = 0  # read as req._content_type_set (read-only, as in mod_python)
    _headers_in: Optional[Table] = None
    _headers_out: Optional[Table] = None
    _err_headers_out: Optional[Table] = None
    _notes: Optional[Table] = None
    _subprocess_env: Optional[Table] = None
    # The pairs subprocess_env is made from when first used (defer_subprocess_env).
    deferred_env: Optional[list[tuple[str, str]]] = None
    _sent_headers: Optional[list[tuple[str, str]]] = None  # sent_headers(), once made
    _connection: Optional[mp_conn] = None
    _server: Optional[mp_server] = None
    _read_length = 0
    _line_buffer = b""
    # -- mod_rewrite --
    rewritten_filename: Optional[str] = None  # translate_name's local-path result
    rewrite_redirect: Optional[str] = None  # a per-directory rewrite's internal redirect
    rewrite_end = False  # [END]: no more rewriting in this request or its redirects

    def __init__(self, raw: RawRequest, runtime: Runtime, vhost: VirtualHost,
                 uri: str, args: Optional[str],
                 hostname: Optional[str] = None) -> None:
        self.raw = raw
        self.runtime = runtime
        self.vhost = vhost
        self.uri = uri
        self.args = args
        self._hostname = hostname or vhost.server_name
        self.response: Response = Response(raw)

    # -- what the client sent -------------------------------------------------------------

    method = property(lambda self: self.raw.method)
    hostname = property(lambda self: self._hostname)
    unparsed_uri = property(lambda self: self.raw.target)
    protocol = property(lambda self: self.raw.protocol)
    proto_num = property(lambda self: self.raw.proto_num)
    the_request = property(lambda self: self.raw.the_request)
    request_time = property(lambda self: self.raw.request_time)
    header_only = property(lambda self: int(self.raw.method == "HEAD"))
    method_number = property(lambda self: METHOD_NUMBERS.get(self.raw.method, apache.M_INVALID))
    expecting_100 = property(lambda self: int(self.raw.expect_continue))
    read_chunked = property(lambda self: int(self.raw.chunked))
    read_length = property(lambda self: self._read_length)
    bytes_sent = property(lambda self: self.response.bytes_queued)
    sent_bodyct = property(lambda self: int(self.response.head is not None))
    range = property(lambda self: self.raw.header("Range"))

    @property
    def chunked(self) -> int:
        """r->chunked: httpd sets it when a flushing write sends the head of an HTTP/1.1
        response without Content-Length. Such a write is only buffered here (so a small
        response still gets its length); asking commits the response to streaming, so the
        answer is what the wire does, as under httpd."""
        response = self.response
        if (not self._chunked and response.head is not None and not response.headers_sent
                and response.sink is None and self.raw.proto_num >= 1001):
            response.flush(self)
        return self._chunked

    @chunked.setter
    def chunked(self, value: int) -> None:
        self._chunked = value

    @property
    def remaining(self) -> int:
        length = self.raw.content_length
        return max(0, length - self._read_length) if length is not None else 0

    @property
    def headers_in(self) -> Table:
        if self._headers_in is None:
            self._headers_in = Table._from_pairs(utf8_headers(self.raw.headers), merge=True)
        return self._headers_in

    @property
    def useragent_ip(self) -> str:
        return self.raw.remote_addr[0]

    @property
    def useragent_addr(self) -> tuple[str, int]:
        return self.raw.remote_addr

    @property
    def connection(self) -> mp_conn:
        if self._connection is None:
            base = self.runtime.base_server(self.raw.local_addr)
            self._connection = mp_conn(self.raw, base, self.runtime.child_number)
        return self._connection

    @property
    def server(self) -> mp_server:
        if self._server is None:
            self._server = self.runtime.server_object(self.vhost)
        return self._server

    # -- the tables -----------------------------------------------------------------------

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
            pairs = self.deferred_env
            if pairs is None:
                self._subprocess_env = Table()
            else:
                self._subprocess_env = Table._from_pairs(pairs)
                self.deferred_env = None
        return self._subprocess_env

    def subprocess_env_untouched(self) -> bool:
        """Whether subprocess_env was never made nor deferred: it is empty, nobody holds it."""
        return self._subprocess_env is None and self.deferred_env is None

    def defer_subprocess_env(self, pairs: list[tuple[str, str]]) -> None:
        """An untouched subprocess_env is to be made from `pairs` (validated, in order) when
        first asked for: add_cgi_vars() fills it so, and mod_python.wsgi's environ reads
        the pairs instead of the table. Callers ask subprocess_env_untouched() first."""
        self.deferred_env = pairs

    def connection_if_made(self) -> Optional[mp_conn]:
        """req.connection if it was asked for (a handler may have changed it), else None:
        its values would be the raw request's."""
        return self._connection

    def sent_headers(self) -> Optional[list[tuple[str, str]]]:
        """The request headers as sent (UTF-8 values, repeats not merged) while headers_in
        was never made, so that nothing can have changed them; None once it exists."""
        if self._headers_in is not None:
            return None
        sent = self._sent_headers
        if sent is None:
            sent = self._sent_headers = utf8_headers(self.raw.headers)
        return sent

    def use_tables(self, headers_in: Table, err_headers_out: Table,
                   subprocess_env: Table) -> None:
        """Start from these tables (an internal redirect's request shares the first two)."""
        self._headers_in = headers_in
        self._err_headers_out = err_headers_out
        self._subprocess_env = subprocess_env

    # -- status, type and validators ------------------------------------------------------

    @property
    def status(self) -> int:
        return self._status

    @status.setter
    def status(self, value: Any) -> None:
        # mod_python converts with PyLong_AsLong: "'str' object cannot be interpreted as
        # an integer" for anything that is not an integer.
        self._status = value if value.__class__ is int else operator.index(value)

    @property
    def content_type(self) -> Optional[str]:
        if self._content_type is FROM_MIME:
            self._content_type = self.default_type()
        return self._content_type

    @content_type.setter
    def content_type(self, value: Optional[str]) -> None:
        self._content_type = value
        self._ct_set = 1

    @property
    def content_type_set(self) -> int:
        """Whether a handler (or the default handler) set content_type."""
        return self._ct_set

    def default_type(self) -> Optional[str]:
        """The type checker's type for the file (mod_mime, supplied by the layer above)."""
        return None

    def default_language(self) -> Optional[str]:
        """The type checker's Content-Language for the file (AddLanguage; the layer above)."""
        return None

    @property
    def mtime(self) -> float:
        return self._mtime

    def update_mtime(self, dependency_mtime: float) -> None:
        """ap_update_mtime: the resource's mtime only ever moves forward."""
        value = float(dependency_mtime)
        if value > self._mtime:
            self._mtime = value

    # -- configuration --------------------------------------------------------------------

    def document_root(self) -> str:
        return self.vhost.document_root

    def auth_type(self) -> Optional[str]:
        settings = self.per_dir_config
        return settings.auth_type if settings else None

    def auth_name(self) -> Optional[str]:
        settings = self.per_dir_config
        return settings.auth_name if settings else None

    def log_error(self, message: str, level: int = apache.APLOG_ERR) -> None:
        ip, port = self.raw.remote_addr
        self.server.log_client_error(message, level, f"{ip}:{port}")  # the vhost's ErrorLog

    # -- the response ---------------------------------------------------------------------

    def response_head(self) -> Head:
        """Status, status line and headers as they stand (httpd's header filter)."""
        headers: list[tuple[str, str]] = []
        status = self._status
        content_type = self._content_type
        if status == 204 or status == 304:
            # ap_http_header_filter: a header-only status (AP_STATUS_IS_HEADER_ONLY) has no
            # r->content_type (nor encoding or languages): nothing describes a body.
            content_type = None
        elif content_type is FROM_MIME:
            content_type = self.default_type()
        settings = self.per_dir_config
        if content_type is not None:
            if settings is not None and settings.default_charset:  # AddDefaultCharset
                content_type = with_default_charset(content_type, settings.default_charset)
            headers.append(("Content-Type", content_type))
        language = None
        if settings is not None and settings.languages:  # AddLanguage (mod_mime)
            language = self.default_language()
            if language is not None:
                headers.append(("Content-Language", language))
        if self._headers_out is not None:
            items = self._headers_out.items()
            if content_type is not None:
                # httpd sends r->content_type, replacing a Content-Type in headers_out.
                items = [(k, v) for k, v in items if k.lower() != "content-type"]
            if language is not None:  # and r->content_languages, a Content-Language
                items = [(k, v) for k, v in items if k.lower() != "content-language"]
            headers.extend(items)
        if self._err_headers_out is not None:
            headers.extend(self._err_headers_out.items())
        if self.no_cache:
            headers.append(("Expires", self.runtime.http_date(time.time())))
        return (status, self.status_line, headers)

    def clear_response_headers(self) -> None:
        """Drop headers_out and err_headers_out (a refused head, see ResponseHeadError)."""
        self._headers_out = self._err_headers_out = None
        self._status = 500

    def write(self, data: Any, flush: int = 1) -> None:
        """Queue body bytes. A flushing write (the default) freezes status and headers, as
        the manual says; `write(data, 0)` only buffers, so headers may still change and
        util.redirect() still works, as under httpd."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data)
        else:
            raise TypeError("Argument to write() must be a string or bytes")
        self.response.write(self, data, flush)

    def flush(self) -> None:
        """Send what is buffered. The engine decides chunked vs close-delimited."""
        self.response.flush(self)

    def copy_file(self, fd: int, offset: int, count: int) -> int:
        """`count` bytes of `fd` from `offset` through the output buffer, as write(data, 0)
        (output filters see them; a small response keeps its Content-Length)."""
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

    def file_piece(self, fd: int, offset: int, count: int) -> None:
        """`count` bytes of `fd` from `offset` join the body: buffered like write() when the
        piece fits the output buffer (a small response keeps its Content-Length) or output
        filters must see it, else streamed with sendfile(2) without a copy through Python."""
        response = self.response
        if count + response.buffered <= STREAM_THRESHOLD or response.sink is not None:
            self.copy_file(fd, offset, count)
        else:
            response.send_file(self, fd, offset, count)

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
        chunk = self.get_client_block(length if length > 0 else -1)
        return data + chunk

    def get_client_block(self, size: int) -> bytes:
        """Up to `size` body bytes (-1: the rest) as the handler sees them: through the
        input filters when there are any (ap_get_client_block)."""
        chain = self.input_chain
        if chain is not None:
            return chain.read(self, size)
        return self.read_unfiltered(size)

    def read_unfiltered(self, size: int) -> bytes:
        """The engine's body read; a client failure is remembered so the dispatcher can
        tell it from the handler's own I/O errors."""
        try:
            with engine_io(self):
                chunk = self.raw.read_body(size)
        except OSError as exc:
            # mod_python's req.read: a failed ap_get_client_block (timeout, lost client) is
            # IOError("Client read error (Timeout?)"), which the handler may catch
            error = OSError("Client read error (Timeout?)")
            self.body_error = error
            raise error from exc
        self._read_length += len(chunk)
        return chunk

    def _take_line_buffer(self, length: int) -> tuple[bytes, bytes]:
        if length < 0:
            return self._line_buffer, b""
        return self._line_buffer[:length], self._line_buffer[length:]

    def readline(self, length: int = -1) -> bytes:
        while b"\n" not in self._line_buffer and (length < 0 or len(self._line_buffer) < length):
            chunk = self.get_client_block(8192)
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

    def __iter__(self) -> Iterator[bytes]:
        """The body line by line, as readline() gives it: PEP 3333 wants wsgi.input (this
        object, in mod_python.wsgi) iterable. mod_python 3.5's request object is not; the
        addition changes nothing for handlers that never iterate over `req`."""
        return iter(self.readline, b"")

    def discard_request_body(self) -> int:
        while self.get_client_block(65536):
            pass
        return apache.OK

    def continue_body(self, prev: RequestRec) -> None:
        """Read the body on from where `prev` stopped (an internal redirect's request)."""
        self._read_length, self._line_buffer = prev._read_length, prev._line_buffer


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


def with_default_charset(content_type: str, charset: str) -> str:
    """ap_make_content_type: `AddDefaultCharset` adds `; charset=` to a type that contains
    text/plain or text/html (case as written) and no charset parameter yet."""
    if "charset=" in content_type:
        return content_type
    if "text/plain" in content_type or "text/html" in content_type:
        return f"{content_type}; charset={charset}"
    return content_type
