//! `RawConnection`: a client connection handed to Python whole, for mod_python's
//! `PythonConnectionHandler` (httpd's process_connection hook): the engine reads and parses
//! nothing on it. Which connections: `RawAddresses`, the table the `Engine` is given, by the
//! local address a connection was accepted on (an exact address first, then the port's
//! wildcard, as httpd picks a connection's base server). Reads and writes block (GIL
//! released) with `Timeout` bounding each stall; dropping the object closes the connection.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::conn::{after, Loan};
use crate::errors::{conn_gone, read_timeout};
use crate::pyio::write_blocking;
use crate::sys::{self, ReadOutcome};

const SLICE: Duration = Duration::from_secs(1);
const READ_CHUNK: usize = 64 * 1024;

/// Local addresses whose connections go to Python raw: `(ip or None for any, port, raw)`.
#[derive(Default)]
pub struct RawAddresses {
    entries: Vec<(Option<IpAddr>, u16, bool)>,
}

impl RawAddresses {
    /// From Python's `[(ip or "", port, raw), ...]`.
    pub fn parse(entries: Vec<(String, u16, bool)>) -> PyResult<Self> {
        let mut out = Vec::with_capacity(entries.len());
        for (ip, port, raw) in entries {
            let ip = if ip.is_empty() {
                None
            } else {
                Some(ip.parse::<IpAddr>().map_err(|e| {
                    pyo3::exceptions::PyValueError::new_err(format!("raw connection {ip}: {e}"))
                })?)
            };
            out.push((ip, port, raw));
        }
        Ok(RawAddresses { entries: out })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a connection accepted on `local` is handed over raw: the entry for its exact
    /// address if any, else the one for its port on any address.
    pub fn wants(&self, local: &SocketAddr) -> bool {
        let (ip, port) = (local.ip().to_canonical(), local.port());
        let exact = self.entries.iter().find(|e| e.0 == Some(ip) && e.1 == port);
        let any = || self.entries.iter().find(|e| e.0.is_none() && e.1 == port);
        exact.or_else(any).is_some_and(|e| e.2)
    }
}

/// A client connection given to a Python connection handler.
#[pyclass(module = "prefork_modpy._core")]
pub struct RawConnection {
    loan: Loan,
    remote: SocketAddr,
    local: SocketAddr,
    timeout: f64,
}

impl RawConnection {
    pub fn new(mut loan: Loan, timeout: f64) -> Self {
        let unknown = SocketAddr::from(([0, 0, 0, 0], 0));
        let (remote, local) = loan.get().map_or((unknown, unknown), |c| (c.peer, c.local));
        RawConnection { loan, remote, local, timeout }
    }

    /// One blocking read into the connection's buffer; false at the end of the stream.
    fn fill(&mut self, py: Python<'_>) -> PyResult<bool> {
        let deadline = after(Instant::now(), self.timeout);
        let c = self.loan.get().ok_or_else(conn_gone)?;
        let fd = c.fd;
        loop {
            let until = deadline.min(Instant::now() + SLICE);
            let buf = &mut c.buf;
            match py.detach(|| sys::read_until(fd, buf, READ_CHUNK, until)) {
                Ok(ReadOutcome::Data(_)) => return Ok(true),
                Ok(ReadOutcome::Eof) => return Ok(false),
                Ok(ReadOutcome::Waiting) => {
                    py.check_signals()?;
                    if Instant::now() >= deadline {
                        return Err(read_timeout());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => py.check_signals()?,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn buffered(&mut self) -> usize {
        self.loan.get().map_or(0, |c| c.buf.len())
    }

    fn take<'py>(&mut self, py: Python<'py>, n: usize) -> Bound<'py, PyBytes> {
        match self.loan.get() {
            Some(c) => {
                let n = n.min(c.buf.len());
                let out = PyBytes::new(py, &c.buf[..n]);
                c.buf.drain(..n);
                out
            }
            None => PyBytes::new(py, b""),
        }
    }
}

fn addr_tuple<'py>(py: Python<'py>, a: &SocketAddr) -> PyResult<Bound<'py, PyTuple>> {
    (a.ip().to_canonical().to_string(), a.port()).into_pyobject(py)
}

#[pymethods]
impl RawConnection {
    #[getter]
    fn remote_addr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        addr_tuple(py, &self.remote)
    }
    #[getter]
    fn local_addr<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        addr_tuple(py, &self.local)
    }

    /// mod_python's conn.read: up to `length` bytes, blocking until at least one arrives
    /// (0: what one read brings); -1 reads until the client closes. b"" at the end.
    #[pyo3(signature = (length = 0))]
    fn read<'py>(&mut self, py: Python<'py>, length: i64) -> PyResult<Bound<'py, PyBytes>> {
        if length < 0 {
            while self.fill(py)? {}
            return Ok(self.take(py, usize::MAX));
        }
        if self.buffered() == 0 {
            self.fill(py)?;
        }
        let want = if length == 0 { READ_CHUNK } else { length as usize };
        Ok(self.take(py, want))
    }

    /// mod_python's conn.readline: up to and including b"\n" (or `length` bytes, or what
    /// came before the client closed).
    #[pyo3(signature = (length = 0))]
    fn readline<'py>(&mut self, py: Python<'py>, length: i64) -> PyResult<Bound<'py, PyBytes>> {
        let limit = if length > 0 { length as usize } else { usize::MAX };
        loop {
            let (end, have) = match self.loan.get() {
                Some(c) => (c.buf.iter().position(|&b| b == b'\n'), c.buf.len()),
                None => return Ok(PyBytes::new(py, b"")),
            };
            if let Some(i) = end {
                return Ok(self.take(py, (i + 1).min(limit)));
            }
            if have >= limit || !self.fill(py)? {
                return Ok(self.take(py, limit));
            }
        }
    }

    /// mod_python's conn.write: bytes, or str sent as UTF-8.
    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes: Vec<u8> = if let Ok(s) = data.cast::<PyString>() {
            s.to_cow()?.as_bytes().to_vec()
        } else if let Ok(b) = data.extract::<PyBackedBytes>() {
            b.to_vec()
        } else {
            return Err(PyTypeError::new_err("conn.write() takes str or bytes"));
        };
        let fd = self.loan.get().map(|c| c.fd).ok_or_else(conn_gone)?;
        let r = write_blocking(py, fd, &[&bytes], self.timeout);
        if r.is_err() {
            self.loan.close();
        }
        r
    }

    /// Close the connection (also done when the object goes away).
    fn close(&mut self) {
        self.loan.close();
    }
}

#[cfg(test)]
mod tests {
    use super::RawAddresses;

    fn table(entries: &[(&str, u16, bool)]) -> RawAddresses {
        RawAddresses::parse(
            entries.iter().map(|&(ip, port, raw)| (ip.to_string(), port, raw)).collect(),
        )
        .unwrap()
    }

    #[test]
    fn exact_address_wins_over_the_ports_wildcard() {
        let t = table(&[("127.0.0.1", 8080, true), ("", 8080, false), ("", 9090, true)]);
        assert!(t.wants(&"127.0.0.1:8080".parse().unwrap()));
        assert!(!t.wants(&"127.0.0.2:8080".parse().unwrap()));
        assert!(t.wants(&"10.0.0.1:9090".parse().unwrap()));
        assert!(!t.wants(&"127.0.0.1:7070".parse().unwrap()));
        // an IPv4 connection on a dual-stack socket arrives as ::ffff:a.b.c.d
        assert!(t.wants(&"[::ffff:127.0.0.1]:8080".parse().unwrap()));
    }

    #[test]
    fn a_bad_address_is_refused() {
        assert!(RawAddresses::parse(vec![("nonsense".to_string(), 1, true)]).is_err());
    }
}
