//! Small Python-facing types and functions around the pure parsers: `Limits` (the numbers
//! the engine enforces, read from the config's dataclass), `ParsedHead` with `parse_head`, `decode_chunked` and `http_date`.
//! They let Python tests run the very parser the engine uses (differential tests).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::chunked::decode_chunked_all;
use crate::conn::{ConnLimits, ReadTimeout};
use crate::errors::bad_request;
use crate::parse::{self, Framing, HeadLimits};
use crate::response;

/// The numbers the engine enforces, read by attribute from the config's `Limits` dataclass
/// (prefork_modpy/config/server.py), which is their one definition, defaults included.
#[derive(FromPyObject, Debug, Clone)]
pub struct Limits {
    pub request_line: usize,
    pub field_size: usize,
    pub fields: usize,
    pub body: u64,
    pub preread_body: u64,
    pub timeout: f64,
    pub keepalive_timeout: f64,
    pub header_timeout: f64,
    pub header_timeout_max: f64,
    pub header_min_rate: u32,
    pub body_timeout: f64,
    pub body_timeout_max: f64,
    pub body_min_rate: u32,
    /// -- TLS -- RequestReadTimeout's handshake stage (0: none; the first-byte deadline
    /// then covers the handshake).
    pub handshake_timeout: f64,
    pub handshake_timeout_max: f64,
    pub handshake_min_rate: u32,
    pub max_keepalive_requests: u32,
    pub keepalive: bool,
}

/// Test fixture (httpd's defaults); the server's limits come from the config dataclass.
#[cfg(test)]
impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_line: 8190,
            field_size: 8190,
            fields: 100,
            body: 0,
            preread_body: 65536,
            timeout: 60.0,
            keepalive_timeout: 5.0,
            header_timeout: 20.0,
            header_timeout_max: 40.0,
            header_min_rate: 500,
            body_timeout: 20.0,
            body_timeout_max: 0.0,
            body_min_rate: 500,
            handshake_timeout: 0.0,
            handshake_timeout_max: 0.0,
            handshake_min_rate: 0,
            max_keepalive_requests: 100,
            keepalive: true,
        }
    }
}

impl Limits {
    pub fn conn_limits(&self) -> ConnLimits {
        ConnLimits {
            head: self.head_limits(),
            header: self.header_read_timeout(),
            body: self.body_read_timeout(),
            handshake: ReadTimeout {
                initial: self.handshake_timeout,
                max: self.handshake_timeout_max,
                min_rate: self.handshake_min_rate,
            },
            keepalive_timeout: self.keepalive_timeout,
            timeout: self.timeout,
            preread_body: self.preread_body,
        }
    }

    pub fn header_read_timeout(&self) -> ReadTimeout {
        ReadTimeout {
            initial: self.header_timeout,
            max: self.header_timeout_max,
            min_rate: self.header_min_rate,
        }
    }

    pub fn body_read_timeout(&self) -> ReadTimeout {
        ReadTimeout {
            initial: self.body_timeout,
            max: self.body_timeout_max,
            min_rate: self.body_min_rate,
        }
    }

    pub fn head_limits(&self) -> HeadLimits {
        HeadLimits {
            request_line: self.request_line,
            field_size: self.field_size,
            fields: self.fields,
            body: self.body,
        }
    }
}

/// What the engine's parser decided about one request head (for tests and tools).
#[pyclass(module = "prefork_modpy._core", frozen)]
pub struct ParsedHead {
    head: parse::Head,
}

#[pymethods]
impl ParsedHead {
    #[getter]
    fn method(&self) -> &str {
        self.head.method()
    }
    #[getter]
    fn target(&self) -> &str {
        self.head.target()
    }
    #[getter]
    fn proto_num(&self) -> u16 {
        self.head.proto_num
    }
    /// (name, value) byte pairs in arrival order, values with OWS trimmed.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.head.headers.iter().map(|(n, v)| {
            PyTuple::new(
                py,
                [PyBytes::new(py, self.head.bytes(n)), PyBytes::new(py, self.head.bytes(v))],
            )
        });
        let items: PyResult<Vec<_>> = items.collect();
        PyList::new(py, items?)
    }
    /// Bytes consumed by the head including the final CRLF CRLF.
    #[getter]
    fn head_len(&self) -> usize {
        self.head.head_len
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
    fn client_keepalive(&self) -> bool {
        self.head.client_keepalive
    }
    #[getter]
    fn expect_continue(&self) -> bool {
        self.head.expect_continue
    }
    fn __repr__(&self) -> String {
        format!(
            "<ParsedHead {} {} {}>",
            self.head.method(),
            self.head.target(),
            self.head.proto_num
        )
    }
}

/// The four fields of the config's `Limits` that a head needs: `parse_head` reads only
/// these (a timing loop over `parse_head` should time the parser, not 15 getattr calls).
#[derive(FromPyObject)]
pub struct HeadLimitsOf {
    request_line: usize,
    field_size: usize,
    fields: usize,
    body: u64,
}

/// Run the engine's head parser and framing checks on `data` under `limits`. Returns None if the
/// head is incomplete; raises BadRequestError (with `.status`) where the engine would
/// refuse the request.
#[pyfunction]
pub fn parse_head(
    py: Python<'_>,
    data: &[u8],
    limits: HeadLimitsOf,
) -> PyResult<Option<ParsedHead>> {
    let limits = HeadLimits {
        request_line: limits.request_line,
        field_size: limits.field_size,
        fields: limits.fields,
        body: limits.body,
    };
    match parse::parse_head(data, &limits) {
        Ok(Some(head)) => Ok(Some(ParsedHead { head })),
        Ok(None) => Ok(None),
        Err(e) => Err(bad_request(py, e)),
    }
}

/// Decode a complete chunked body (with trailers) at the start of `data`; returns
/// (body, bytes consumed). Raises BadRequestError on bad framing or if the body is
/// over `limit` (0 = no limit; status 413). Incomplete input raises with status 400.
#[pyfunction]
#[pyo3(signature = (data, limit = 0))]
pub fn decode_chunked<'py>(
    py: Python<'py>,
    data: &[u8],
    limit: u64,
) -> PyResult<(Bound<'py, PyBytes>, usize)> {
    match decode_chunked_all(data, limit) {
        Ok((body, n)) => Ok((PyBytes::new(py, &body), n)),
        Err(e) => Err(bad_request(py, e)),
    }
}

/// IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'.
#[pyfunction]
pub fn http_date(epoch: f64) -> String {
    let secs = if epoch.is_finite() { epoch.floor().clamp(-1e15, 1e15) as i64 } else { 0 };
    response::http_date(secs)
}

/// openat2(2) for the default handler's inside-the-root check (httpd/servable.py): a new
/// descriptor, or OSError with the call's errno. Local files: the GIL stays held.
#[pyfunction]
pub fn openat2(dir_fd: i32, path: std::path::PathBuf, flags: u64, resolve: u64) -> PyResult<i32> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| pyo3::exceptions::PyValueError::new_err("embedded NUL in path"))?;
    crate::sys::openat2(dir_fd, &c_path, flags, resolve).map_err(|e| {
        // OSError(errno, strerror): PyO3's own conversion leaves `errno` None.
        let code = e.raw_os_error().unwrap_or(0);
        pyo3::exceptions::PyOSError::new_err((code, e.to_string()))
    })
}
