//! Static plans: the engine answers repeats of a plain static-file request itself.
//!
//! Python decides, after its default handler sent a whole file with 200 on a route where
//! nothing else acts per request (no handler, access rule, rewrite, `.htaccess`, filter,
//! httpd module, TLS), that the same request will get the same answer while the file is
//! the same version; it gives the engine a plan: the file, its version, the headers it
//! sent and the access-log line with the parts that vary left as fields. The engine
//! serves a request from a plan only when it matches the plan's key exactly (local
//! address, `Host`, target) and carries nothing that could change the answer (a method
//! other than GET, HTTP/1.0, a body, `Expect`, a condition or a range); the file is
//! opened and its version (device, inode, size, mtime, ctime) compared with the plan's
//! each time, and any difference drops the plan and sends the request to Python. The
//! response goes out through the same `RawRequest` code as Python's (framing, keep-alive,
//! Date, Server), the log line with one write(2), as mod_log_config writes it.
//! Mechanism only: which requests get a plan is Python's decision (`httpd/staticplan.py`).

use std::collections::HashMap;
use std::ffi::CString;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use pyo3::prelude::*;

use crate::logbuf::LogWriter;
use crate::parse::{Framing, Head};
use crate::request::RawRequest;
use crate::sys::{self, FileVersion};

/// Plans kept per worker; Python bounds its own record to the same number.
pub const PLANS_MAX: usize = 4096;

/// Request headers whose presence may change the default handler's answer (conditions
/// and ranges: httpd's ap_meets_conditions and byterange filter).
const ANSWER_CHANGING: [&[u8]; 6] = [
    b"if-match",
    b"if-none-match",
    b"if-modified-since",
    b"if-unmodified-since",
    b"if-range",
    b"range",
];

/// One piece of an access-log line.
pub enum Piece {
    /// Rendered by Python from the request that made the plan (the same for every repeat).
    Text(Vec<u8>),
    /// `%h`, `%a`: the client's address.
    PeerIp,
    /// `%t`: the arrival second as `[10/Oct/2000:13:55:36 -0700]`, local time.
    ClfTime,
    /// `%{Name}i`: the first value of a request header, escaped; `-` when absent or empty.
    Header(Vec<u8>),
    /// `%b` (`-` for none) or `%B`/`%O`: body bytes sent.
    Bytes { dash_for_zero: bool },
}

/// One access log a planned request is written to.
pub struct LogLine {
    pub fd: RawFd,
    pub pieces: Vec<Piece>,
}

pub struct Plan {
    pub path: CString,
    pub version: FileVersion,
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub logs: Vec<LogLine>,
}

#[derive(Default)]
pub struct Plans {
    map: HashMap<Vec<u8>, Plan>,
    /// The key of the request being looked at (reused: no allocation per request).
    key: Vec<u8>,
    line: Vec<u8>,
    /// (second, its `%t` text)
    clf: (i64, Vec<u8>),
    pub served: u64,
    pub bytes: u64,
    /// The client and target of the last request answered (for the scoreboard).
    pub last: Option<(std::net::IpAddr, Vec<u8>)>,
}

/// The key of a request: target, Host (absent is not empty), the TLS connection's SNI name
/// (`None`: plain HTTP; `Some("")`: TLS without SNI) and local address.
pub fn push_key(
    out: &mut Vec<u8>,
    local: SocketAddr,
    host: Option<&[u8]>,
    target: &[u8],
    sni: Option<&str>,
) {
    out.clear();
    out.extend_from_slice(target);
    out.push(b' ');
    match host {
        Some(h) => push_sized(out, b'H', h),
        None => out.push(b'-'),
    }
    out.push(b' ');
    // mod_ssl answers 421 when Host names a host whose certificate is not the SNI one's: the
    // same Host under another SNI name may get another answer. Lower-cased, as mod_ssl
    // compares them.
    match sni {
        Some(name) => {
            push_sized(out, b'T', name.as_bytes());
            let at = out.len() - name.len();
            out[at..].make_ascii_lowercase();
        }
        None => out.push(b'P'),
    }
    out.push(b' ');
    match local {
        SocketAddr::V4(a) => out.extend_from_slice(&a.ip().octets()),
        SocketAddr::V6(a) => out.extend_from_slice(&a.ip().octets()),
    }
    out.extend_from_slice(&local.port().to_be_bytes());
}

/// `tag`, the length, then `bytes`: no value can spell the next part of another key.
fn push_sized(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Whether nothing in the request can make its answer differ from the plan's.
pub fn plain_get(head: &Head) -> bool {
    if head.method() != "GET" || head.proto_num != 1001 || head.expect_continue {
        return false;
    }
    let no_body = match head.framing {
        Framing::None => true,
        Framing::Length(n) => n == 0,
        Framing::Chunked => false,
    };
    no_body
        && !head.headers.iter().any(|(name, _)| {
            let name = head.bytes(name);
            ANSWER_CHANGING.iter().any(|h| name.eq_ignore_ascii_case(h))
        })
}

impl Plans {
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn insert(&mut self, key: Vec<u8>, plan: Plan) {
        if self.map.len() >= PLANS_MAX && !self.map.contains_key(&key) {
            self.map.clear();
        }
        self.map.insert(key, plan);
    }

    /// Whether the request `head` on a connection to `local` (over TLS with the SNI name
    /// `sni`, "" for none) has a plan (its key is kept for `serve`).
    pub fn select(&mut self, local: SocketAddr, head: &Head, sni: Option<&str>) -> bool {
        if !plain_get(head) {
            return false;
        }
        push_key(&mut self.key, local, head.header(b"host"), head.target().as_bytes(), sni);
        self.map.contains_key(&self.key)
    }

    /// Answer the selected request from its plan. False (nothing sent) when the file is
    /// gone or another version: the plan is dropped and the request goes to Python.
    pub fn serve(&mut self, py: Python<'_>, req: &mut RawRequest, logs: &mut LogWriter) -> bool {
        let Some(plan) = self.map.get(&self.key) else { return false };
        let file = match sys::open_read_c(&plan.path) {
            Ok(f) => f,
            Err(_) => {
                self.map.remove(&self.key);
                return false;
            }
        };
        if !matches!(sys::file_version(file.as_raw_fd()), Ok(Some(v)) if v == plan.version) {
            self.map.remove(&self.key);
            return false;
        }
        let size = plan.version.size;
        // A failed send closed the connection (as for Python's requests, whose access line
        // is still written): the line says what went out.
        let _ = req.send_file_body(
            py,
            file.as_raw_fd(),
            0,
            size,
            200,
            plan.reason.as_deref(),
            &plan.headers,
            true,
        );
        drop(file);
        let sent = req.bytes_sent_so_far();
        for log in &plan.logs {
            render(&mut self.line, &mut self.clf, &log.pieces, req, sent);
            logs.write(log.fd, &self.line);
        }
        self.served += 1;
        self.bytes += sent;
        let target = req.parsed_head().target().as_bytes();
        match &mut self.last {
            Some((ip, last)) => {
                *ip = req.peer().ip();
                last.clear();
                last.extend_from_slice(target);
            }
            None => self.last = Some((req.peer().ip(), target.to_vec())),
        }
        true
    }
}

/// The access line of `req` into `out` (its last text piece ends it with a newline).
fn render(
    out: &mut Vec<u8>,
    clf: &mut (i64, Vec<u8>),
    pieces: &[Piece],
    req: &RawRequest,
    sent: u64,
) {
    out.clear();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.extend_from_slice(t),
            Piece::PeerIp => {
                let _ = write!(out, "{}", req.peer().ip());
            }
            Piece::ClfTime => {
                let second = req.arrival() as i64;
                if clf.0 != second || clf.1.is_empty() {
                    *clf = (second, clf_time(second));
                }
                out.extend_from_slice(&clf.1);
            }
            Piece::Header(name) => match req.parsed_head().header(name) {
                Some(v) if !v.is_empty() => escape_into(out, v),
                _ => out.push(b'-'),
            },
            Piece::Bytes { dash_for_zero: true } if sent == 0 => out.push(b'-'),
            Piece::Bytes { .. } => {
                let _ = write!(out, "{sent}");
            }
        }
    }
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `[%d/%b/%Y:%H:%M:%S %z]` of `second` in local time (mod_log_config's `%t`; Python's
/// `time.strftime` of the same format in the C locale).
pub fn clf_time(second: i64) -> Vec<u8> {
    let Some((year, month, day, hour, minute, sec, offset)) = sys::local_time(second) else {
        return b"[-]".to_vec();
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs() / 60;
    let month = MONTHS[(month as usize).clamp(1, 12) - 1];
    format!(
        "[{day:02}/{month}/{year:04}:{hour:02}:{minute:02}:{sec:02} {sign}{:02}{:02}]",
        off / 60,
        off % 60
    )
    .into_bytes()
}

/// httpd's ap_escape_logitem over raw header bytes, as accesslog.escape does for their
/// Latin-1 text: printable ASCII stays; `"` and `\` are escaped; \n, \r, \t by name; any
/// other byte as `\xhh`.
pub fn escape_into(out: &mut Vec<u8>, value: &[u8]) {
    for &b in value {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(b),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_apache() {
        let mut out = Vec::new();
        escape_into(&mut out, b"a\"b\\c\n\r\t\x01\x7f\xe9 ok");
        assert_eq!(out, b"a\\\"b\\\\c\\n\\r\\t\\x01\\x7f\\xe9 ok".to_vec());
    }

    #[test]
    fn keys_tell_hosts_targets_and_addresses_apart() {
        let a: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:81".parse().unwrap();
        let key = |local, host: Option<&[u8]>, target: &[u8]| {
            let mut k = Vec::new();
            push_key(&mut k, local, host, target, None);
            k
        };
        assert_ne!(key(a, Some(b"x"), b"/f"), key(b, Some(b"x"), b"/f"));
        assert_ne!(key(a, Some(b""), b"/f"), key(a, None, b"/f"));
        assert_ne!(key(a, Some(b"x"), b"/f"), key(a, Some(b"y"), b"/f"));
        assert_ne!(key(a, Some(b"x"), b"/f"), key(a, Some(b"x"), b"/f?q"));
        assert_eq!(key(a, Some(b"x"), b"/f"), key(a, Some(b"x"), b"/f"));
    }

    #[test]
    fn keys_tell_plain_from_tls_and_sni_names_apart() {
        let a: SocketAddr = "127.0.0.1:443".parse().unwrap();
        let key = |sni: Option<&str>| {
            let mut k = Vec::new();
            push_key(&mut k, a, Some(b"a.test"), b"/f", sni);
            k
        };
        assert_ne!(key(None), key(Some("")));
        assert_ne!(key(Some("")), key(Some("a.test")));
        assert_ne!(key(Some("a.test")), key(Some("b.test")));
        assert_eq!(key(Some("A.Test")), key(Some("a.test")));
    }
}
