//! Python exceptions raised by the extension: `BadRequestError` (a `ValueError` subclass
//! carrying the HTTP `.status` to answer) and the conversions from parser refusals and
//! socket failures to Python errors.

use pyo3::exceptions::{PyOSError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;

use crate::parse::HttpError;

pyo3::create_exception!(
    prefork_modpy._core,
    BadRequestError,
    PyValueError,
    "Malformed request framing; `.status` is the HTTP status to answer."
);

/// `BadRequestError(msg)` with `.status` set on the instance.
pub fn bad_request(py: Python<'_>, e: HttpError) -> PyErr {
    let err = BadRequestError::new_err(e.msg);
    // Setting an attribute on a fresh exception instance cannot fail in practice; if it
    // did, the class attribute `status = 400` still answers.
    let _ = err.value(py).setattr("status", e.status);
    err
}

/// The read timeout of a request body (an OSError subclass, as mod_python raised).
pub fn read_timeout() -> PyErr {
    PyTimeoutError::new_err("Client read error (Timeout?)")
}

/// The write timeout of a response.
pub fn write_timeout() -> PyErr {
    PyTimeoutError::new_err("Client write error (Timeout?)")
}

/// The connection is no longer usable (closed, aborted or lost).
pub fn conn_gone() -> PyErr {
    PyOSError::new_err("connection closed")
}

/// Misuse of a RawRequest (wrong order of calls).
pub fn state_error(msg: &'static str) -> PyErr {
    PyValueError::new_err(msg)
}

/// Register the exception and its class-level default `.status`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let ty = py.get_type::<BadRequestError>();
    ty.setattr("status", 400)?;
    m.add("BadRequestError", ty)?;
    Ok(())
}
