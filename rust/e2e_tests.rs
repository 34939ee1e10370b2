//! End-to-end tests run by `cargo test`: an embedded Python interpreter gets the `_core`
//! module and runs the checks in `e2e_tests.py`, which drive a real `Engine` and its
//! `RawRequest`s over loopback sockets (keep-alive, pipelining, bodies, 100-continue,
//! refusals with a smuggling canary, timeouts, idle connections).

use std::ffi::CString;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn run(test: &str) {
    Python::initialize();
    Python::attach(|py| {
        let module = MODULE.get_or_init(py, || pyo3::wrap_pymodule!(crate::_core)(py));
        let globals = PyDict::new(py);
        let code = CString::new(include_str!("e2e_tests.py")).expect("no NUL in the script");
        let r = globals
            .set_item("_core", module.bind(py))
            .and_then(|()| py.run(&code, Some(&globals), None))
            .and_then(|()| globals.get_item(test))
            .and_then(|f| {
                f.ok_or_else(|| pyo3::exceptions::PyNameError::new_err(test.to_string()))?.call0()
            });
        if let Err(e) = r {
            e.print(py);
            panic!("{test} failed: {e}");
        }
    });
}

macro_rules! e2e {
    ($($name:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            run(concat!("test_", stringify!($name)));
        })*
    };
}

e2e!(
    keepalive_and_pipelining,
    request_attributes,
    bodies_cl_and_chunked,
    stream_echo_reads_body_after_headers,
    head_204_304_and_http10_streaming,
    expect_continue,
    refusals_close_and_never_reach_the_canary,
    bad_chunk_raises_bad_request_error,
    header_validation_writes_nothing,
    timeouts,
    read_timeout_is_an_oserror,
    many_idle_connections_and_close_idle,
    close_idle_serves_a_waiting_request_and_half_closes_the_rest,
    draining_closes_after_the_running_request,
    refusals_are_queued_for_the_access_log,
    header_timeout_grows_with_min_rate_up_to_its_cap,
    body_min_rate_408_before_the_handler_and_timeout_error_in_it,
    send_file,
);
