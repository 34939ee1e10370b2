//! The `prefork_modpy._core` extension module: registers the classes, the exception and
//! the helper functions. No logic lives here; see the module list below for who owns what.

mod body; // request-body state: buffered discard, keep-alive decision (pure Rust)
mod chunked; // strict incremental chunked-body decoder (pure Rust)
mod conn; // per-connection state machine, loans of connections to requests
mod deflate; // GzipStream: mod_deflate's gzip framing around zlib-rs (flate2)
mod engine; // Engine: epoll loop, accept, timeouts, keep-alive, pipelining
mod errors; // BadRequestError and error conversions
mod handoff; // hand-over of connections between workers while one is busy in Python
mod logbuf; // access-log writes, one at a time or gathered under BufferedLogs (mod_log_config)
mod parse; // request-head scanner/parser and framing decisions (pure Rust)
mod proxy; // PROXY protocol v1/v2 header of `Listen ... proxy-protocol` (pure Rust)
mod pyapi; // Limits, ParsedHead, parse_head, decode_chunked, http_date, openat2
mod pyio; // GIL-released blocking reads/writes with signal checks; latin-1 helpers
mod rawconn; // RawConnection: a connection handed whole to a PythonConnectionHandler
mod request; // RawRequest: body reading and response writing
mod response; // reason table, framing decision, header serialisation, Date cache (pure Rust)
mod staticplan; // repeats of a plain static-file request answered by the engine from Python's plan
mod sys; // every system call (accept, read/write, sendfile, poll, epoll, files), behind invariants
mod tls; // TLS on rustls (ring): SNI certificate choice, client certificates, sessions
mod x509; // certificate fields for mod_ssl's SSL_CLIENT_*/SSL_SERVER_* variables (x509-parser)

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Engine>()?;
    m.add_class::<request::RawRequest>()?;
    m.add_class::<rawconn::RawConnection>()?;
    m.add_class::<pyapi::ParsedHead>()?;
    m.add_class::<deflate::GzipStream>()?;
    m.add_class::<tls::TlsContext>()?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(pyapi::parse_head, m)?)?;
    m.add_function(wrap_pyfunction!(pyapi::decode_chunked, m)?)?;
    m.add_function(wrap_pyfunction!(pyapi::http_date, m)?)?;
    m.add_function(wrap_pyfunction!(pyapi::openat2, m)?)?;
    m.add_function(wrap_pyfunction!(x509::x509_fields, m)?)?;
    // The version is written once, in Cargo.toml (pyproject.toml takes it from there).
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("__build__", build_description())?;
    Ok(())
}

/// What `prefork-modpy --version` says of the engine: which machine it was built for, with
/// which profile, and against which Python C API (the stable ABI makes one wheel serve every
/// CPython from 3.9 on).
fn build_description() -> String {
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let api =
        if cfg!(feature = "abi3") { "stable ABI (abi3, CPython >= 3.9)" } else { "CPython ABI" };
    format!("{}-{} {profile}, {api}", std::env::consts::ARCH, std::env::consts::OS)
}

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod fuzz_tests;
