//! Blocking socket I/O for a request, as Python sees it (reads, writes, sendfile(2)): each
//! wait is a poll(2) slice of at most one second run with the GIL released (`py.detach`); between slices, and on EINTR,
//! Python's signal handlers run (`py.check_signals`) and may raise. Timeouts become
//! `TimeoutError` (an OSError), a lost client `OSError`. Also latin-1 conversions for
//! header text.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use crate::conn::after;
use crate::errors::{read_timeout, write_timeout};
use crate::sys::{self, ReadOutcome};

const SLICE: Duration = Duration::from_secs(1);

pub fn latin1_str(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

pub fn latin1_bytes(s: &str, what: &str) -> PyResult<Vec<u8>> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| PyValueError::new_err(format!("{what} is not latin-1: {s:?}")))
}

/// Block (GIL released, in slices) until some bytes are read into `buf`: at most
/// `timeout` seconds, and never past `hard` (the body's RequestReadTimeout clock).
pub fn read_blocking(
    py: Python<'_>,
    fd: RawFd,
    buf: &mut Vec<u8>,
    max: usize,
    timeout: f64,
    hard: Instant,
) -> PyResult<usize> {
    read_blocking_with(py, timeout, hard, |until| sys::read_until(fd, buf, max, until))
}

/// `read_blocking` over any read `step` (a plain socket, or a TLS session in tls.rs).
pub fn read_blocking_with<F>(
    py: Python<'_>,
    timeout: f64,
    hard: Instant,
    mut step: F,
) -> PyResult<usize>
where
    F: FnMut(Instant) -> io::Result<ReadOutcome> + Send,
{
    let deadline = after(Instant::now(), timeout).min(hard);
    loop {
        let until = deadline.min(Instant::now() + SLICE);
        match py.detach(|| step(until)) {
            Ok(ReadOutcome::Data(n)) => return Ok(n),
            Ok(ReadOutcome::Eof) => {
                return Err(PyOSError::new_err(
                    "client closed the connection before the body was complete",
                ))
            }
            Ok(ReadOutcome::Waiting) => {
                py.check_signals()?;
                if Instant::now() >= deadline {
                    return Err(read_timeout());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => py.check_signals()?,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Block (GIL released, in slices) until all of `parts` is written.
/// `timeout` bounds a stall (no byte accepted by the socket), not the whole transfer.
pub fn write_blocking(py: Python<'_>, fd: RawFd, parts: &[&[u8]], timeout: f64) -> PyResult<()> {
    write_blocking_flags(py, fd, parts, timeout, false)
}

/// `write_blocking` with MSG_MORE: more data (a sendfile body) follows at once.
pub fn write_blocking_more(
    py: Python<'_>,
    fd: RawFd,
    parts: &[&[u8]],
    timeout: f64,
) -> PyResult<()> {
    write_blocking_flags(py, fd, parts, timeout, true)
}

fn write_blocking_flags(
    py: Python<'_>,
    fd: RawFd,
    parts: &[&[u8]],
    timeout: f64,
    more: bool,
) -> PyResult<()> {
    let mut sent = 0usize;
    // Most responses fit in the socket's buffer: a first attempt with the GIL held saves
    // releasing and taking it back; only a write that has to wait waits without it.
    // (EINTR is left to `drive`, which checks signals.)
    match sys::write_nowait(fd, parts, &mut sent, more) {
        Ok(true) => return Ok(()),
        Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e.into()),
        _ => {}
    }
    drive(py, timeout, |until| {
        let before = sent;
        let r = sys::write_until(fd, parts, &mut sent, until, more);
        (r, sent > before)
    })
}

/// Block (GIL released, in slices) until `count` bytes of `file` from `offset` are sent
/// with sendfile(2). `timeout` bounds a stall, as for writes.
pub fn sendfile_blocking(
    py: Python<'_>,
    sock: RawFd,
    file: RawFd,
    offset: u64,
    count: u64,
    timeout: f64,
) -> PyResult<()> {
    let (mut offset, mut left) = (offset, count);
    drive(py, timeout, |until| {
        let before = left;
        let r = sys::sendfile_until(sock, file, &mut offset, &mut left, until);
        (r, left < before)
    })
}

/// Run one output `step` at a time with the GIL released, each bounded by a slice, until
/// it reports completion. `step` returns (done or error, progress made); the stall
/// deadline of `timeout` seconds moves on whenever a slice made progress, and signals
/// are checked between slices.
pub fn drive<F>(py: Python<'_>, timeout: f64, mut step: F) -> PyResult<()>
where
    F: FnMut(Instant) -> (io::Result<bool>, bool) + Send,
{
    let mut deadline = after(Instant::now(), timeout);
    loop {
        let until = deadline.min(Instant::now() + SLICE);
        let (r, progressed) = py.detach(|| step(until));
        if progressed {
            deadline = after(Instant::now(), timeout);
        }
        match r {
            Ok(true) => return Ok(()),
            Ok(false) => {
                py.check_signals()?;
                if Instant::now() >= deadline {
                    return Err(write_timeout());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => py.check_signals()?,
            Err(e) => return Err(e.into()),
        }
    }
}
