"""Type stub for the Rust extension `prefork_modpy._core` (sources in rust/).

The extension owns the sockets after the master has bound them: it accepts, reads and
parses request heads, frames bodies, holds idle keep-alive connections and writes
responses. Python is called once per request (``Engine.next_request``) and answers through
the returned ``RawRequest``. Every wait happens with the GIL released.
"""

import os
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union, final

from prefork_modpy.config.server import Limits

__all__ = ["Engine", "RawRequest", "RawConnection", "ParsedHead", "GzipStream", "TlsContext",
           "BadRequestError", "parse_head", "decode_chunked", "http_date", "openat2", "x509_fields",
           "__version__", "__build__"]

__version__: str
"""The package version, from Cargo.toml."""
__build__: str
"""The engine's target, build profile and Python ABI (`prefork-modpy --version`)."""

@final
class Engine:
    """One per worker process. Multiplexes the listening sockets and all client
    connections of this worker on one epoll set."""

    def __new__(
        cls,
        listen_fds: list[int],
        limits: Limits,
        reasons: Mapping[int, str],
        error_page: Callable[[int, str], bytes],
        raw_connections: list[tuple[str, int, bool]] = ...,
        handoff_fds: Optional[tuple[int, int]] = None,
        proxy_fds: list[int] = ...,
        tls: list[tuple[int, TlsContext]] = ...,
        plain_http_page: bytes = ...,
    ) -> Engine:
        """Takes already-bound listening sockets (set non-blocking here, not closed on drop),
        the limits to enforce (read by attribute from the config's `Limits`), the reason
        phrase of each status (httpd's, `errorpages.STATUS_LINES`: a response without a
        reason gets the phrase from here, "Unknown" for a status it lacks) and
        ``error_page(status, method)``, the body of a request the engine refuses itself
        (`errorpages.error_body`; the method is the request line's first word).
        Connections accepted on ``proxy_fds`` (a subset of ``listen_fds``: `Listen ...
        proxy-protocol`) must start with a PROXY protocol v1 or v2 header, whose client
        address becomes the request's ``remote_addr``; without a valid one they are closed.

        The header and body read timeouts are mod_reqtimeout's ``RequestReadTimeout``: a head
        must be complete ``header_timeout`` seconds after its first byte, extended by one
        second per ``header_min_rate`` bytes received, up to ``header_timeout_max`` seconds in
        all; a body gets ``body_timeout`` seconds from its first read, extended the same way
        by ``body_min_rate``, up to ``body_timeout_max`` (0: no cap). A timeout of 0 disables
        that stage's deadline (``timeout``, the longest stall of one read or write, still
        applies); a rate of 0 disables the extension. A head over its deadline is answered
        408 by the engine; a pre-read body over its deadline is handed over anyway, and its
        read past the bytes that arrived raises TimeoutError, as a body read by the handler
        does.

        ``raw_connections``: ``(local ip or "" for any, port, handed over)``; a connection
        accepted on an address whose entry (the exact one first, else the port's "") says
        True is returned by `next_request` as a `RawConnection` (PythonConnectionHandler)."""
    def next_request(self, timeout: float) -> Optional[Union[RawRequest, RawConnection]]:
        """Wait (GIL released) until some connection has a complete request head
        (and, when Content-Length <= preread_body and no 100-continue is expected, its
        whole body). Returns None when `timeout` seconds pass or a signal arrives
        (after running Python's signal handlers, which may raise). Malformed requests
        are answered (4xx/5xx + Connection: close) and closed here, never returned."""
    def stop_accepting(self) -> None:
        """Deregister and close the listening sockets (graceful stop/reload)."""
    def close_idle(self) -> int:
        """Close keep-alive connections that hold no request: half-close them (the client sees
        a clean end of stream, not a reset) and read and drop what they still send for a
        moment. A connection whose next request is already waiting in the kernel is read
        instead and served. Connections discarding an unread body are half-closed too.
        Returns how many connections remain open (lingering ones included)."""
    def set_draining(self, on: bool) -> None:
        """Graceful stop or reload: from now on every response (also of the request running
        now) says `Connection: close` and its connection closes after it. Takes the engine
        like any method: not from a signal handler that may run inside `next_request`."""
    @property
    def draining(self) -> bool: ...
    def take_refusals(
        self,
    ) -> list[tuple[tuple[str, int], tuple[str, int], str, int, int, float]]:
        """The requests the engine refused itself since the last call, oldest first, as
        `((client ip, port), (local ip, port), request line prefix, status, body bytes,
        epoch time)`; at most the last 256 are kept."""
    def add_static_plan(
        self,
        local: tuple[str, int],
        host: Optional[str],
        target: str,
        path: Union[str, os.PathLike[str]],
        version: tuple[int, int, int, int, int],
        reason: Optional[str],
        headers: list[tuple[str, str]],
        logs: list[tuple[int, list[Union[bytes, str, tuple[str, str]]]]],
        tls_sni: Optional[str] = None,
    ) -> None:
        """Answer repeats of a static-file request from now on: a plain HTTP/1.1 GET to
        `local` with this `Host` (None: none sent) and `target`, with no body, `Expect`,
        condition or range, gets `path` with status 200, `reason` and `headers` (as
        `send_file` takes them) while the file is `version` (st_dev, st_ino, st_size,
        st_mtime_ns, st_ctime_ns); another version drops the plan and the request goes to
        Python. Each answer is written to every `(fd, pieces)` log: a piece is bytes, or
        "peer", "time", "bytes", "bytes-", or ("header", name). ValueError for anything
        else. `tls_sni`: None for a plain connection; for a TLS one the SNI name ("" when
        none was sent), and only connections without a client certificate are answered."""
    def clear_static_plans(self) -> None:
        """Forget every static plan (the log files they write to are about to change)."""
    @property
    def static_plans(self) -> int:
        """Static plans held now."""
    def write_log(self, fd: int, line: bytes) -> None:
        """One whole access-log line for the log open on `fd`: written now, or held under
        `BufferedLogs On`. Write errors are not raised."""
    def flush_logs(self) -> None:
        """Write the lines held under `BufferedLogs`."""
    @property
    def buffered_logs(self) -> bool: ...
    @buffered_logs.setter
    def buffered_logs(self, on: bool) -> None: ...
    @property
    def held_log_bytes(self) -> int:
        """Bytes of access-log lines held under `BufferedLogs`."""
    def take_static_counts(self) -> tuple[int, int, Optional[tuple[str, str]]]:
        """(requests, body bytes, (client ip, target) of the last one or None) the engine
        answered from static plans since the last call."""
    @property
    def open_connections(self) -> int: ...
    def queued_connections(self) -> int:
        """Connections waiting in the accept queues of the listening sockets this engine
        still owns (0 after `stop_accepting`)."""
    @property
    def handed_over(self) -> int:
        """Connections this worker handed over to other workers while it was busy in
        Python (through `handoff_fds`, the master's SOCK_SEQPACKET pair: sending end,
        receiving end)."""
    @property
    def rejected_requests(self) -> int:
        """How many requests the engine answered itself with an error status."""

@final
class RawRequest:
    """A parsed request head plus the means to read its body and answer it."""

    method: str
    target: str
    """The request-target exactly as received (origin-form, with query)."""
    protocol: str
    """'HTTP/1.1' or 'HTTP/1.0'."""
    proto_num: int
    """1001 or 1000."""
    the_request: str
    """The request line without CRLF."""
    headers: list[tuple[str, str]]
    """(name, value) pairs in arrival order, names as sent; built on first access."""
    remote_addr: tuple[str, int]
    local_addr: tuple[str, int]
    tls: Optional[tuple[str, str, Optional[str]]]
    # (SSL_CLIENT_VERIFY: NONE/SUCCESS/GENEROUS, the client's chain in DER, its own first,
    # the verified path's depth or None)
    tls_client: Optional[tuple[str, list[bytes], Optional[int]]]
    tls_resumed: Optional[bool]  # the handshake resumed a session (None: plain HTTP)
    """(protocol, cipher suite, SNI name or None) of a TLS connection; None for plain HTTP."""
    keepalive_count: int
    """1 for the first request on this connection, 2 for the next, ..."""
    client_keepalive: bool
    """Whether the client allows the connection to persist (version + Connection header)."""
    content_length: Optional[int]
    chunked: bool
    expect_continue: bool
    request_time: float
    """Epoch seconds when the head was complete."""
    bytes_sent: int
    """Body bytes written so far (not counting headers or chunk framing)."""
    unsent_length: int
    """Body bytes the response's Content-Length declared but the handler never sent
    (the connection was closed instead of padding); 0 once a response finished whole."""
    headers_sent: bool
    keeps_alive: Optional[bool]
    """Whether the connection stays open after this response, decided when its head went
    out (None before): httpd's conn->keepalive."""
    def header(self, name: str) -> Optional[str]:
        """First value of a header, case-insensitive, without building `headers`."""
    def read_body(self, size: int = -1) -> bytes:
        """Up to `size` decoded body bytes (-1: all remaining). Sends `100 Continue`
        first if the client expects it. Raises OSError on timeout or a lost client,
        and ValueError subclasses of BadRequestError on bad chunked framing."""
    def send_response(
        self,
        status: int,
        reason: Optional[str],
        headers: list[tuple[str, str]],
        body: bytes,
        complete: bool,
    ) -> None:
        """Write the status line and headers (Date, Server and framing are added by
        the engine) and `body`; a `reason` of None takes the phrase of the Engine's table.
        With complete=True the response is whole: it gets Content-Length (no body for
        HEAD, 1xx, 204, 304) and the request is finished.
        With complete=False more body follows through `write`: delimited by the
        Content-Length in `headers` if there is one (enforced: bytes past it raise
        ValueError after what fitted, and the connection closes; a shorter body closes it
        at finish, see `unsent_length`), else chunked for HTTP/1.1 and close-delimited for
        HTTP/1.0. Raises ValueError for header names or values
        with control characters (response splitting), OSError if the client is gone."""
    def send_file(
        self,
        file: Union[int, str, os.PathLike[str]],
        offset: int = 0,
        count: int = -1,
        *,
        status: int = 200,
        reason: Optional[str] = None,
        headers: Optional[list[tuple[str, str]]] = None,
        complete: bool = False,
    ) -> int:
        """Send `count` bytes of a file from `offset` (count < 0: to its end; clamped to the
        file's size) as body, with sendfile(2) and the GIL released. `file` is an open
        descriptor (its position is not used or moved) or a path. If the response has not
        started, the head goes first (`status`, `reason`, `headers` as for send_response);
        with complete=True the file is the whole body: Content-Length, then the request is
        finished. Otherwise the file is one more piece of a streamed body. Returns the
        number of body bytes sent (0 for HEAD, 204, 304). OSError if the file cannot be
        read or ends early (the connection is then closed) or the client is gone."""
    def write(self, data: bytes) -> None:
        """Send more body after send_response(complete=False)."""
    def finish(self) -> None:
        """End the response (last chunk) and give the connection back to the engine:
        drained and kept alive when allowed, else closed. Idempotent."""
    def abort(self) -> None:
        """Close the connection without finishing the response."""

class BadRequestError(ValueError):
    """Malformed request framing; `.status` is the HTTP status to answer."""

    status: int

@final
class ParsedHead:
    """What the engine's parser decided about one request head (for tests and tools)."""

    method: str
    target: str
    proto_num: int
    headers: list[tuple[bytes, bytes]]
    head_len: int
    """Bytes consumed by the head including the final CRLF CRLF."""
    content_length: Optional[int]
    chunked: bool
    client_keepalive: bool
    expect_continue: bool

@final
class RawConnection:
    """A connection handed whole to a PythonConnectionHandler; closed when dropped.
    Reads and writes block, `Limits.timeout` bounding each stall (TimeoutError)."""

    remote_addr: tuple[str, int]
    local_addr: tuple[str, int]
    def read(self, length: int = 0) -> bytes:
        """Up to `length` bytes (0: what one read brings; -1: until the client closes),
        blocking until one arrives; b"" at the end of the stream."""
    def readline(self, length: int = 0) -> bytes:
        """Up to and including b"\\n", at most `length` bytes (0: no limit)."""
    def write(self, data: Union[str, bytes]) -> None:
        """Send all of `data` (str as UTF-8)."""
    def close(self) -> None:
        """Close the connection."""

def parse_head(data: bytes, limits: Limits) -> Optional[ParsedHead]:
    """Run the engine's head parser and framing checks on `data` under `limits`. Returns None
    if the head is incomplete; raises BadRequestError (with `.status`) where the engine
    would refuse the request."""

def decode_chunked(data: bytes, limit: int = 0) -> tuple[bytes, int]:
    """Decode a complete chunked body (with trailers) at the start of `data`; returns
    (body, bytes consumed). Raises BadRequestError on bad framing or if the body is
    over `limit` (0 = no limit; status 413). Incomplete input raises with status 400."""

@final
class TlsContext:
    """The rustls configuration of one TLS listening address (rust/tls.rs), built in the
    master at config load."""

    def __new__(
        cls,
        sites: list[tuple[list[str], str, str, Optional[str]]],
        protocols: list[str],
        suites: Optional[list[str]] = None,
        honor_order: bool = False,
        tickets: bool = True,
        verify: str = "none",
        ca_files: list[str] = ...,
        depth: int = 1,
        crl_check: str = "none",
        crl_files: list[str] = ...,
        crl_unknown_ok: bool = False,
    ) -> TlsContext:
        """`sites`: `[(names, cert_file, key_file, chain_file or None)]`, the first being
        the default host (no SNI or an unknown name); `protocols`: a subset of
        `["TLSv1.2", "TLSv1.3"]`; `suites`: rustls' names of the cipher suites to offer,
        in order (None: its defaults); `honor_order`: the server's order wins
        (SSLHonorCipherOrder); `tickets`: stateless session tickets (SSLSessionTickets);
        `verify`: SSLVerifyClient's level (none, optional, require, optional_no_ca) against
        the CA certificates of the PEM files `ca_files`, with SSLVerifyDepth `depth`;
        `crl_check`: SSLCARevocationCheck (none, chain, leaf) over the CRLs of `crl_files`
        (`crl_unknown_ok`: no_crl_for_cert_ok). ValueError names the file and what is wrong
        with it."""

@final
class GzipStream:
    """mod_deflate's gzip stream for one response (rust/deflate.rs): httpd's 10-byte header
    (mtime 0, OS unix), raw deflate (window 15, memory level 9, zlib-rs through flate2),
    then the CRC32 and length trailer. The GIL is released while compressing."""

    def __new__(cls, level: int) -> GzipStream:
        """A stream at DeflateCompressionLevel `level` (1-9; ValueError otherwise)."""

    def compress(self, data: bytes, flush: bool = False) -> bytes:
        """The compressed bytes for `data` (the header first time); with `flush` a sync
        flush makes everything so far decodable by the client (streaming)."""

    def finish(self, data: bytes) -> bytes:
        """The last block and the trailer; the stream is then closed (ValueError after)."""

def http_date(epoch: float) -> str:
    """IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""

def openat2(dir_fd: int, path: Union[str, os.PathLike[str]], flags: int, resolve: int) -> int:
    """openat2(2): a new descriptor of `path` (relative to `dir_fd`, or -100 for AT_FDCWD)
    opened with `flags` under the `resolve` constraints; OSError with the call's errno
    (ENOSYS before Linux 5.6, ELOOP/EXDEV when the constraint refused the resolution)."""

def x509_fields(der: bytes) -> dict[str, Any]:
    """A DER certificate's fields (rust/x509.rs): subject and issuer as lists of RDNs of
    (dotted OID, value), serial (upper-case hex), version, not_before/not_after (Unix
    seconds), sig_alg and key_alg (dotted OIDs), san (subjectAltName's ("Email" | "DNS",
    value) in order). ValueError if it is not a certificate."""
