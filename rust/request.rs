//! `RawRequest`: one parsed request handed to Python, holding its connection on loan.
//! Reads the body on demand (Content-Length or chunked, `100 Continue` first when the
//! client expects it), writes the response (validated headers, engine-owned Date / Server /
//! framing / Connection), and at `finish` gives the connection back to the engine kept
//! alive (unread small bodies are discarded there) or closes it. `send_file` sends a file
//! body with sendfile(2). Body reads run on a mod_reqtimeout-style clock (`StageClock`)
//! besides the per-read `Timeout`. Every wait is a poll(2) in slices of at most a second
//! with the GIL released; signals are checked between slices.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Instant;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::body::Body;
use crate::conn::{Loan, StageClock};
use crate::errors::{bad_request, conn_gone, read_timeout, state_error};
use crate::parse::{parse_decimal, Framing, Head};
use crate::pyapi::Limits;
use crate::pyio::{
    latin1_bytes, latin1_str, read_blocking, read_blocking_with, sendfile_blocking, write_blocking,
    write_blocking_more,
};
use crate::response::{self, BodyFraming, FramingFacts, Reasons};
use crate::sys;
use crate::tls;

const READ_CHUNK: usize = 64 * 1024;
/// Files up to this size are read and written with the head in one writev rather than
/// sent with sendfile(2) (one system call and one segment fewer). Above it sendfile wins:
/// reading the bytes into memory first costs a copy and an allocation per request (a 64 KiB
/// file: 59.6 us of worker CPU per request with sendfile against 66.7 read and written,
/// bench/ab_cpu.py static-64k).
const SMALL_FILE: u64 = 16 * 1024;

/// How far the response has gone: nothing sent, head sent with more body to come, or whole.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseState {
    NotStarted,
    Streaming { chunked: bool, no_body: bool },
    Complete,
}

/// A serialised response head and what it decided.
struct Prepared {
    head: Vec<u8>,
    chunked: bool,
    no_body: bool,
    close: bool,
    /// A streamed body delimited by the handler's Content-Length: the bytes it must have.
    length: Option<u64>,
}

/// `send_file`'s file: an open descriptor or a path.
#[derive(FromPyObject)]
pub enum FileArg {
    Fd(RawFd),
    Path(std::path::PathBuf),
}

fn open_read(path: &std::path::Path) -> PyResult<OwnedFd> {
    sys::open_read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => PyValueError::new_err("NUL in file name"),
        _ => pyo3::exceptions::PyOSError::new_err((
            e.raw_os_error().unwrap_or(0),
            e.to_string(),
            path.to_string_lossy().into_owned(),
        )),
    })
}

/// Size of a regular file; other kinds cannot go through sendfile(2).
fn file_size(fd: RawFd) -> PyResult<u64> {
    sys::regular_file_size(fd)?
        .ok_or_else(|| PyValueError::new_err("send_file needs a regular file"))
}

/// A parsed request head plus the means to read its body and answer it.
#[pyclass(module = "prefork_modpy._core")]
pub struct RawRequest {
    loan: Loan,
    head: Head,
    limits: Limits,
    reasons: Arc<Reasons>,
    remote: std::net::SocketAddr,
    local: std::net::SocketAddr,
    /// `remote_addr` / `local_addr` as Python tuples, built on first access (like `headers`).
    remote_cache: Option<Py<PyTuple>>,
    local_cache: Option<Py<PyTuple>>,
    keepalive_count: u32,
    request_time: f64,
    headers_cache: Option<Py<PyList>>,
    body: Body,
    continue_sent: bool,
    /// The body's read deadline (RequestReadTimeout body=…), from the first read on.
    body_clock: Option<StageClock>,
    resp: ResponseState,
    will_close: bool,
    bytes_sent: u64,
    /// A streamed body under the handler's Content-Length: (declared, still to send).
    length: Option<(u64, u64)>,
    /// Declared body bytes never sent when the response finished (the connection closed).
    unsent_length: u64,
    finished: bool,
    /// The engine's pre-read of the body timed out (see `Conn::body_timed_out`).
    body_timed_out: bool,
    /// -- TLS -- (protocol, cipher, SNI name) of a TLS connection; None for plain HTTP.
    tls: Option<(String, String, Option<String>)>,
}

/// `RawRequest.tls_client`: (SSL_CLIENT_VERIFY, the chain in DER, the verified depth).
type ClientCert<'py> = (&'static str, Vec<Bound<'py, PyBytes>>, Option<usize>);

impl RawRequest {
    pub fn new(mut loan: Loan, head: Head, limits: Limits, reasons: Arc<Reasons>) -> Self {
        let unknown = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        let (remote, local, count, time, body_timed_out) = match loan.get() {
            Some(c) => {
                (c.peer, c.local, c.served, c.head_time, std::mem::take(&mut c.body_timed_out))
            }
            None => (unknown, unknown, 0, 0.0, false),
        };
        let tls = loan.get().and_then(|c| c.tls.as_deref()).map(|s| {
            let (protocol, cipher) = s.describe();
            (protocol, cipher, s.sni())
        });
        let body = Body::new(head.framing, limits.body);
        RawRequest {
            loan,
            head,
            limits,
            reasons,
            remote,
            local,
            remote_cache: None,
            local_cache: None,
            keepalive_count: count,
            request_time: time,
            headers_cache: None,
            body,
            continue_sent: false,
            body_clock: None,
            resp: ResponseState::NotStarted,
            will_close: false,
            bytes_sent: 0,
            length: None,
            unsent_length: 0,
            finished: false,
            body_timed_out,
            tls,
        }
    }

    /// -- TLS -- the connection's session; None for plain HTTP.
    fn session(&mut self) -> Option<&mut tls::Session> {
        self.loan.get().and_then(|c| c.tls.as_deref_mut())
    }

    fn fd(&mut self) -> PyResult<RawFd> {
        self.loan.get().map(|c| c.fd).ok_or_else(conn_gone)
    }

    /// Send `100 Continue` before the first socket read of the body, if expected.
    fn maybe_continue(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.head.expect_continue
            && !self.continue_sent
            && self.resp == ResponseState::NotStarted
        {
            self.continue_sent = true;
            let fd = self.fd()?;
            self.send(py, fd, &[b"HTTP/1.1 100 Continue\r\n\r\n"])?;
        }
        Ok(())
    }

    /// Write; on failure the connection is dead and closed.
    fn send(&mut self, py: Python<'_>, fd: RawFd, parts: &[&[u8]]) -> PyResult<()> {
        self.send_with(py, fd, parts, false)
    }

    /// `send`; with `closing` the connection is shut down or closed right after (a
    /// complete response that ends it): MSG_MORE holds the last partial segment back, so
    /// the FIN that follows leaves in the same segment as the end of the response (one
    /// packet, one wake-up of the client, fewer for the kernel to process).
    fn send_with(
        &mut self,
        py: Python<'_>,
        fd: RawFd,
        parts: &[&[u8]],
        closing: bool,
    ) -> PyResult<()> {
        let timeout = self.limits.timeout;
        let r = match self.session() {
            None if closing => write_blocking_more(py, fd, parts, timeout),
            None => write_blocking(py, fd, parts, timeout),
            Some(s) => tls::write_blocking(py, s, fd, parts, timeout),
        };
        if r.is_err() {
            self.will_close = true;
            self.loan.close();
        }
        r
    }

    /// The body clock, started at the first read with the bytes already buffered counted.
    fn clock(&mut self) -> StageClock {
        if let Some(c) = self.body_clock {
            return c;
        }
        let buffered = self.loan.get().map_or(0, |c| c.buf.len());
        let c = StageClock::start(&self.limits.body_read_timeout(), Instant::now(), buffered);
        self.body_clock = Some(c);
        c
    }

    /// One blocking socket read for the body, under `Timeout` and the body clock.
    fn read_more(
        &mut self,
        py: Python<'_>,
        into_conn: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> PyResult<()> {
        if self.body_timed_out {
            return Err(read_timeout());
        }
        self.maybe_continue(py)?;
        let mut clock = self.clock();
        let timeout = self.limits.timeout;
        let c = self.loan.get().ok_or_else(conn_gone)?;
        let fd = c.fd;
        c.queue_empty = false; // a read sized to the body cannot tell whether more follows
        let buf = if into_conn { &mut c.buf } else { out };
        let n = match c.tls.as_deref_mut() {
            None => read_blocking(py, fd, buf, max, timeout, clock.end())?,
            Some(s) => {
                read_blocking_with(py, timeout, clock.end(), |until| s.read_until(fd, buf, until))?
            }
        };
        clock.extend(n);
        self.body_clock = Some(clock);
        Ok(())
    }

    fn read_length(&mut self, py: Python<'_>, rem: u64, want: usize) -> PyResult<Vec<u8>> {
        let want = usize::try_from(rem).unwrap_or(usize::MAX).min(want);
        let mut out = Vec::with_capacity(want.min(1 << 20));
        self.clock();
        if let Some(c) = self.loan.get() {
            let take = want.min(c.buf.len());
            out.extend(c.buf.drain(..take));
        }
        while out.len() < want {
            let max = (want - out.len()).min(1 << 20);
            self.read_more(py, false, &mut out, max)?;
        }
        let left = rem - out.len() as u64;
        self.body = if left == 0 { Body::Done } else { Body::Length(left) };
        Ok(out)
    }

    fn read_chunked(&mut self, py: Python<'_>, want: usize) -> PyResult<Vec<u8>> {
        let mut out = Vec::new();
        self.clock();
        loop {
            let Body::Chunked(dec) = &mut self.body else {
                return Ok(out);
            };
            let c = self.loan.get().ok_or_else(conn_gone)?;
            let budget = want - out.len();
            let n = dec.decode(&c.buf, &mut out, budget).map_err(|e| bad_request(py, e))?;
            c.buf.drain(..n);
            if dec.is_done() {
                self.body = Body::Done;
                return Ok(out);
            }
            if out.len() >= want {
                return Ok(out);
            }
            self.read_more(py, true, &mut out, READ_CHUNK)?;
        }
    }

    /// Validate and serialise a response head; framing and keep-alive are decided by
    /// `response::frame_response` from what this request and its connection allow.
    /// `body_len`: the whole body's length when `complete`.
    fn prepare(
        &mut self,
        status: i64,
        reason: Option<&str>,
        headers: &[(String, String)],
        complete: bool,
        body_len: u64,
    ) -> PyResult<Prepared> {
        if self.finished {
            return Err(state_error("request is finished"));
        }
        if self.resp != ResponseState::NotStarted {
            return Err(state_error("response already started"));
        }
        // A 1xx is interim (RFC 9110 §15.2): sent as the final answer it would leave the
        // client waiting for another response, so it is refused like any invalid status.
        let status = u16::try_from(status)
            .ok()
            .filter(|s| (200..=999).contains(s))
            .ok_or_else(|| PyValueError::new_err(format!("invalid status {status}")))?;
        let reason = match reason {
            Some(r) => latin1_bytes(r, "reason")?,
            None => self.reasons.get(status).to_vec(),
        };
        if !response::valid_reason(&reason) {
            return Err(PyValueError::new_err("control character in reason phrase"));
        }
        let mut out_headers = Vec::with_capacity(headers.len());
        let mut handler_cl: Option<u64> = None;
        let mut handler_close = false;
        for (n, v) in headers {
            let (nb, vb) = (latin1_bytes(n, "header name")?, latin1_bytes(v, "header value")?);
            if !response::valid_field_name(&nb) {
                return Err(PyValueError::new_err(format!("invalid header name {n:?}")));
            }
            if !response::valid_field_value(&vb) {
                return Err(PyValueError::new_err(format!("invalid value for header {n}: {v:?}")));
            }
            if nb.eq_ignore_ascii_case(b"content-length") {
                handler_cl = parse_decimal(vb.trim_ascii());
            } else if nb.eq_ignore_ascii_case(b"transfer-encoding") {
                // The engine frames the body itself; never emit two framings.
            } else if nb.eq_ignore_ascii_case(b"connection") {
                handler_close |=
                    vb.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"close"));
            } else {
                out_headers.push((nb, vb));
            }
        }
        let max = self.limits.max_keepalive_requests;
        let must_close = self.will_close
            || handler_close
            || !self.head.client_keepalive
            || !self.limits.keepalive
            || (max > 0 && self.keepalive_count >= max)
            || self.loan.draining()
            || self.body_blocks_keepalive();
        let framed = response::frame_response(&FramingFacts {
            status,
            is_head: self.head.method() == "HEAD",
            http11: self.head.proto_num == 1001,
            must_close,
            complete,
            body_len,
            handler_length: handler_cl,
        });
        let head =
            response::serialize_head(status, &reason, &out_headers, framed.framing, framed.conn);
        let length = match framed.framing {
            BodyFraming::Length(n) if !complete && !framed.no_body => Some(n),
            _ => None,
        };
        Ok(Prepared {
            head,
            chunked: framed.framing == BodyFraming::Chunked,
            no_body: framed.no_body,
            close: framed.close,
            length,
        })
    }

    /// The head went out: record the response state; a complete response finishes.
    fn started(&mut self, py: Python<'_>, p: Prepared, complete: bool) -> PyResult<()> {
        if complete {
            self.resp = ResponseState::Complete;
            self.finish(py)
        } else {
            self.resp = ResponseState::Streaming { chunked: p.chunked, no_body: p.no_body };
            Ok(())
        }
    }

    /// A failure after part of the response went out: the framing is broken, so the
    /// connection is closed. Returns `e` for the caller to raise.
    fn broken(&mut self, e: PyErr) -> PyErr {
        self.will_close = true;
        self.loan.close();
        e
    }

    /// How many of `len` more body bytes the declared Content-Length still admits, and
    /// whether `len` goes past it (the rest is never sent).
    fn admit(&mut self, len: u64) -> (u64, bool) {
        match &mut self.length {
            None => (len, false),
            Some((_, left)) => {
                let n = len.min(*left);
                *left -= n;
                (n, len > n)
            }
        }
    }

    /// The body went past its declared Content-Length: what fitted was sent, the rest is
    /// dropped and the connection closed (its framing would be broken otherwise).
    fn too_long(&mut self) -> PyErr {
        let declared = self.length.map_or(0, |(d, _)| d);
        self.broken(PyValueError::new_err(format!(
            "response body longer than its Content-Length ({declared}): truncated, \
             connection closed"
        )))
    }

    /// Consume body bytes already buffered, without blocking.
    fn drain_buffered(&mut self) {
        if let Some(c) = self.loan.get() {
            if self.body.drain_buffered(&mut c.buf).is_err() {
                self.will_close = true;
            }
        }
    }

    /// Close the connection after its last response. httpd's `ap_lingering_close`
    /// half-closes it and reads until the client closes, so that bytes the client still
    /// sends never make the kernel answer with a reset, which can destroy the response in
    /// flight. When nothing can follow, it closes at once (nginx's `lingering_close on`,
    /// `ngx_http_finalize_connection`): no shutdown, no wake-up for the client's FIN, no
    /// last read. Nothing can follow when the client said it closes (`Connection: close`,
    /// or HTTP/1.0 without keep-alive: RFC 9112 §9.6, it sends no further request), the
    /// request's body is all read, nothing is buffered and the engine's last read found the
    /// socket's queue empty. TLS connections always linger: the client answers our
    /// close_notify with its own.
    fn end_connection(&mut self) {
        self.drain_buffered();
        if self.nothing_can_follow() {
            self.loan.close();
        } else {
            self.loan.close_gracefully();
        }
    }

    fn nothing_can_follow(&mut self) -> bool {
        if self.head.client_keepalive || !matches!(self.body, Body::Done) {
            return false;
        }
        self.loan.get().is_some_and(|c| c.tls.is_none() && c.buf.is_empty() && c.queue_empty)
    }

    fn body_blocks_keepalive(&mut self) -> bool {
        let expect_pending = self.head.expect_continue && !self.continue_sent;
        match self.loan.get() {
            Some(c) => self.body.blocks_keepalive(&c.buf, expect_pending),
            None => true,
        }
    }
}

impl RawRequest {
    /// `send_file`'s work once the file is open and `count` known (at most what it holds
    /// from `offset`): the head if the response has not started, then the bytes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_file_body(
        &mut self,
        py: Python<'_>,
        file_fd: RawFd,
        offset: u64,
        count: u64,
        status: i64,
        reason: Option<&str>,
        headers: &[(String, String)],
        complete: bool,
    ) -> PyResult<u64> {
        let fd = self.fd()?;
        let (head, chunked, no_body) = match self.resp {
            ResponseState::NotStarted => {
                let p = self.prepare(status, reason, headers, complete, count)?;
                self.will_close = p.close;
                self.length = p.length.map(|n| (n, n));
                // From here on the head counts as sent: a failure closes the connection.
                self.resp = ResponseState::Streaming { chunked: p.chunked, no_body: p.no_body };
                (Some(p.head), p.chunked, p.no_body)
            }
            ResponseState::Streaming { chunked, no_body } => (None, chunked, no_body),
            ResponseState::Complete => return Err(state_error("response is complete")),
        };
        let (count, over) = if no_body { (count, false) } else { self.admit(count) };
        let body = !no_body && count > 0;
        let size_line =
            if body && chunked { response::chunk_header(count as usize) } else { Vec::new() };
        let mut prefix: Vec<&[u8]> = Vec::with_capacity(4);
        if let Some(h) = &head {
            prefix.push(h);
        }
        prefix.push(&size_line);
        let tail: &[u8] = if body && chunked { b"\r\n" } else { b"" };
        if !body {
            self.send(py, fd, &prefix)?;
        } else if count <= SMALL_FILE {
            let data = match sys::pread_exact(file_fd, offset, count as usize) {
                Ok(d) => d,
                Err(e) => return Err(self.broken(e.into())),
            };
            prefix.extend([&data[..], tail]);
            self.send(py, fd, &prefix)?;
        } else if self.session().is_some() {
            // sendfile(2) cannot encrypt: the file is copied through the session.
            self.send(py, fd, &prefix)?;
            let timeout = self.limits.timeout;
            let r = match self.session() {
                Some(s) => tls::copy_file_blocking(py, s, fd, file_fd, offset, count, timeout),
                None => Err(conn_gone()),
            };
            if let Err(e) = r {
                return Err(self.broken(e));
            }
            if !tail.is_empty() {
                self.send(py, fd, &[tail])?;
            }
        } else {
            if prefix.iter().any(|p| !p.is_empty()) {
                let r = write_blocking_more(py, fd, &prefix, self.limits.timeout);
                if let Err(e) = r {
                    return Err(self.broken(e));
                }
            }
            if let Err(e) = sendfile_blocking(py, fd, file_fd, offset, count, self.limits.timeout) {
                return Err(self.broken(e));
            }
            if !tail.is_empty() {
                self.send(py, fd, &[tail])?;
            }
        }
        let sent = if body { count } else { 0 };
        self.bytes_sent += sent;
        if over {
            return Err(self.too_long());
        }
        if complete {
            self.resp = ResponseState::Complete;
            self.finish(py)?;
        }
        Ok(sent)
    }

    /// The connection's peer, as `remote_addr` gives it.
    pub(crate) fn peer(&self) -> std::net::SocketAddr {
        self.remote
    }

    /// The parsed head (method, target, headers).
    pub(crate) fn parsed_head(&self) -> &Head {
        &self.head
    }

    /// Epoch seconds when the head was complete (`request_time`).
    pub(crate) fn arrival(&self) -> f64 {
        self.request_time
    }

    /// Body bytes written so far (`bytes_sent`).
    pub(crate) fn bytes_sent_so_far(&self) -> u64 {
        self.bytes_sent
    }
}

#[pymethods]
impl RawRequest {
    #[getter]
    fn method(&self) -> &str {
        self.head.method()
    }
    /// The request-target exactly as received (origin-form, with query).
    #[getter]
    fn target(&self) -> &str {
        self.head.target()
    }
    /// 'HTTP/1.1' or 'HTTP/1.0'.
    #[getter]
    fn protocol(&self) -> &'static str {
        if self.head.proto_num == 1000 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
    }
    /// 1001 or 1000.
    #[getter]
    fn proto_num(&self) -> u16 {
        self.head.proto_num
    }
    /// The request line without CRLF.
    #[getter]
    fn the_request(&self) -> &str {
        self.head.request_line()
    }
    /// (name, value) pairs in arrival order, names as sent; built on first access.
    #[getter]
    fn headers<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        if let Some(l) = &self.headers_cache {
            return Ok(l.bind(py).clone());
        }
        let items: PyResult<Vec<Bound<'py, PyTuple>>> = self
            .head
            .headers
            .iter()
            .map(|(n, v)| {
                PyTuple::new(py, [latin1_str(self.head.bytes(n)), latin1_str(self.head.bytes(v))])
            })
            .collect();
        let list = PyList::new(py, items?)?;
        self.headers_cache = Some(list.clone().unbind());
        Ok(list)
    }
    #[getter]
    fn remote_addr<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        address_tuple(py, &mut self.remote_cache, self.remote)
    }
    #[getter]
    fn local_addr<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        address_tuple(py, &mut self.local_cache, self.local)
    }
    /// (protocol, cipher suite, SNI name or None) of a TLS connection; None for plain HTTP.
    #[getter]
    fn tls(&self) -> Option<(String, String, Option<String>)> {
        self.tls.clone()
    }
    /// (SSL_CLIENT_VERIFY, the client's certificate chain in DER, its own first, the depth
    /// of the verified path or None) of a TLS connection; None for plain HTTP.
    #[getter]
    fn tls_client<'py>(&mut self, py: Python<'py>) -> Option<ClientCert<'py>> {
        let ((verdict, depth), chain) = self.session()?.client();
        Some((verdict, chain.iter().map(|der| PyBytes::new(py, der)).collect(), depth))
    }
    /// Whether the TLS handshake resumed a session (None for plain HTTP).
    #[getter]
    fn tls_resumed(&mut self) -> Option<bool> {
        self.session().map(|s| s.resumed())
    }
    /// 1 for the first request on this connection, 2 for the next, ...
    #[getter]
    fn keepalive_count(&self) -> u32 {
        self.keepalive_count
    }
    /// Whether the client allows the connection to persist (version + Connection header).
    #[getter]
    fn client_keepalive(&self) -> bool {
        self.head.client_keepalive
    }
    #[getter]
    fn content_length(&self) -> Option<u64> {
        self.head.content_length()
    }
    #[getter]
    fn chunked(&self) -> bool {
        self.head.framing == Framing::Chunked
    }
    #[getter]
    fn expect_continue(&self) -> bool {
        self.head.expect_continue
    }
    /// Epoch seconds when the head was complete.
    #[getter]
    fn request_time(&self) -> f64 {
        self.request_time
    }
    /// Body bytes written so far (not counting headers or chunk framing).
    #[getter]
    fn bytes_sent(&self) -> u64 {
        self.bytes_sent
    }
    /// Body bytes the response's Content-Length declared but the handler never sent
    /// (the connection was closed instead of padding); 0 once a response finished whole.
    #[getter]
    fn unsent_length(&self) -> u64 {
        self.unsent_length
    }
    #[getter]
    fn headers_sent(&self) -> bool {
        self.resp != ResponseState::NotStarted
    }
    /// Whether the connection stays open after this response, as decided when its head
    /// went out (None before): httpd's conn->keepalive after ap_set_keepalive.
    #[getter]
    fn keeps_alive(&self) -> Option<bool> {
        (self.resp != ResponseState::NotStarted).then_some(!self.will_close)
    }

    /// First value of a header, case-insensitive, without building `headers`.
    fn header(&self, name: &str) -> Option<String> {
        self.head.header(name.as_bytes()).map(latin1_str)
    }

    /// Up to `size` decoded body bytes (-1: all remaining). Sends `100 Continue`
    /// first if the client expects it. Raises OSError on timeout or a lost client,
    /// and ValueError subclasses of BadRequestError on bad chunked framing.
    #[pyo3(signature = (size = -1), text_signature = "($self, size=-1)")]
    fn read_body<'py>(&mut self, py: Python<'py>, size: i64) -> PyResult<Bound<'py, PyBytes>> {
        if self.finished {
            return Err(state_error("request is finished"));
        }
        let want = if size < 0 { usize::MAX } else { usize::try_from(size).unwrap_or(usize::MAX) };
        if want == 0 {
            return Ok(PyBytes::new(py, b""));
        }
        let r = match &self.body {
            Body::Done => Ok(Vec::new()),
            Body::Length(rem) => self.read_length(py, *rem, want),
            Body::Chunked(_) => self.read_chunked(py, want),
        };
        match r {
            Ok(v) => Ok(PyBytes::new(py, &v)),
            Err(e) => {
                // The body is now in an unknown state: this connection cannot be reused.
                self.will_close = true;
                Err(e)
            }
        }
    }

    /// Write the status line and headers (Date, Server and framing are added by
    /// the engine) and `body`. With complete=True the response is whole: it gets
    /// Content-Length (no body for HEAD, 1xx, 204, 304) and the request is finished.
    /// With complete=False more body follows through `write`: delimited by the
    /// Content-Length in `headers` if there is one (enforced: bytes past it raise
    /// ValueError after what fitted, and the connection closes; a shorter body closes it
    /// at finish, see `unsent_length`), else chunked for HTTP/1.1 and close-delimited for
    /// HTTP/1.0. Raises ValueError for header names or values
    /// with control characters (response splitting), OSError if the client is gone.
    fn send_response(
        &mut self,
        py: Python<'_>,
        status: i64,
        reason: Option<&str>,
        headers: Vec<(String, String)>,
        body: PyBackedBytes,
        complete: bool,
    ) -> PyResult<()> {
        let p = self.prepare(status, reason, &headers, complete, body.len() as u64)?;
        let fd = self.fd()?;
        self.length = p.length.map(|n| (n, n));
        let (admitted, over) = self.admit(body.len() as u64);
        let body = &body[..admitted as usize];
        let send_body = !p.no_body && !body.is_empty();
        let size_line = response::chunk_header(body.len());
        let mut parts: Vec<&[u8]> = vec![&p.head];
        if send_body {
            if p.chunked {
                parts.extend([&size_line[..], body, b"\r\n"]);
            } else {
                parts.push(body);
            }
        }
        self.will_close = p.close;
        // A complete response on a closing connection is followed by the close itself
        // (`started` -> `finish`).
        self.send_with(py, fd, &parts, complete && p.close)?;
        if send_body {
            self.bytes_sent += body.len() as u64;
        }
        self.started(py, p, complete)?;
        if over {
            return Err(self.too_long());
        }
        Ok(())
    }

    /// Send `count` bytes of a file from `offset` (count < 0: to its end; clamped to the
    /// file's size) as body, with sendfile(2) and the GIL released. `file` is an open
    /// descriptor (its position is not used or moved) or a path. If the response has not
    /// started, the head goes first (`status`, `reason`, `headers` as for send_response);
    /// with complete=True the file is the whole body: Content-Length, then the request is
    /// finished. Otherwise the file is one more piece of a streamed body. Returns the
    /// number of body bytes sent (0 for HEAD, 204, 304). OSError if the file cannot be
    /// read or ends early (the connection is then closed) or the client is gone.
    #[pyo3(
        signature = (file, offset = 0, count = -1, *, status = 200, reason = None, headers = None, complete = false),
        text_signature = "($self, file, offset=0, count=-1, *, status=200, reason=None, headers=None, complete=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn send_file(
        &mut self,
        py: Python<'_>,
        file: FileArg,
        offset: u64,
        count: i64,
        status: i64,
        reason: Option<&str>,
        headers: Option<Vec<(String, String)>>,
        complete: bool,
    ) -> PyResult<u64> {
        if self.finished {
            return Err(state_error("request is finished"));
        }
        if complete && self.resp != ResponseState::NotStarted {
            return Err(state_error("response already started"));
        }
        let owned;
        let file_fd = match file {
            FileArg::Fd(fd) => fd,
            FileArg::Path(path) => {
                owned = open_read(&path)?;
                owned.as_raw_fd()
            }
        };
        let size = file_size(file_fd)?;
        let avail = size.saturating_sub(offset);
        let count = if count < 0 { avail } else { (count as u64).min(avail) };
        self.send_file_body(
            py,
            file_fd,
            offset,
            count,
            status,
            reason,
            &headers.unwrap_or_default(),
            complete,
        )
    }

    /// Send more body after send_response(complete=False).
    fn write(&mut self, py: Python<'_>, data: PyBackedBytes) -> PyResult<()> {
        if self.finished {
            return Err(state_error("request is finished"));
        }
        let (chunked, no_body) = match self.resp {
            ResponseState::NotStarted => {
                return Err(state_error("send_response() must come first"))
            }
            ResponseState::Complete => return Err(state_error("response is complete")),
            ResponseState::Streaming { chunked, no_body } => (chunked, no_body),
        };
        let fd = self.fd()?;
        if no_body || data.is_empty() {
            return Ok(());
        }
        let (admitted, over) = self.admit(data.len() as u64);
        let data = &data[..admitted as usize];
        if chunked && !data.is_empty() {
            let size_line = response::chunk_header(data.len());
            self.send(py, fd, &[&size_line, data, b"\r\n"])?;
        } else if !data.is_empty() {
            self.send(py, fd, &[data])?;
        }
        self.bytes_sent += data.len() as u64;
        if over {
            return Err(self.too_long());
        }
        Ok(())
    }

    /// End the response (last chunk) and give the connection back to the engine:
    /// drained and kept alive when allowed, else closed. Idempotent.
    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if !self.loan.is_open() {
            return Ok(());
        }
        match self.resp {
            ResponseState::NotStarted => {
                // Nothing was answered: the connection cannot carry another request.
                self.loan.close_gracefully();
                return Ok(());
            }
            ResponseState::Streaming { chunked: true, no_body: false } => {
                let fd = self.fd()?;
                self.send(py, fd, &[b"0\r\n\r\n"])?;
            }
            _ => {}
        }
        if let Some((_, left @ 1..)) = self.length {
            // Shorter than its Content-Length: never padded; closing tells the client the
            // body is incomplete (`unsent_length` lets the caller log it).
            self.unsent_length = left;
            self.will_close = true;
        }
        if self.will_close || self.loan.draining() {
            self.end_connection();
            return Ok(());
        }
        self.drain_buffered();
        match self.body.after_finish() {
            Some(phase) if !self.will_close => self.loan.give_back(phase),
            _ => self.end_connection(),
        }
        Ok(())
    }

    /// Close the connection without finishing the response.
    fn abort(&mut self) {
        self.finished = true;
        self.will_close = true;
        self.loan.close();
    }

    fn __repr__(&self) -> String {
        format!("<RawRequest {:?}>", self.head.request_line())
    }
}

/// `(ip, port)` for `addr`, built once and kept in `cache` (the getters are read several
/// times per request: scoreboard, routing, access log).
fn address_tuple<'py>(
    py: Python<'py>,
    cache: &mut Option<Py<PyTuple>>,
    addr: std::net::SocketAddr,
) -> PyResult<Bound<'py, PyTuple>> {
    if let Some(t) = cache {
        return Ok(t.bind(py).clone());
    }
    let t = (addr.ip().to_string(), addr.port()).into_pyobject(py)?;
    *cache = Some(t.clone().unbind());
    Ok(t)
}
