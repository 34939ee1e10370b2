//! Response-side helpers (pure Rust, no Python): the reason-phrase table given by Python,
//! header validation (response splitting is refused), serialisation of the status line and
//! header block with the engine's Date / Server / framing / Connection fields, the refusal
//! responses around Python's error pages, and the IMF-fixdate `Date` value, cached and
//! refreshed at most once a second.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::parse::is_token;

pub const SERVER: &[u8] = b"prefork-modpy";

/// The status line's reason phrases, given by Python (httpd's table in
/// prefork_modpy/httpd/errorpages.py, its one definition) when the engine is built.
#[derive(Debug, Clone, Default)]
pub struct Reasons {
    /// Indexed by `status - 100`, for 100..=999.
    by_status: Vec<Option<Box<[u8]>>>,
}

/// Sent for a status the table has no phrase for.
const UNKNOWN_REASON: &[u8] = b"Unknown";

impl Reasons {
    /// A table from (status, phrase) pairs; a status outside 100-999 or a phrase with
    /// control characters is refused (it would break the status line).
    pub fn new(pairs: impl IntoIterator<Item = (u16, Vec<u8>)>) -> Result<Self, String> {
        let mut by_status = vec![None; 900];
        for (status, phrase) in pairs {
            if !(100..=999).contains(&status) {
                return Err(format!("status {status} is not three digits"));
            }
            if !valid_reason(&phrase) {
                return Err(format!("control character in the reason phrase of {status}"));
            }
            by_status[usize::from(status - 100)] = Some(phrase.into_boxed_slice());
        }
        Ok(Reasons { by_status })
    }

    /// The phrase for `status`; "Unknown" for a status without one.
    pub fn get(&self, status: u16) -> &[u8] {
        usize::from(status)
            .checked_sub(100)
            .and_then(|i| self.by_status.get(i))
            .and_then(|p| p.as_deref())
            .unwrap_or(UNKNOWN_REASON)
    }
}

/// field-value bytes: HTAB, SP, VCHAR, obs-text (no CR, LF, NUL or other controls).
pub fn valid_field_value(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
}

pub fn valid_field_name(n: &[u8]) -> bool {
    is_token(n)
}

/// Reason phrase: same alphabet as a field value.
pub fn valid_reason(r: &[u8]) -> bool {
    valid_field_value(r)
}

/// No body at all for these (RFC 9110 §6.4.1): HEAD, 1xx, 204, 304.
pub fn status_has_body(status: u16) -> bool {
    status >= 200 && status != 204 && status != 304
}

/// The framing the engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    Length(u64),
    Chunked,
    /// HTTP/1.0 streaming: the end of the body is the end of the connection.
    CloseDelimited,
    /// No framing header (HEAD/1xx/204/304 with no Content-Length to pass on).
    NoBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnHeader {
    None,
    Close,
    KeepAlive,
}

/// What decides a response's framing and its `Connection` field.
#[derive(Debug, Clone, Copy)]
pub struct FramingFacts {
    pub status: u16,
    pub is_head: bool,
    /// The request was HTTP/1.1 (chunked streaming, persistent by default).
    pub http11: bool,
    /// The connection cannot carry another request (client, handler, limits, draining or
    /// an unread body said so).
    pub must_close: bool,
    /// The whole body is at hand (`body_len` bytes); otherwise more follows.
    pub complete: bool,
    pub body_len: u64,
    /// The handler's own Content-Length, if it set one.
    pub handler_length: Option<u64>,
}

/// The framing decision for one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed {
    pub framing: BodyFraming,
    pub conn: ConnHeader,
    /// The connection closes after this response.
    pub close: bool,
    /// No body bytes are sent (HEAD, 1xx, 204, 304).
    pub no_body: bool,
}

/// Frame a response as httpd's core does (ap_set_keepalive, ap_http_header_filter): no
/// body for HEAD/1xx/204/304, but HEAD announces the length the GET would have (the
/// handler's Content-Length, else the body it produced when complete) and 304 keeps the
/// handler's; a complete body gets Content-Length (its real length, as
/// ap_content_length_filter sets it on seeing the end); a streamed one keeps the
/// handler's Content-Length (the sender enforces it), else is chunked on HTTP/1.1 and
/// close-delimited on HTTP/1.0 (which then cannot stay open). `Connection: close` when
/// closing, `keep-alive` when an HTTP/1.0 connection persists.
pub fn frame_response(f: &FramingFacts) -> Framed {
    let no_body = f.is_head || !status_has_body(f.status);
    let delimited_by_close = !f.complete && !no_body && f.handler_length.is_none();
    let close = f.must_close || (delimited_by_close && !f.http11);
    let framing = if no_body {
        match f.handler_length {
            Some(n) if f.is_head || f.status == 304 => BodyFraming::Length(n),
            _ if f.is_head && f.complete && status_has_body(f.status) => {
                BodyFraming::Length(f.body_len)
            }
            _ => BodyFraming::NoBody,
        }
    } else if f.complete {
        BodyFraming::Length(f.body_len)
    } else if let Some(n) = f.handler_length {
        BodyFraming::Length(n)
    } else if f.http11 {
        BodyFraming::Chunked
    } else {
        BodyFraming::CloseDelimited
    };
    let conn = if close {
        ConnHeader::Close
    } else if !f.http11 {
        ConnHeader::KeepAlive
    } else {
        ConnHeader::None
    };
    Framed { framing, conn, close, no_body }
}

/// Serialise a response head. `headers` must already be validated and free of framing
/// and Connection fields; Date and Server are added unless `headers` carries them.
pub fn serialize_head(
    status: u16,
    reason: &[u8],
    headers: &[(Vec<u8>, Vec<u8>)],
    framing: BodyFraming,
    conn: ConnHeader,
) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(256 + headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum::<usize>());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
    let has = |name: &[u8]| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has(b"date") {
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(&cached_date());
        out.extend_from_slice(b"\r\n");
    }
    if !has(b"server") {
        out.extend_from_slice(b"Server: ");
        out.extend_from_slice(SERVER);
        out.extend_from_slice(b"\r\n");
    }
    for (n, v) in headers {
        out.extend_from_slice(n);
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    match framing {
        BodyFraming::Length(n) => {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        BodyFraming::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        BodyFraming::CloseDelimited | BodyFraming::NoBody => {}
    }
    match conn {
        ConnHeader::Close => out.extend_from_slice(b"Connection: close\r\n"),
        ConnHeader::KeepAlive => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        ConnHeader::None => {}
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Whole response for a request the engine refuses itself: the status line, the page
/// (`text/html`, built by Python's errorpages) and `Connection: close`.
pub fn error_response(status: u16, reason: &[u8], page: &[u8]) -> Vec<u8> {
    let headers = vec![(b"Content-Type".to_vec(), b"text/html; charset=iso-8859-1".to_vec())];
    let mut out = serialize_head(
        status,
        reason,
        &headers,
        BodyFraming::Length(page.len() as u64),
        ConnHeader::Close,
    );
    out.extend_from_slice(page);
    out
}

/// Chunk header for `len` data bytes: hex size + CRLF.
pub fn chunk_header(len: usize) -> Vec<u8> {
    format!("{len:x}\r\n").into_bytes()
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// IMF-fixdate for whole seconds since the epoch (negative values allowed).
pub fn http_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Howard Hinnant's days-to-civil: (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

static DATE: Mutex<(i64, Vec<u8>)> = Mutex::new((i64::MIN, Vec::new()));

/// The current `Date` value, formatted at most once per second.
pub fn cached_date() -> Vec<u8> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let mut g = match DATE.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if g.0 != now {
        *g = (now, http_date(now).into_bytes());
    }
    g.1.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http_date(4_102_444_800), "Fri, 01 Jan 2100 00:00:00 GMT");
        assert_eq!(cached_date().len(), 29);
    }

    #[test]
    fn header_validation() {
        assert!(valid_field_name(b"X-Foo"));
        assert!(!valid_field_name(b""));
        assert!(!valid_field_name(b"X Foo"));
        assert!(!valid_field_name(b"X:Foo"));
        assert!(!valid_field_name(b"X\nFoo"));
        assert!(valid_field_value(b"a\tb c\xe9"));
        assert!(!valid_field_value(b"a\r\nSet-Cookie: x"));
        assert!(!valid_field_value(b"a\0"));
        assert!(!valid_field_value(b"a\x7f"));
        assert!(!valid_field_value(b"a\x01"));
    }

    #[test]
    fn head_serialisation() {
        let h = vec![(b"Content-Type".to_vec(), b"text/plain".to_vec())];
        let s = serialize_head(200, b"OK", &h, BodyFraming::Length(2), ConnHeader::Close);
        let s = String::from_utf8(s).unwrap();
        assert!(s.starts_with("HTTP/1.1 200 OK\r\nDate: "));
        assert!(s.contains("\r\nServer: prefork-modpy\r\n"));
        assert!(s.contains("\r\nContent-Type: text/plain\r\n"));
        assert!(s.ends_with("\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"));
        let s = serialize_head(200, b"OK", &[], BodyFraming::Chunked, ConnHeader::None);
        assert!(String::from_utf8(s).unwrap().ends_with("Transfer-Encoding: chunked\r\n\r\n"));
        let e = error_response(414, b"Request-URI Too Long", b"<p>long</p>");
        let e = String::from_utf8(e).unwrap();
        assert!(e.starts_with("HTTP/1.1 414 Request-URI Too Long\r\n"));
        assert!(e.contains("Connection: close\r\n"));
        let (head, body) = e.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert_eq!(body, "<p>long</p>");
        assert_eq!(chunk_header(255), b"ff\r\n");
    }

    /// One row per case of `frame_response`: (status, HEAD, HTTP/1.1, must close, complete,
    /// body length, handler's Content-Length) -> (framing, Connection, close, no body).
    #[test]
    fn framing_table() {
        use BodyFraming::{Chunked, CloseDelimited, Length, NoBody};
        use ConnHeader::{Close, KeepAlive, None as Plain};
        type Row = (
            (u16, bool, bool, bool, bool, u64, Option<u64>),
            (BodyFraming, ConnHeader, bool, bool),
        );
        let rows: &[Row] = &[
            // complete bodies: Content-Length, persistent unless told to close
            ((200, false, true, false, true, 5, None), (Length(5), Plain, false, false)),
            ((200, false, true, false, true, 5, Some(9)), (Length(5), Plain, false, false)),
            ((200, false, false, false, true, 5, None), (Length(5), KeepAlive, false, false)),
            ((200, false, true, true, true, 5, None), (Length(5), Close, true, false)),
            ((404, false, false, true, true, 0, None), (Length(0), Close, true, false)),
            // streamed bodies: chunked on 1.1, close-delimited (and closing) on 1.0
            ((200, false, true, false, false, 0, None), (Chunked, Plain, false, false)),
            ((200, false, true, true, false, 0, None), (Chunked, Close, true, false)),
            ((200, false, false, false, false, 0, None), (CloseDelimited, Close, true, false)),
            // streamed with the handler's Content-Length: kept, persistent on 1.0 and 1.1
            ((200, false, true, false, false, 0, Some(9)), (Length(9), Plain, false, false)),
            ((200, false, false, false, false, 0, Some(9)), (Length(9), KeepAlive, false, false)),
            ((200, false, false, true, false, 0, Some(9)), (Length(9), Close, true, false)),
            ((204, false, true, false, false, 0, Some(9)), (NoBody, Plain, false, true)),
            // HEAD: the handler's length, else the complete body's, else none
            ((200, true, true, false, true, 7, None), (Length(7), Plain, false, true)),
            ((200, true, true, false, true, 7, Some(42)), (Length(42), Plain, false, true)),
            ((200, true, true, false, false, 0, None), (NoBody, Plain, false, true)),
            ((200, true, false, false, false, 0, None), (NoBody, KeepAlive, false, true)),
            ((204, true, true, false, true, 7, None), (NoBody, Plain, false, true)),
            // 304 keeps the handler's length; 204 and 1xx never have one
            ((304, false, true, false, true, 0, Some(10)), (Length(10), Plain, false, true)),
            ((304, false, true, false, true, 0, None), (NoBody, Plain, false, true)),
            ((204, false, true, false, true, 0, Some(3)), (NoBody, Plain, false, true)),
            ((204, false, false, false, false, 0, None), (NoBody, KeepAlive, false, true)),
            ((103, false, true, false, true, 0, Some(3)), (NoBody, Plain, false, true)),
        ];
        for &((status, is_head, http11, must_close, complete, body_len, handler_length), want) in
            rows
        {
            let f = FramingFacts {
                status,
                is_head,
                http11,
                must_close,
                complete,
                body_len,
                handler_length,
            };
            let (framing, conn, close, no_body) = want;
            assert_eq!(frame_response(&f), Framed { framing, conn, close, no_body }, "{f:?}");
        }
    }

    #[test]
    fn reason_table() {
        let r = Reasons::new([(413, b"Request Entity Too Large".to_vec())]).unwrap();
        assert_eq!(r.get(413), b"Request Entity Too Large");
        assert_eq!(r.get(200), b"Unknown");
        assert_eq!(r.get(99), b"Unknown");
        assert_eq!(r.get(1000), b"Unknown");
        assert!(Reasons::new([(99, b"x".to_vec())]).is_err());
        assert!(Reasons::new([(200, b"O\r\nK".to_vec())]).is_err());
    }
}
