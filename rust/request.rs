//! `RawRequest`: one parsed request handed to Python, holding its connection on loan.
//! Reads the body on demand (Content-Length or chunked, `100 Continue` first when the
//! client expects it), writes the response (validated headers, engine-owned Date / Server /
//! framing / Connection), and at `finish` gives the connection back to the engine kept
//! alive (unread small bodies are discarded there) or closes it. Every wait is a poll(2) in
//! slices of at most a second with the GIL released; signals are checked between slices.

use std::os::fd::RawFd;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::body::Body;
use crate::conn::Loan;
use crate::errors::{bad_request, conn_gone, state_error};
use crate::parse::{parse_decimal, Framing, Head};
use crate::pyapi::Limits;
use crate::pyio::{latin1_bytes, latin1_str, read_blocking, write_blocking};
use crate::response::{self, BodyFraming, ConnHeader};

const READ_CHUNK: usize = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Resp {
    NotStarted,
    Streaming { chunked: bool, no_body: bool },
    Complete,
}

/// A parsed request head plus the means to read its body and answer it.
#[pyclass(module = "prefork_modpy._core")]
pub struct RawRequest {
    loan: Loan,
    head: Head,
    limits: Limits,
    remote: (String, u16),
    local: (String, u16),
    keepalive_count: u32,
    request_time: f64,
    headers_cache: Option<Py<PyList>>,
    body: Body,
    continue_sent: bool,
    resp: Resp,
    will_close: bool,
    bytes_sent: u64,
    finished: bool,
}

impl RawRequest {
    pub fn new(mut loan: Loan, head: Head, limits: Limits) -> Self {
        let (remote, local, count, time) = match loan.get() {
            Some(c) => (
                (c.peer.ip().to_string(), c.peer.port()),
                (c.local.ip().to_string(), c.local.port()),
                c.served,
                c.head_time,
            ),
            None => ((String::new(), 0), (String::new(), 0), 0, 0.0),
        };
        let body = Body::new(head.framing, limits.body);
        RawRequest {
            loan,
            head,
            limits,
            remote,
            local,
            keepalive_count: count,
            request_time: time,
            headers_cache: None,
            body,
            continue_sent: false,
            resp: Resp::NotStarted,
            will_close: false,
            bytes_sent: 0,
            finished: false,
        }
    }

    fn fd(&mut self) -> PyResult<RawFd> {
        self.loan.get().map(|c| c.fd).ok_or_else(conn_gone)
    }

    /// Send `100 Continue` before the first socket read of the body, if expected.
    fn maybe_continue(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.head.expect_continue && !self.continue_sent && self.resp == Resp::NotStarted {
            self.continue_sent = true;
            let fd = self.fd()?;
            self.send(py, fd, &[b"HTTP/1.1 100 Continue\r\n\r\n"])?;
        }
        Ok(())
    }

    /// Write; on failure the connection is dead and closed.
    fn send(&mut self, py: Python<'_>, fd: RawFd, parts: &[&[u8]]) -> PyResult<()> {
        let r = write_blocking(py, fd, parts, self.limits.timeout);
        if r.is_err() {
            self.will_close = true;
            self.loan.close();
        }
        r
    }

    fn read_length(&mut self, py: Python<'_>, rem: u64, want: usize) -> PyResult<Vec<u8>> {
        let want = usize::try_from(rem).unwrap_or(usize::MAX).min(want);
        let mut out = Vec::with_capacity(want.min(1 << 20));
        if let Some(c) = self.loan.get() {
            let take = want.min(c.buf.len());
            out.extend(c.buf.drain(..take));
        }
        while out.len() < want {
            self.maybe_continue(py)?;
            let fd = self.fd()?;
            let max = (want - out.len()).min(1 << 20);
            read_blocking(py, fd, &mut out, max, self.limits.timeout)?;
        }
        let left = rem - out.len() as u64;
        self.body = if left == 0 { Body::Done } else { Body::Length(left) };
        Ok(out)
    }

    fn read_chunked(&mut self, py: Python<'_>, want: usize) -> PyResult<Vec<u8>> {
        let mut out = Vec::new();
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
            self.maybe_continue(py)?;
            let c = self.loan.get().ok_or_else(conn_gone)?;
            let fd = c.fd;
            read_blocking(py, fd, &mut c.buf, READ_CHUNK, self.limits.timeout)?;
        }
    }

    /// Consume body bytes already buffered, without blocking.
    fn drain_buffered(&mut self) {
        if let Some(c) = self.loan.get() {
            if self.body.drain_buffered(&mut c.buf).is_err() {
                self.will_close = true;
            }
        }
    }

    fn body_blocks_keepalive(&mut self) -> bool {
        let expect_pending = self.head.expect_continue && !self.continue_sent;
        match self.loan.get() {
            Some(c) => self.body.blocks_keepalive(&c.buf, expect_pending),
            None => true,
        }
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
    fn remote_addr(&self) -> (String, u16) {
        self.remote.clone()
    }
    #[getter]
    fn local_addr(&self) -> (String, u16) {
        self.local.clone()
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
    #[getter]
    fn headers_sent(&self) -> bool {
        self.resp != Resp::NotStarted
    }

    /// First value of a header, case-insensitive, without building `headers`.
    fn header(&self, name: &str) -> Option<String> {
        self.head.header(name.as_bytes()).map(latin1_str)
    }

    /// Up to `size` decoded body bytes (-1: all remaining). Sends `100 Continue`
    /// first if the client expects it. Raises OSError on timeout or a lost client,
    /// and ValueError subclasses of BadRequestError on bad chunked framing.
    #[pyo3(signature = (size = -1))]
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
    /// With complete=False more body follows through `write`: chunked for HTTP/1.1,
    /// close-delimited for HTTP/1.0. Raises ValueError for header names or values
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
        if self.finished {
            return Err(state_error("request is finished"));
        }
        if self.resp != Resp::NotStarted {
            return Err(state_error("response already started"));
        }
        let status = u16::try_from(status)
            .ok()
            .filter(|s| (100..=999).contains(s))
            .ok_or_else(|| PyValueError::new_err(format!("invalid status {status}")))?;
        let reason = match reason {
            Some(r) => latin1_bytes(r, "reason")?,
            None => response::reason_phrase(status).as_bytes().to_vec(),
        };
        if !response::valid_reason(&reason) {
            return Err(PyValueError::new_err("control character in reason phrase"));
        }
        let mut out_headers = Vec::with_capacity(headers.len());
        let mut handler_cl: Option<u64> = None;
        let mut handler_close = false;
        for (n, v) in &headers {
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
        let fd = self.fd()?;
        let is_head = self.head.method() == "HEAD";
        let no_body = is_head || !response::status_has_body(status);
        let http11 = self.head.proto_num == 1001;
        let max = self.limits.max_keepalive_requests;
        let close = self.will_close
            || handler_close
            || !self.head.client_keepalive
            || !self.limits.keepalive
            || (max > 0 && self.keepalive_count >= max)
            || self.body_blocks_keepalive()
            || (!complete && !no_body && !http11);
        let framing = if no_body {
            match handler_cl {
                Some(n) if is_head || status == 304 => BodyFraming::Length(n),
                _ if is_head && complete && response::status_has_body(status) => {
                    BodyFraming::Length(body.len() as u64)
                }
                _ => BodyFraming::NoBody,
            }
        } else if complete {
            BodyFraming::Length(body.len() as u64)
        } else if http11 {
            BodyFraming::Chunked
        } else {
            BodyFraming::CloseDelimited
        };
        let conn_header = if close {
            ConnHeader::Close
        } else if !http11 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::None
        };
        let head = response::serialize_head(status, &reason, &out_headers, framing, conn_header);
        let chunked = framing == BodyFraming::Chunked;
        let send_body = !no_body && !body.is_empty();
        let size_line = response::chunk_header(body.len());
        let mut parts: Vec<&[u8]> = vec![&head];
        if send_body {
            if chunked {
                parts.extend([&size_line[..], &body[..], b"\r\n"]);
            } else {
                parts.push(&body);
            }
        }
        self.will_close = close;
        self.send(py, fd, &parts)?;
        if send_body {
            self.bytes_sent += body.len() as u64;
        }
        if complete {
            self.resp = Resp::Complete;
            self.finish(py)
        } else {
            self.resp = Resp::Streaming { chunked, no_body };
            Ok(())
        }
    }

    /// Send more body after send_response(complete=False).
    fn write(&mut self, py: Python<'_>, data: PyBackedBytes) -> PyResult<()> {
        if self.finished {
            return Err(state_error("request is finished"));
        }
        let (chunked, no_body) = match self.resp {
            Resp::NotStarted => return Err(state_error("send_response() must come first")),
            Resp::Complete => return Err(state_error("response is complete")),
            Resp::Streaming { chunked, no_body } => (chunked, no_body),
        };
        let fd = self.fd()?;
        if no_body || data.is_empty() {
            return Ok(());
        }
        if chunked {
            let size_line = response::chunk_header(data.len());
            self.send(py, fd, &[&size_line, &data, b"\r\n"])?;
        } else {
            self.send(py, fd, &[&data])?;
        }
        self.bytes_sent += data.len() as u64;
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
            Resp::NotStarted => {
                // Nothing was answered: the connection cannot carry another request.
                self.loan.close_gracefully();
                return Ok(());
            }
            Resp::Streaming { chunked: true, no_body: false } => {
                let fd = self.fd()?;
                self.send(py, fd, &[b"0\r\n\r\n"])?;
            }
            _ => {}
        }
        if self.will_close {
            self.loan.close_gracefully();
            return Ok(());
        }
        self.drain_buffered();
        match self.body.after_finish() {
            Some(phase) if !self.will_close => self.loan.give_back(phase),
            _ => self.loan.close_gracefully(),
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
